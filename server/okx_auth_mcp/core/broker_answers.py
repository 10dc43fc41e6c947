"""OKX's answers to the Broker endpoints, validated before use, and what of them a tool shows. Pure.

Each ``data`` item is a :class:`~okx_auth_mcp.core.records.Frozen` model of plain, bounded fields: names of
letters and digits, labels of those and spaces, ``.``, ``_``, ``-`` (at most 64), digits for UIDs and times,
permission words, IP addresses, fee rates as decimal numbers. Prose the server wrote never gets through, and a
field that does not fit is an error naming the field. What is shown masks what identifies an account (a UID:
``44****00``) or opens one (an API key: ``abcd****wxyz``).

A new key's answer (:class:`CreatedKey`) is stricter: every field OKX documents, and nothing else (an answer with
a field no one documented is not one to write into a config file); its secret key and passphrase are never in a
repr, and leave it only for the config writer, the one-time page or the recovery file.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field

from okx_auth_mcp.core.api_keys import mask_uid
from okx_auth_mcp.core.okx_profiles import mask
from okx_auth_mcp.core.records import Frozen

MAX_ITEMS = 1000
MAX_URL_LENGTH = 4096
FEE_TYPES = {
    "1": "SPOT and MARGIN, USDT pairs",
    "2": "SPOT and MARGIN, USDⓈ and crypto pairs",
    "3": "FUTURES, USDT-margined",
    "4": "FUTURES, USDC-margined",
    "5": "FUTURES, crypto-margined",
    "6": "SWAP, USDT-margined",
    "7": "SWAP, USDC-margined",
    "8": "SWAP, crypto-margined",
    "9": "OPTION",
}
"""The fee rate types as OKX's documentation lists them."""
ACCOUNT_LEVELS = {"1": "spot", "2": "spot and futures", "3": "multi-currency margin", "4": "portfolio margin"}
REBATE_REASONS = {
    "0": "the broker gets the rebate",
    "1": "the broker identification expired",
    "2": "the user is VIP4/5 and the monthly commission reached its limit",
    "3": "the user is VIP6 or above",
}


def _ip_words(value: str) -> str:
    for part in filter(None, value.split(",")):
        ipaddress.ip_address(part.strip())
    return value


def _bool_text(value: Any) -> Any:
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


def _url(value: str) -> str:
    if not value.startswith(("https://", "http://")) or "@" in value.split("/", 3)[2]:
        raise ValueError("must be an http(s) URL without credentials")
    return value


Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9*]{1,64}$")]
"""A sub-account name or a label (OKX masks some names with ``*`` in examples)."""
Label = Annotated[str, Field(pattern=r"^[A-Za-z0-9 _.-]{0,64}$")]
Digits = Annotated[str, Field(pattern=r"^[0-9]{1,32}$")]
Millis = Annotated[str, Field(pattern=r"^[0-9]{1,16}$")]
Optional_millis = Annotated[str, Field(pattern=r"^[0-9]{0,16}$")]
Perm = Annotated[str, Field(pattern=r"^(read_only|trade|withdraw)(,(read_only|trade|withdraw)){0,2}$")]
Ips = Annotated[str, Field(max_length=1024, pattern=r"^[0-9A-Fa-f.:,]*$"), AfterValidator(_ip_words)]
Rate = Annotated[str, Field(pattern=r"^-?[0-9]{1,4}(\.[0-9]{1,12})?$")]
Flag = Annotated[bool, BeforeValidator(_bool_text)]
PublicKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")]
Url = Annotated[str, Field(max_length=MAX_URL_LENGTH, pattern=r"^[\x21-\x7e]+$"), AfterValidator(_url)]


def _ms(value: str) -> int:
    return int(value)


class SubAccount(Frozen):
    subAcct: Name
    uid: Digits
    label: Label = ""
    acctLv: Literal["1", "2", "3", "4"]
    enable: Flag
    frozenFunc: tuple[Literal["trading", "convert", "transfer", "withdrawal", "deposit", "flexible_loan"], ...] = ()
    canTransOut: Flag = False
    mainAcct: Annotated[str, Field(pattern=r"^[A-Za-z0-9*]{0,64}$")] = ""
    ts: Millis

    def shown(self) -> dict[str, Any]:
        return {
            "sub_account": self.subAcct,
            "uid": mask_uid(self.uid),
            "label": self.label,
            "account_level": ACCOUNT_LEVELS[self.acctLv],
            "enabled": self.enable,
            "frozen_functions": list(self.frozenFunc),
            "can_transfer_out": self.canTransOut,
            "main_account": self.mainAcct or None,
            "created_ms": _ms(self.ts),
        }


class FeeRate(Frozen):
    type: Literal["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    maker: Rate
    taker: Rate


class SubAccountFees(Frozen):
    subAcct: Name
    uid: Digits
    mainAcct: Annotated[str, Field(pattern=r"^[A-Za-z0-9*]{0,64}$")] = ""
    ts: Millis
    feeRates: tuple[FeeRate, ...] = Field(max_length=64)

    def shown(self) -> dict[str, Any]:
        return {
            "sub_account": self.subAcct,
            "uid": mask_uid(self.uid),
            "main_account": self.mainAcct or None,
            "created_ms": _ms(self.ts),
            "fee_rates": [
                {"type": r.type, "applies_to": FEE_TYPES[r.type], "maker": r.maker, "taker": r.taker}
                for r in self.feeRates
            ],
        }


class Page(Frozen):
    """One page of a listing: ``details`` are validated by the caller, item by item."""

    details: tuple[dict[str, Any], ...] = Field(max_length=MAX_ITEMS)
    page: Digits
    totalPage: Digits


class SubAccountKey(Frozen):
    label: Label
    apiKey: PublicKey
    perm: Perm
    ip: Ips = ""
    ts: Millis

    def shown(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "api_key": mask(self.apiKey),
            "permissions": self.perm.split(","),
            "ip": [ip for ip in self.ip.split(",") if ip],
            "created_ms": _ms(self.ts),
        }


class CreatedKey(Frozen):
    """``POST /api/v5/broker/dma/subaccount/apikey``'s answer: all of it, nothing more."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    subAcct: Name
    label: Label
    apiKey: PublicKey
    secretKey: str = Field(min_length=8, max_length=256, pattern=r"^[\x21-\x7e]+$", repr=False)
    passphrase: str = Field(min_length=8, max_length=32, pattern=r"^[\x21-\x7e]+$", repr=False)
    perm: Perm
    ip: Ips = ""
    ts: Millis

    def shown(self) -> dict[str, Any]:
        """What the agent may see: the key masked, no secret."""
        return {
            "sub_account": self.subAcct,
            "label": self.label,
            "api_key": mask(self.apiKey),
            "permissions": self.perm.split(","),
            "ip": [ip for ip in self.ip.split(",") if ip],
            "created_ms": _ms(self.ts),
        }


class RebateLink(Frozen):
    fileHref: Url | Literal[""] = ""
    beginTime: Optional_millis = ""
    endTime: Optional_millis = ""
    cTime: Optional_millis = ""
    ts: Optional_millis = ""
    state: Literal["finished", "ongoing"]

    def shown(self, expires_ms: int) -> dict[str, Any]:
        return {
            "state": self.state,
            "download_link": self.fileHref or None,
            "link_expires_ms": expires_ms if self.fileHref else None,
            "begin_ms": int(self.beginTime) if self.beginTime else None,
            "end_ms": int(self.endTime) if self.endTime else None,
            "requested_ms": int(self.cTime) if self.cTime else None,
            "generated_ms": int(self.ts) if self.ts else None,
        }


class RebateGenerated(Frozen):
    result: Literal["true", "false"]
    ts: Millis


class IfRebate(Frozen):
    affiliated: Flag
    brokerCode: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{0,64}$")] = ""
    type: Literal["0", "1", "2", "3"]
    clientRebateRatio: Annotated[str, Field(pattern=r"^[0-9]{0,4}(\.[0-9]{0,12})?$")] = ""
    lastRebate: Annotated[str, Field(pattern=r"^[0-9]{0,16}(\.[0-9]{0,12})?$")] = ""

    def shown(self) -> dict[str, Any]:
        return {
            "broker_gets_rebate": self.type == "0",
            "reason": REBATE_REASONS[self.type],
            "broker_code": self.brokerCode or None,
            "affiliated": self.affiliated,
            "client_rebate_ratio": self.clientRebateRatio or None,
            "last_rebate": self.lastRebate or None,
        }
