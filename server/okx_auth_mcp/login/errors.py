"""The login procedure's refusals: one family, each with the stable code its tool error starts with.

The procedure also lets the lower layers' errors through (``ConfigError``, ``StoreError``, ``TicketError``,
``OAuthError``, ``OkxCliError``, ``GateRefused``); ``login.refusals`` translates all of them, and only the
tool boundary (``mcp``) and the command line turn them into text.

::

    FlowError
    ├── SiteNotConfirmed     a login without a site ticket fresh from choose_site
    ├── SiteMismatch         a site ticket for another site
    ├── ReplyNotUnderstood   a menu reply that chooses nothing
    ├── ReplyMissing         no menu reply, from a client that cannot ask the user itself
    ├── SiteNotChosen        the user declined the client's own site question
    ├── PendingElsewhere     a login for another site is pending
    ├── AlreadyLoggedIn      a login while a session is logged in
    ├── NotLoggedIn          an access token asked for without a session
    └── BackendUnsupported   a token asked of a backend that keeps its tokens to itself (okx-cli)
"""

from __future__ import annotations


class FlowError(Exception):
    code = "flow_error"


class SiteNotConfirmed(FlowError):
    code = "site_not_confirmed"


class TicketUsed(FlowError):
    """A site ticket that already started a login: a site choice starts one login, not one per retry."""

    code = "ticket_used"


class SiteMismatch(FlowError):
    code = "site_mismatch"


class ReplyNotUnderstood(FlowError):
    code = "reply_not_understood"


class ReplyMissing(FlowError):
    """choose_site without the user's reply, from a client that cannot ask the user itself."""

    code = "reply_missing"


class SiteNotChosen(FlowError):
    """The user declined or dismissed the client's own site question."""

    code = "site_not_chosen"


class PendingElsewhere(FlowError):
    code = "login_pending"


class AlreadyLoggedIn(FlowError):
    code = "already_logged_in"


class NotLoggedIn(FlowError):
    """An access token was asked for, but there is no OAuth session (none, or a login still pending)."""

    code = "not_logged_in"


class BackendUnsupported(FlowError):
    code = "backend_unsupported"
