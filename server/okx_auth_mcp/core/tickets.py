"""Signed, expiring, versioned tickets that carry the gate between tool calls.

A ticket is ``okxg1.<payload>.<mac>``: the payload is base64url JSON ``{"v", "s" (state), "site", "iat",
"exp"}``, the mac base64url HMAC-SHA256 over ``okxg1.<payload>`` with the key kept in the state
directory. A ticket signed with another key (another state directory), altered in any byte, of another
version, or past its expiry is refused. Pure: the key and the time are passed in.

:func:`sign` and :func:`signed_payload` are the format without the gate: another kind of ticket (the removal
confirmations of ``core.profile_removal``) uses them with a prefix of its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from okx_auth_mcp.core.gate import Gate, State
from okx_auth_mcp.core.sites import site_id

VERSION = 1
PREFIX = f"okxg{VERSION}"
TICKET_TTL_SECONDS = 600
"""A site choice counts only "just now": ten minutes, as the issue and the device code lifetime agree."""
MAX_TICKET_LENGTH = 2048


class TicketError(Exception):
    """A ticket that cannot be used."""


class TicketInvalid(TicketError):
    """Not a ticket this server signed: malformed, altered, another key, or another version."""


class TicketExpired(TicketError):
    """A genuine ticket whose time is up."""


@dataclass(frozen=True)
class Ticket:
    gate: Gate
    issued_at: int
    expires_at: int
    id: str
    """The ticket's MAC: unique to it, so a ticket that started a login can be recorded as used."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, signed: str) -> str:
    return _b64(hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest())


def sign(key: bytes, prefix: str, payload: Mapping[str, Any]) -> str:
    """``<prefix>.<payload>.<mac>``: the payload as base64url JSON, the MAC over ``<prefix>.<payload>``. Each kind
    of ticket has its own ``prefix`` (kind and version), so one kind is never accepted as another."""
    signed = f"{prefix}.{_b64(json.dumps(payload, separators=(',', ':'), sort_keys=True).encode())}"
    return f"{signed}.{_mac(key, signed)}"


def signed_payload(key: bytes, prefix: str, ticket: str) -> tuple[dict[str, Any], str]:
    """The payload of a ticket :func:`sign` made with ``key`` and ``prefix``, and its MAC; :class:`TicketInvalid`
    for anything else (the payload's fields are the caller's to check)."""
    if len(ticket) > MAX_TICKET_LENGTH or not ticket.isascii():
        raise TicketInvalid("not a ticket this server issued")
    parts = ticket.strip().split(".")
    if len(parts) != 3 or parts[0] != prefix:
        raise TicketInvalid("not a ticket of this server's format")
    signed = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(key, signed), parts[2]):
        raise TicketInvalid(
            "the ticket's signature does not match (altered, issued before a logout, or from another state directory)"
        )
    try:
        payload = json.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise TicketInvalid("the ticket's contents are not understood") from exc
    if not isinstance(payload, dict):
        raise TicketInvalid("the ticket's contents are not understood")
    return payload, parts[2]


def issue(key: bytes, gate: Gate, now: float, ttl: int = TICKET_TTL_SECONDS, *, nonce: str = "") -> str:
    """A ticket for ``gate``. ``nonce`` (random, from the caller: this module has no randomness) makes two
    tickets for the same choice in the same second differ, so each has its own :attr:`Ticket.id`."""
    payload = {
        "v": VERSION,
        "s": gate.state.value,
        "site": gate.site,
        "iat": int(now),
        "exp": int(now) + ttl,
        "n": nonce,
    }
    return sign(key, PREFIX, payload)


def verify(key: bytes, ticket: str, now: float) -> Ticket:
    """The ticket's gate, or :class:`TicketInvalid` / :class:`TicketExpired`."""
    payload, mac = signed_payload(key, PREFIX, ticket)
    try:
        state = State(payload["s"])
        site = None if payload["site"] is None else site_id(payload["site"])
        issued_at, expires_at = int(payload["iat"]), int(payload["exp"])
        if payload["v"] != VERSION or (payload["site"] is not None and site is None):
            raise ValueError("version or site")
    except (ValueError, KeyError, TypeError) as exc:
        raise TicketInvalid("the ticket's contents are not understood") from exc
    if now >= expires_at:
        raise TicketExpired(f"the ticket expired {int(now - expires_at)} s ago")
    return Ticket(Gate(state, site), issued_at, expires_at, mac)
