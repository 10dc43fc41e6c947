"""The one place where the errors of every layer are translated: each known failure has a stable code and a
next step, worded for an agent (:func:`error_text`, ``[code] what happened. Next: what to do``, which
``mcp.boundary`` wraps in an error result) and for a person at a terminal (:func:`terminal_line`, our own
wording, which names commands instead of tools). Pure: no MCP, no I/O."""

from __future__ import annotations

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.api_keys import ClockSkew, ProfileUnusable, RegionRestricted, SessionRejected, SiteHostMismatch
from okx_auth_mcp.core.broker_confirmation import (
    KeyConfirmationExpired,
    KeyConfirmationInvalid,
    KeyConfirmationMismatch,
    KeyConfirmationUsed,
)
from okx_auth_mcp.core.broker_rules import (
    BrokerArgumentError,
    BrokerNotEnabled,
    BrokerProfileUnusable,
    KeyAnswerUnfit,
    KeyNotSaved,
    KeyOutcomeUnknown,
    NotBroker,
    RateLimited,
    WithdrawNotConfirmed,
)
from okx_auth_mcp.core.gate import GateRefused
from okx_auth_mcp.core.oauth_errors import (
    BadResponse,
    DiscoveryFailed,
    NetworkError,
    OAuthError,
    OkxError,
    PhishingGuard,
)
from okx_auth_mcp.core.okx_cli_output import OkxAuthMissing, OkxCliError, OkxCliMissing, OkxCliTimeout, OkxCliTooOld
from okx_auth_mcp.core.okx_config_edit import ConfigChanged, NoSuchProfile, ProfileExists
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.core.profile_removal import (
    ConfirmationExpired,
    ConfirmationInvalid,
    ConfirmationMismatch,
    ConfirmationUsed,
    EnvProfile,
    InvalidProfileName,
)
from okx_auth_mcp.core.replies import LOGIN_COMMAND
from okx_auth_mcp.core.tickets import TicketError, TicketExpired, TicketInvalid
from okx_auth_mcp.edges.secret_store import KeyringError, KeyringLocked
from okx_auth_mcp.edges.state_store import StoreError, StoreLockTimeout
from okx_auth_mcp.login.errors import (
    AlreadyLoggedIn,
    BackendUnsupported,
    FlowError,
    PendingElsewhere,
    ReplyMissing,
    ReplyNotUnderstood,
    SiteMismatch,
    SiteNotChosen,
    SiteNotConfirmed,
    TicketUsed,
)

_RESTART = (
    "Next: call preflight, show its reply (the site menu) to the user verbatim, wait for their answer, pass it "
    "to choose_site, then call auth_login_manual with the site and site_ticket that choose_site returned."
)

_ASK_AGAIN = (
    "Nothing was removed. Next: only if the user still wants it removed, call remove_api_key_profile again with "
    "`profile` and `lang` alone, show its question to the user verbatim, and pass their own reply with the new "
    "confirmation_ticket; never answer for them."
)

_ASK_KEY_AGAIN = (
    "Nothing was created. Next: only if the user still wants the key, call broker_create_subaccount_api_key again "
    "with the same arguments and no ticket, show its question verbatim, and pass the user's own reply with the new "
    "confirmation_ticket; never answer for them."
)
_BROKER_SETUP = (
    "Next: tell the user; they set OKX_AUTH_BROKER_PROFILE to the config profile holding the broker (main) "
    "account's API key (okx-auth-mcp config init saves one) and restart the server."
)

_SHOW_AND_CHECK = "Next: show this to the user verbatim; do not retry before they checked."

_BROKER: list[tuple[type[Exception], str, str]] = [
    (KeyConfirmationExpired, "confirmation_expired", "The user's confirmation is too old to count. " + _ASK_KEY_AGAIN),
    (KeyConfirmationMismatch, "confirmation_mismatch", _ASK_KEY_AGAIN),
    (KeyConfirmationUsed, "confirmation_used", _ASK_KEY_AGAIN),
    (KeyConfirmationInvalid, "confirmation_invalid", "Pass the ticket exactly as returned. " + _ASK_KEY_AGAIN),
    (
        BrokerArgumentError,
        "invalid_arguments",
        "Next: correct the parameter named (the rule is given) and call again; never guess a value the user did not "
        "give.",
    ),
    (BrokerNotEnabled, "broker_not_configured", _BROKER_SETUP),
    (BrokerProfileUnusable, "broker_profile_unusable", _BROKER_SETUP),
    (NotBroker, "not_broker", "Nothing was changed. " + _BROKER_SETUP),
    (RateLimited, "rate_limited", "Next: wait the time named, then call once more; do not retry in a loop."),
    (WithdrawNotConfirmed, "withdraw_not_confirmed", "Nothing was created. " + _ASK_KEY_AGAIN),
    (KeyAnswerUnfit, "key_answer_unfit", _SHOW_AND_CHECK),
    (KeyOutcomeUnknown, "key_outcome_unknown", _SHOW_AND_CHECK),
    (KeyNotSaved, "key_not_saved", "Next: show this to the user verbatim."),
    (
        ProfileExists,
        "profile_exists",
        "Nothing was created or changed. Next: ask again (the question then says it replaces that profile), or choose "
        "another label.",
    ),
]

_NEXT: list[tuple[type[Exception], str, str]] = [
    *_BROKER,
    (SiteNotConfirmed, "site_not_confirmed", _RESTART),
    (
        SiteMismatch,
        "site_mismatch",
        "Next: call auth_login_manual with exactly the site choose_site returned with this ticket. Never "
        "substitute another site; if the user wants another one, show the menu again (preflight).",
    ),
    (
        SiteNotChosen,
        "site_not_chosen",
        "Nothing was confirmed and no login started. Next: do not log in and never pick a site yourself; ask "
        "the user what they want to do.",
    ),
    (
        GateRefused,
        "gate_refused",
        "Nothing was changed. Next: start again with preflight and follow its `next` step by step.",
    ),
    (ConfirmationExpired, "confirmation_expired", "The user's confirmation is too old to count. " + _ASK_AGAIN),
    (ConfirmationMismatch, "confirmation_mismatch", _ASK_AGAIN),
    (ConfirmationUsed, "confirmation_used", _ASK_AGAIN),
    (ConfirmationInvalid, "confirmation_invalid", "Pass the confirmation_ticket exactly as returned. " + _ASK_AGAIN),
    (ConfigChanged, "config_changed", _ASK_AGAIN),
    (
        NoSuchProfile,
        "no_such_profile",
        "Nothing was removed. Next: pass the profile exactly as preflight or verify_credentials named it; if there "
        "is no such profile, there is nothing to remove (call preflight).",
    ),
    (
        InvalidProfileName,
        "invalid_profile_name",
        "Nothing was removed. Next: pass the profile exactly as preflight or verify_credentials named it.",
    ),
    (
        EnvProfile,
        "env_profile",
        "Nothing was removed. Next: tell the user this API key comes from the environment variables OKX_API_KEY, "
        "OKX_SECRET_KEY and OKX_PASSPHRASE: only they can remove it, by unsetting them where they are set (their "
        "shell, or this server's env in the MCP client's configuration) and restarting the server.",
    ),
    (TicketExpired, "ticket_expired", "The site choice is too old to count. " + _RESTART),
    (
        TicketUsed,
        "ticket_used",
        "No new login was started: a site choice starts one login (preflight shows it while it is pending). "
        + _RESTART,
    ),
    (TicketInvalid, "ticket_invalid", "Pass tickets exactly as the tools returned them. " + _RESTART),
    (
        PendingElsewhere,
        "login_pending",
        "Next: ask the user to finish the pending login (preflight shows its link and code again), or call "
        "logout and start again with preflight if they want another site.",
    ),
    (
        AlreadyLoggedIn,
        "already_logged_in",
        "Next: the user is logged in already (auth_status shows the site). Only if they want to switch, call "
        "logout first, then start again with preflight.",
    ),
    (DiscoveryFailed, "discovery_failed", "Next: tell the user; check OKX_OAUTH_ISSUER and the network."),
    (
        NetworkError,
        "network_error",
        "Next: tell the user the network failed; check the connection or proxy and retry.",
    ),
    (
        PhishingGuard,
        "phishing_guard",
        "The login was refused and no link or code was shown. Next: tell the user the authorization server "
        "returned an untrusted link; do not retry and do not show any link from elsewhere.",
    ),
    (OkxError, "okx_error", "Next: tell the user OKX refused the request, with the code and what it means."),
    (BadResponse, "bad_response", "Next: tell the user the OKX server answered unexpectedly; retry later."),
    (OAuthError, "oauth_error", "Next: tell the user the OKX authorization server refused the request; retry later."),
    (
        ConfigError,
        "config_error",
        "Next: show this to the user; they fix ~/.okx/config.toml (it was not changed).",
    ),
    (
        StoreLockTimeout,
        "state_busy",
        "Nothing was changed. Next: retry in a minute; if it says the same, tell the user to end the process "
        "named above.",
    ),
    (
        KeyringLocked,
        "keyring_locked",
        "Nothing was changed. Next: tell the user to unlock their login keyring (the desktop's keyring prompt, "
        "or the Passwords and Keys app; macOS: Keychain Access), then try again.",
    ),
    (
        KeyringError,
        "storage_unavailable",
        "Nothing was written. Next: show this to the user; on Linux a Secret Service (gnome-keyring, KeePassXC) "
        "in the desktop session stores the tokens, or OKX_AUTH_STORAGE=file keeps them in the 0600 state file.",
    ),
    (StoreError, "state_error", "Next: show this to the user."),
    (
        OkxAuthMissing,
        "okx_auth_missing",
        "Next: tell the user to run `okx auth install` (it downloads the okx-auth binary), then try again.",
    ),
    (
        OkxCliMissing,
        "okx_cli_missing",
        "Next: tell the user to install OKX's CLI (npm install -g @okx_ai/okx-trade-cli) or set "
        "OKX_AUTH_BACKEND=native.",
    ),
    (
        OkxCliTooOld,
        "okx_cli_too_old",
        f"Next: tell the user to upgrade OKX's CLI ({texts.OKX_CLI_UPGRADE}), or to set OKX_AUTH_BACKEND=native "
        "(or auto) so that this server logs in with its own OAuth client.",
    ),
    (OkxCliTimeout, "okx_cli_timeout", "Next: tell the user OKX's CLI did not answer in time; retry later."),
    (
        OkxCliError,
        "okx_cli_error",
        "Next: tell the user OKX's CLI failed; they can run the same okx command themselves to see why.",
    ),
    (
        BackendUnsupported,
        "backend_unsupported",
        "Next: tell the user; with OKX's CLI as the backend, use okx's own commands for this.",
    ),
    (
        ProfileUnusable,
        "profile_unusable",
        "Nothing was sent to OKX. Next: show this to the user; they fix the profile in ~/.okx/config.toml (or the "
        "OKX_* environment variables), then call verify_credentials again.",
    ),
    (
        ClockSkew,
        "clock_skew",
        "Next: tell the user their computer's clock is off; they turn on automatic time (network time sync), then "
        "call verify_credentials again. The credentials may be fine: replacing them or logging in again does not "
        "help.",
    ),
    (
        SiteHostMismatch,
        "site_host_mismatch",
        "Next: show this to the user; they set the profile's site (and base_url, if any) to where the key was "
        "created, in ~/.okx/config.toml (OKX_SITE / OKX_API_BASE_URL for a key from the environment), then call "
        "verify_credentials again. Do not start an OAuth login for this: the key would still be used first.",
    ),
    (
        RegionRestricted,
        "region_restricted",
        "Next: tell the user this is not available on the configured site; if their OKX account is registered on "
        "another site, that site must be configured. Do not retry as it is.",
    ),
    (
        SessionRejected,
        "session_rejected",
        "Next: tell the user the OKX login no longer works; call logout, then log in again starting with preflight.",
    ),
]


def codes() -> frozenset[str]:
    """Every code a translated failure can carry."""
    flow = {kind.code for kind in _subclasses(FlowError)}
    return frozenset({code for _, code, _ in _NEXT} | flow | {FlowError.code})


def _subclasses(kind: type[FlowError]) -> list[type[FlowError]]:
    found = kind.__subclasses__()
    return found + [deeper for sub in found for deeper in _subclasses(sub)]


def error_text(exc: Exception) -> str:
    """The text for a known failure; unknown exceptions are re-raised untranslated (the SDK reports them as
    crashes without their text)."""
    if isinstance(exc, ReplyNotUnderstood | ReplyMissing):
        what = (
            "The user's reply chooses no site"
            if isinstance(exc, ReplyNotUnderstood)
            else "choose_site needs the user's reply to the site menu (this client cannot ask the user itself)"
        )
        return (
            f"[{exc.code}] {what}. The menu_ticket stays valid. Next: show this menu to the user verbatim, wait "
            "for the answer, and call choose_site with it as `reply`:\n" + texts.SITE_MENU
        )
    code, next_step = _translation(exc)
    return f"[{code}] {str(exc).rstrip('.')}." + (f" {next_step}" if next_step else "")


def error_code(exc: Exception) -> str:
    """The stable code of a known failure (the bracketed word its text starts with)."""
    return _translation(exc)[0]


def _translation(exc: Exception) -> tuple[str, str | None]:
    for kind, code, next_step in _NEXT:
        if isinstance(exc, kind):
            return code, next_step
    if isinstance(exc, FlowError):
        return exc.code, None
    raise exc


# ----- for a person at a terminal ---------------------------------------------------------------------------

KNOWN_FAILURES: tuple[type[Exception], ...] = (FlowError, GateRefused, OAuthError, StoreError, TicketError, OkxCliError)
"""What a command reports as one line. ``ConfigError`` is reported apart (exit 2); anything else is a bug and
keeps its traceback."""

_TERMINAL_NEXT: dict[str, str] = {
    "not_logged_in": f"log in: {LOGIN_COMMAND}",
    "login_pending": "finish the pending login in the browser (okx-auth-mcp status shows it), or run "
    "okx-auth-mcp logout to start over",
    "already_logged_in": "run okx-auth-mcp logout first to log in to another site",
    "network_error": "check the connection or proxy and retry",
    "discovery_failed": "check OKX_OAUTH_ISSUER and the network",
    "phishing_guard": "the authorization server returned an untrusted link, so none was shown; do not retry, "
    "and do not open a login link from elsewhere",
    "okx_error": "retry later",
    "bad_response": "retry later",
    "oauth_error": "retry later",
    "state_error": "do what the message says (okx-auth-mcp logout deletes the session and a pending login it "
    "cannot use)",
    "state_busy": "retry in a minute; if it says the same, end the process named above",
    "ticket_used": "run okx-auth-mcp login again",
    "keyring_locked": "unlock the login keyring (the desktop's prompt, or Passwords and Keys; macOS: Keychain "
    "Access), then retry",
    "storage_unavailable": "start a Secret Service in the desktop session (gnome-keyring, KeePassXC), or set "
    "OKX_AUTH_STORAGE=file to keep the tokens in the 0600 state file",
    "okx_cli_too_old": f"upgrade OKX's CLI ({texts.OKX_CLI_UPGRADE}), or set OKX_AUTH_BACKEND=native",
    "config_error": "fix the config file named above (it was not changed)",
    "config_changed": "run the command again: it asks again, on the file as it is now",
    "no_such_profile": "okx-auth-mcp config show lists the profiles",
    "invalid_profile_name": "name a profile as okx-auth-mcp config show lists it",
    "env_profile": "unset OKX_API_KEY, OKX_SECRET_KEY and OKX_PASSPHRASE where they are set",
    "invalid_arguments": "correct the option named and run the command again",
    "broker_not_configured": "set OKX_AUTH_BROKER_PROFILE to the profile holding the broker account's API key",
    "broker_profile_unusable": "set OKX_AUTH_BROKER_PROFILE to the profile holding the broker account's API key",
    "not_broker": "set OKX_AUTH_BROKER_PROFILE to the profile holding the broker account's API key",
    "rate_limited": "wait the time named, then run it once more",
    "withdraw_not_confirmed": "run it at a terminal and answer the withdraw question, or leave withdraw out",
    "key_answer_unfit": "check the sub-account's keys on OKX (okx-auth-mcp broker keys SUBACCT)",
    "key_outcome_unknown": "check the sub-account's keys on OKX (okx-auth-mcp broker keys SUBACCT)",
    "key_not_saved": "delete the key on OKX and create a new one",
    "profile_exists": "run it again: it asks again, on the file as it is now",
}


def terminal_next(code: str, default: str = "run the command again") -> str:
    return _TERMINAL_NEXT.get(code, default)


def terminal_line(exc: Exception, code: str | None = None, next_step: str | None = None) -> str:
    """``okx-auth-mcp: [code] what happened. Next: what to do`` on one line."""
    if code is None:
        code = error_code(exc)
    what = " ".join(str(exc).split()).rstrip(".")
    return f"okx-auth-mcp: [{code}] {what}. Next: {next_step or terminal_next(code)}."
