from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okx_auth_mcp.core import tickets
from okx_auth_mcp.core.gate import Gate, State

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
NOW = 1_800_000_000.0


def test_a_ticket_carries_the_gate_until_it_expires() -> None:
    ticket = tickets.issue(KEY, Gate(State.SITE_CONFIRMED, "eea"), NOW)
    held = tickets.verify(KEY, ticket, NOW + 599)
    assert held.gate == Gate(State.SITE_CONFIRMED, "eea")
    assert held.expires_at - held.issued_at == 600
    with pytest.raises(tickets.TicketExpired):
        tickets.verify(KEY, ticket, NOW + 600)


def test_a_ticket_from_another_state_directory_is_invalid() -> None:
    ticket = tickets.issue(OTHER_KEY, Gate(State.SITE_CONFIRMED, "eea"), NOW)
    with pytest.raises(tickets.TicketInvalid, match="another state directory"):
        tickets.verify(KEY, ticket, NOW)


@given(st.data())
def test_changing_any_character_invalidates_the_ticket(data: st.DataObject) -> None:
    ticket = tickets.issue(KEY, Gate(State.SITE_CONFIRMED, "us"), NOW)
    index = data.draw(st.integers(0, len(ticket) - 1))
    replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != ticket[index]))
    tampered = ticket[:index] + replacement + ticket[index + 1 :]
    with pytest.raises(tickets.TicketInvalid):
        tickets.verify(KEY, tampered, NOW)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _forge(payload: dict[str, object]) -> str:
    """A ticket signed with KEY as the server signs one (HMAC-SHA256, base64url without padding), whatever it
    holds."""
    signed = f"{tickets.PREFIX}.{_b64(json.dumps(payload).encode())}"
    return f"{signed}.{_b64(hmac.new(KEY, signed.encode('ascii'), hashlib.sha256).digest())}"


def test_a_forged_ticket_with_contents_we_issue_is_valid() -> None:
    # So the refusals below are for the contents, not for a signature the forger got wrong.
    forged = _forge({"v": 1, "s": "site_confirmed", "site": "eea", "iat": NOW, "exp": NOW + 60})
    assert tickets.verify(KEY, forged, NOW).gate == Gate(State.SITE_CONFIRMED, "eea")


@pytest.mark.parametrize(
    "payload",
    [
        {"v": 2, "s": "site_confirmed", "site": "eea", "iat": NOW, "exp": NOW + 60},
        {"v": 1, "s": "nonsense", "site": "eea", "iat": NOW, "exp": NOW + 60},
        {"v": 1, "s": "site_confirmed", "site": "mars", "iat": NOW, "exp": NOW + 60},
        {"v": 1, "s": "site_confirmed", "site": "eea"},
    ],
)
def test_a_well_signed_ticket_with_contents_we_never_issue_is_invalid(payload: dict[str, object]) -> None:
    with pytest.raises(tickets.TicketInvalid):
        tickets.verify(KEY, _forge(payload), NOW)


@pytest.mark.parametrize("junk", ["", "x", "okxg1..", "okxg1.a.b.c", "a" * 5000, "okxg0.e30.xx"])
def test_junk_is_invalid(junk: str) -> None:
    with pytest.raises(tickets.TicketInvalid):
        tickets.verify(KEY, junk, NOW)
