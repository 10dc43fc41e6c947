"""Minting a sub-account API key only when the user said so: the request the user is asked about, the
confirmation ticket that carries it between calls, and the replies that confirm. Pure: the key, the time and the
nonce come in (``login.broker_keys`` asks, mints and stores).

A ticket is ``okxb1.<payload>.<mac>`` (``core.tickets``' format with a prefix of its own: no other ticket is
taken for one), signed with the state directory's ticket key, for ten minutes and one answer (a "no" spends it as
a "yes" does). It holds the whole request (:class:`KeyRequest`: the broker profile, the sub-account, the label,
the permissions, the IPs, where the secret goes and the profile it is saved as) and the stage of the question:

1. ``create``: the question names the sub-account, the permissions, the IPs, where the secret goes, and warns
   when a key that can trade or withdraw has no IP allowlist (OKX deletes it after 14 days without use). Only
   ``yes`` or ``是`` confirms.
2. ``withdraw``, only for a key with the ``withdraw`` permission, asked after a yes to the first: a question of its
   own about withdrawals alone, confirmed only by ``withdraw`` or ``提币``. A yes to the first question is never a
   yes to this one.

The request minted is always the ticket's, never the caller's: arguments passed with a ticket are not read,
but the sub-account, which must be the ticket's. The ticket is bound to the broker profile as it was asked with
(:func:`broker_digest` of its key, site, demo flag and API host): a profile changed since (a demo key become a
live one) voids it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from okx_auth_mcp.core import broker_rules, tickets
from okx_auth_mcp.core.profile_removal import confirms

VERSION = 1
PREFIX = f"okxb{VERSION}"
CONFIRMATION_TTL_SECONDS = 600
Stage = Literal["create", "withdraw"]
Delivery = Literal["config", "page"]


class KeyConfirmationInvalid(tickets.TicketInvalid):
    """Not a key confirmation this server issued, or one passed without the user's reply."""


class KeyConfirmationMismatch(tickets.TicketInvalid):
    """A genuine key confirmation, for another request than the one it is passed with."""


class KeyConfirmationUsed(tickets.TicketInvalid):
    """A key confirmation answered already (yes or no)."""


class KeyConfirmationExpired(tickets.TicketExpired):
    """A genuine key confirmation whose ten minutes are up."""


@dataclass(frozen=True)
class KeyRequest:
    """One sub-account key, as the user is asked about it (every field checked by ``core.broker_rules``)."""

    broker_profile: str
    sub_acct: str
    label: str
    perm: tuple[str, ...]
    ip: tuple[str, ...]
    deliver: Delivery
    profile: str
    """The config profile the secret is saved as (``deliver="config"``)."""
    replace: bool
    """Whether a profile of that name exists and is replaced (the question says so)."""
    broker: str = ""
    """:func:`broker_digest` of the broker profile the question was asked with."""

    @classmethod
    def checked(
        cls,
        broker_profile: str,
        sub_acct: str,
        label: str,
        perm: str | Sequence[str] | None,
        ip: str | Sequence[str] | None,
        deliver: Delivery,
        *,
        replace: bool = False,
    ) -> KeyRequest:
        perms, ips = broker_rules.permissions(perm), broker_rules.ip_list(ip)
        name = broker_rules.sub_profile_name(sub_acct, label)
        return cls(broker_profile, sub_acct, label, perms, ips, deliver, name, replace)

    @property
    def withdraw(self) -> bool:
        return "withdraw" in self.perm

    def expires_unused(self, demo: bool) -> bool:
        """A live key that can trade or withdraw with no IP allowlist: OKX deletes it after 14 days unused (a demo
        key never)."""
        return not demo and not self.ip and ("trade" in self.perm or "withdraw" in self.perm)

    def body(self, passphrase: str) -> dict[str, str]:
        """The POST body OKX takes (``ip`` only when there is an allowlist)."""
        body = {"subAcct": self.sub_acct, "label": self.label, "passphrase": passphrase, "perm": ",".join(self.perm)}
        if self.ip:
            body["ip"] = ",".join(self.ip)
        return body


@dataclass(frozen=True)
class Confirmation:
    request: KeyRequest
    stage: Stage
    expires_at: int
    id: str
    """The ticket's MAC: once answered, spent."""


def issue(key: bytes, request: KeyRequest, stage: Stage, now: float, *, nonce: str) -> str:
    payload = {
        "v": VERSION,
        "b": request.broker_profile,
        "s": request.sub_acct,
        "l": request.label,
        "p": list(request.perm),
        "i": list(request.ip),
        "d": request.deliver,
        "r": request.replace,
        "t": request.broker,
        "w": stage,
        "iat": int(now),
        "exp": int(now) + CONFIRMATION_TTL_SECONDS,
        "n": nonce,
    }
    return tickets.sign(key, PREFIX, payload)


def verify(key: bytes, ticket: str, now: float, *, broker_profile: str, sub_acct: str | None = None) -> Confirmation:
    """The confirmation ``ticket`` holds; it must be for the broker profile in use (and for ``sub_acct``, when the
    caller names one)."""
    try:
        payload, mac = tickets.signed_payload(key, PREFIX, ticket)
    except tickets.TicketInvalid as exc:
        raise KeyConfirmationInvalid(f"this is not a key confirmation this server issued: {exc}") from None
    try:
        if (
            payload["v"] != VERSION
            or payload["w"] not in ("create", "withdraw")
            or payload["d"] not in ("config", "page")
        ):
            raise ValueError("version, stage or delivery")
        request = KeyRequest.checked(
            str(payload["b"]), str(payload["s"]), str(payload["l"]), [str(p) for p in payload["p"]],
            [str(i) for i in payload["i"]],
            payload["d"], replace=bool(payload["r"]),
        )  # fmt: skip
        held = Confirmation(replace(request, broker=str(payload["t"])), payload["w"], int(payload["exp"]), mac)
    except (ValueError, KeyError, TypeError, broker_rules.BrokerArgumentError) as exc:
        raise KeyConfirmationInvalid("the key confirmation's contents are not understood") from exc
    if now >= held.expires_at:
        raise KeyConfirmationExpired(f"the key confirmation expired {int(now - held.expires_at)} s ago")
    if request.broker_profile != broker_profile:
        raise KeyConfirmationMismatch("this confirmation was asked with another broker profile")
    if sub_acct is not None and request.sub_acct != sub_acct:
        raise KeyConfirmationMismatch("this confirmation is for a key of another sub-account")
    return held


def broker_digest(key: bytes, api_key: str, site: str, demo: bool, base_url: str) -> str:
    """What a ticket holds of the broker profile: keyed (the ticket, which the agent sees, is no test of a guess at
    the key), over its API key, site, demo flag and API host."""
    text = "\n".join(("okxb-broker", api_key, site, "demo" if demo else "live", base_url))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def confirms_withdraw(reply: str) -> bool:
    """Only ``withdraw`` (ASCII, any case) or ``提币``, whitespace trimmed, allows withdrawals."""
    answer = reply.strip()
    return answer == "提币" or (answer.isascii() and answer.lower() == "withdraw")


def confirms_stage(stage: Stage, reply: str) -> bool:
    return confirms_withdraw(reply) if stage == "withdraw" else confirms(reply)


ANSWER_TITLE = "Create this API key? / 创建此 API Key？"
ANSWER_CHOICES = (("yes", "Yes, create it / 是，创建"), ("no", "No / 否"))
WITHDRAW_TITLE = "Allow withdrawals with this key? / 允许此 Key 提币？"
WITHDRAW_CHOICES = (("withdraw", "Yes, allow withdrawals / 允许提币"), ("no", "No, create nothing / 否，不创建"))
