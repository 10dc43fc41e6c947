"""OKX's error codes and what to do about each, in one place. Pure.

Only these texts, never the server's own ``msg``, reach a tool result: a message from the network could
carry a link or instructions that the agent would relay to the user.

Each code has a meaning (what happened), a next step (what to do) and a kind, which says how a caller
treats it: ``key_rejected`` (the API key itself is refused: replacing it, or removing it and switching to
OAuth, are the only remedies), ``clock`` (the request's time was refused: this computer's clock is off),
``site_host`` (the key does not exist on the host it was sent to), ``region`` (not available on the
configured site), ``session`` (the OAuth token is over), ``login`` (a device login ended), ``retry``
(OKX is busy or limiting: try again later), ``setup`` (the key or account needs a change at OKX),
``not_broker`` (a Broker endpoint refused an account that is not a broker of that kind), ``bug`` (a malformed
request: ours to fix).

The Broker codes (595xx, 596xx) are those of OKX's REST error table for sub-accounts and brokers.

53007 and 53008 are absent on purpose: OKX's published OAuth error table (53000-53017) has no such codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CodeKind = Literal[
    "key_rejected", "clock", "site_host", "region", "session", "login", "retry", "setup", "not_broker", "bug"
]

_BUG = "This is a bug in okx-auth-mcp; please report it."
_REPLACE_OR_OAUTH = (
    "Replace the API key (create a new one on OKX's API page), or remove the API-key profile and log in with OAuth."
)
_BROKER_PROFILE = (
    "Set OKX_AUTH_BROKER_PROFILE to the profile holding the broker (main) account's API key, created on the "
    "broker account itself."
)
_REGION = (
    "Check that the site in use (the profile's site, or the OAuth login's) is the one the OKX account was "
    "registered on (global, eea, us or tr)."
)


@dataclass(frozen=True)
class OkxCode:
    meaning: str
    next_step: str
    kind: CodeKind

    @property
    def text(self) -> str:
        """``meaning. next step``: the message for this code."""
        return f"{self.meaning}. {self.next_step}"


CODES: dict[str, OkxCode] = {
    # ----- general (REST API) ------------------------------------------------------------------------
    "50001": OkxCode("OKX's service is temporarily unavailable", "Retry in a few minutes.", "retry"),
    "50004": OkxCode(
        "The request timed out inside OKX (it may or may not have been processed)", "Retry in a moment.", "retry"
    ),
    "50011": OkxCode("Too many requests: OKX's rate limit was reached", "Wait a few seconds, then retry.", "retry"),
    "50013": OkxCode("OKX's systems are busy", "Retry in a few seconds.", "retry"),
    "50026": OkxCode("OKX had a system error", "Retry in a few minutes.", "retry"),
    "50061": OkxCode(
        "Too many requests or connections for this account", "Send fewer requests; retry in a few seconds.", "retry"
    ),
    "50014": OkxCode("A required parameter was empty", _BUG, "bug"),
    "51000": OkxCode("OKX refused a parameter of the request", _BUG, "bug"),
    # ----- the API key and the request's authentication ----------------------------------------------
    "50100": OkxCode("The API key is frozen or lacks a permission OKX requires", _REPLACE_OR_OAUTH, "key_rejected"),
    "50101": OkxCode(
        "The API key does not match this environment: a demo-trading key sent as live, or a live key sent as "
        "demo trading",
        "Set demo = true in the profile for a demo-trading key, demo = false for a live one.",
        "setup",
    ),
    "50102": OkxCode(
        "The request's timestamp expired: OKX accepts a request only within 30 seconds of its own clock",
        "Correct this computer's clock (turn on automatic time), then retry.",
        "clock",
    ),
    "50103": OkxCode("The request carried no OK-ACCESS-KEY header", _BUG, "bug"),
    "50104": OkxCode("The request carried no OK-ACCESS-PASSPHRASE header", _BUG, "bug"),
    "50105": OkxCode("The API key's passphrase is wrong", _REPLACE_OR_OAUTH, "key_rejected"),
    "50106": OkxCode("The request carried no OK-ACCESS-SIGN header", _BUG, "bug"),
    "50107": OkxCode("The request carried no OK-ACCESS-TIMESTAMP header", _BUG, "bug"),
    "50110": OkxCode(
        "This computer's IP address is not allowed for this API key (not in its IP allowlist), or the key expired",
        "Add this IP address to the key's allowlist on OKX's API page, or replace the key.",
        "setup",
    ),
    "50111": OkxCode("Invalid API key (OK-ACCESS-KEY)", _REPLACE_OR_OAUTH, "key_rejected"),
    "50112": OkxCode(
        "OKX refused the request's timestamp (OK-ACCESS-TIMESTAMP)",
        "Correct this computer's clock (turn on automatic time), then retry.",
        "clock",
    ),
    "50113": OkxCode(
        "Invalid signature: the secret key does not belong to this API key", _REPLACE_OR_OAUTH, "key_rejected"
    ),
    "50114": OkxCode("Invalid authorization", _REPLACE_OR_OAUTH, "key_rejected"),
    "50119": OkxCode(
        "The API key does not exist on this host: a key works only on the site where it was created",
        "Set the profile's site to the site where the key was created (global, eea, us or tr), with no base_url or "
        "that site's API host as base_url.",
        "site_host",
    ),
    # ----- region restrictions -----------------------------------------------------------------------
    "51155": OkxCode("This instrument or feature is not available on the configured site", _REGION, "region"),
    "51734": OkxCode(
        "This feature is not available on the configured site for the account's country", _REGION, "region"
    ),
    # ----- sub-accounts and brokers ------------------------------------------------------------------
    "59500": OkxCode("Only the main account's API key may do this", _BROKER_PROFILE, "setup"),
    "59501": OkxCode(
        "The sub-account has the most API keys OKX allows (50)",
        "Delete a key the sub-account no longer uses (broker_subaccount_api_keys lists them), then retry.",
        "setup",
    ),
    "59502": OkxCode(
        "Another API key of this sub-account has this label", "Choose another label for the new key.", "setup"
    ),
    "59503": OkxCode("An API key binds at most 20 IP addresses", _BUG, "bug"),
    "59504": OkxCode(
        "This sub-account cannot have the withdraw permission", "Create the key without withdraw.", "setup"
    ),
    "59505": OkxCode("OKX refused the new key's passphrase format", _BUG, "bug"),
    "59506": OkxCode("That API key does not exist", "Check the key (broker_subaccount_api_keys lists them).", "setup"),
    "59508": OkxCode("The sub-account is suspended", "Check the sub-account's status with OKX.", "setup"),
    "59510": OkxCode(
        "The sub-account does not exist, or is not one of this broker's",
        "Check its name: broker_subaccounts lists the broker's sub-accounts.",
        "setup",
    ),
    "59512": OkxCode(
        "OKX does not allow this permission for a broker's sub-accounts", "Create the key without it.", "setup"
    ),
    "59602": OkxCode("The number of API keys exceeds OKX's limit", "Delete a key no longer used, then retry.", "setup"),
    "59604": OkxCode("Only the main account's API key may use this endpoint", _BROKER_PROFILE, "not_broker"),
    "59605": OkxCode(
        "That API key is not one of this sub-account's",
        "Check the key and the sub-account (broker_subaccount_api_keys lists its keys).",
        "setup",
    ),
    "59608": OkxCode(
        "This profile's account is not a broker account: only a broker account may use OKX's Broker endpoints",
        _BROKER_PROFILE,
        "not_broker",
    ),
    "59610": OkxCode("OKX knows no broker for this account", _BROKER_PROFILE, "not_broker"),
    "59611": OkxCode("The broker is not verified yet", "Finish the broker's verification with OKX.", "not_broker"),
    "59615": OkxCode("The begin and end dates are more than 180 days apart", _BUG, "bug"),
    "59616": OkxCode("The begin date is after the end date", _BUG, "bug"),
    # ----- OAuth (OKX's published table) -------------------------------------------------------------
    "53000": OkxCode("Invalid token", "Log in again.", "session"),
    "53001": OkxCode("Authorization canceled", "Start the login again and approve it in the browser.", "login"),
    "53002": OkxCode("Token expired", "Log in again.", "session"),
    "53003": OkxCode("Token revoked", "Log in again.", "session"),
    "53004": OkxCode("Account has been frozen", "Contact OKX support.", "setup"),
    "53005": OkxCode("Wrong refresh token", "Log in again.", "session"),
    "53006": OkxCode("Invalid device", "Log in again from this device.", "session"),
    "53009": OkxCode("Authorization failed", "Start the login again.", "login"),
    "53010": OkxCode("A parameter was rejected", _BUG, "bug"),
    "53011": OkxCode("A required parameter was empty", _BUG, "bug"),
    "53012": OkxCode("Authorization code expired", "Start the login again.", "login"),
    "53013": OkxCode("You don't have permission to access this API", "Log in with the scopes it needs.", "setup"),
    "53014": OkxCode(
        "Invalid IP: the request came from an IP address this authorization does not allow",
        "Use it from an allowed network, or log in again from this one.",
        "setup",
    ),
    "53015": OkxCode("A parameter is too long", _BUG, "bug"),
    "53016": OkxCode("Invalid redirect_uri", _BUG, "bug"),
    "53017": OkxCode(
        "Fast API permissions not enabled for this account", "Enable Fast API for the account at OKX.", "setup"
    ),
}

UNKNOWN_CODE = "OKX refused the request with a code okx-auth-mcp does not know yet."


def describe_okx_code(code: str) -> str:
    """A clear message with a next step, for every code."""
    entry = CODES.get(code)
    return UNKNOWN_CODE if entry is None else entry.text


def code_kind(code: str) -> CodeKind | None:
    """How to treat ``code``; None for a code not in the table."""
    entry = CODES.get(code)
    return None if entry is None else entry.kind
