"""What the sandbox keeps for OKX's Broker endpoints (:mod:`~okx_auth_mcp.sandbox.broker_routes`): a DMA
broker's sub-accounts (with their fee rates and the API keys created for them), an FD broker's rebate reports
and what ``if-rebate`` answers, and the rate limits OKX documents for each route.

A broker is an account whose key has :attr:`~okx_auth_mcp.sandbox.state.SandboxApiKey.broker` set; what it owns
is bound to that key's ``uid``, so every key of one broker account sees the same sub-accounts and reports. The
state itself (:class:`~okx_auth_mcp.sandbox.state.SandboxState`) holds these under its lock.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


def default_fee_rates() -> list[dict[str, str]]:
    """The nine fee types of OKX's example answer (1 spot USDT pairs ... 9 options), with its rates."""
    rates = [("1", "-0.0008", "-0.001"), ("2", "-0.0005", "-0.0007")]
    rates += [(str(n), "-0.0002", "-0.0005") for n in range(3, 9)] + [("9", "-0.0002", "-0.0003")]
    return [{"type": kind, "maker": maker, "taker": taker} for kind, maker, taker in rates]


DEFAULT_IF_REBATE: dict[str, Any] = {
    "affiliated": False,
    "brokerCode": "SBXBROKER0000CDE",
    "type": "0",
    "clientRebateRatio": "0",
    "lastRebate": "",
}
"""What ``GET /api/v5/broker/fd/if-rebate`` answers for a user key ``SandboxState.if_rebate`` does not hold."""

RATE_LIMITS: dict[str, tuple[int, float]] = {
    "broker_subaccounts": (1, 1.0),
    "broker_fee_rates": (1, 1.0),
    "broker_create_key": (40, 1.0),
    "broker_keys": (1, 1.0),
    "broker_rebate_links": (2, 60.0),
    "broker_rebate_generate": (1, 3600.0),
    "broker_if_rebate": (2, 1.0),
}
"""Requests per window of seconds each route takes from one broker account (OKX's rule: by UserID)."""

REBATE_LINK_TTL = 2 * 3600
"""A download link is valid for 2 hours after the request that returned it (OKX: every request refreshes it)."""


@dataclass(frozen=True)
class SubAccountKey:
    """An API key created for a sub-account, as the query endpoint lists it (its secret is in ``api_keys``)."""

    label: str
    api_key: str
    perm: str
    ip: str
    ts_ms: int

    def listed(self) -> dict[str, str]:
        return {"label": self.label, "apiKey": self.api_key, "perm": self.perm, "ip": self.ip, "ts": str(self.ts_ms)}


@dataclass
class SandboxSubAccount:
    """A DMA broker's sub-account: what ``subaccount-info`` and ``subaccount-trade-fee`` say of it."""

    sub_acct: str
    uid: str
    owner_uid: str
    """The broker account's uid (its keys' ``uid``): only its keys see and manage this sub-account."""
    label: str = ""
    acct_lv: str = "1"
    enable: bool = True
    frozen_func: tuple[str, ...] = ()
    can_trans_out: bool = False
    main_acct: str = ""
    ts_ms: int = 0
    fee_rates: list[dict[str, str]] = field(default_factory=default_fee_rates)
    """``{"type", "maker", "taker"}`` items, as answered; a test may set its own."""
    keys: list[SubAccountKey] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        """The item ``subaccount-info`` lists (the full name and uid: the broker sees its own accounts)."""
        return {
            "acctLv": self.acct_lv,
            "canTransOut": self.can_trans_out,
            "mainAcct": self.main_acct,
            "enable": self.enable,
            "frozenFunc": list(self.frozen_func),
            "label": self.label,
            "subAcct": self.sub_acct,
            "ts": str(self.ts_ms),
            "uid": self.uid,
        }

    def fees(self) -> dict[str, Any]:
        """The item ``subaccount-trade-fee`` lists."""
        rates = [dict(rate) for rate in self.fee_rates]
        return {
            "feeRates": rates,
            "mainAcct": self.main_acct,
            "subAcct": self.sub_acct,
            "ts": str(self.ts_ms),
            "uid": self.uid,
        }


@dataclass(frozen=True)
class RebateReport:
    """A rebate details report an FD broker asked for (``POST rebate-per-orders``): the range of days
    ``begin``..``end`` (``YYYYMMDD``, both included), first requested at ``c_time_ms``."""

    owner_uid: str
    begin: str
    end: str
    c_time_ms: int
    file_name: str = field(default_factory=lambda: f"{secrets.token_hex(12)}.xls")


def day_start_ms(day: str, days_after: int = 0) -> int:
    """Midnight UTC of ``day`` (``YYYYMMDD``) plus ``days_after`` days, in Unix milliseconds."""
    start = datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC) + timedelta(days=days_after)
    return int(start.timestamp() * 1000)


def new_key_pair() -> tuple[str, str]:
    """A new apiKey (uuid4-shaped) and secretKey (32 upper-case hex digits), as OKX's look."""
    return str(uuid.uuid4()), secrets.token_hex(16).upper()
