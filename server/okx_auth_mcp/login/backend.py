"""What a login backend is: the steps of the procedure that differ between this package's own OAuth client
(``native``) and OKX's official CLI (``okx_cli_backend``). The gate, the tickets and every refusal are the
service's own and run the same over either.

A backend is a value the service holds, not a subclass of it: a new one (a keyring-backed store, a hosted
store) is a new module implementing :class:`Backend`.
"""

from __future__ import annotations

from typing import Protocol

from okx_auth_mcp.core.login_state import AuthState, LoginPending, LoginSkipped
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.login.settings import BackendName


class Claim(Protocol):
    """The site choice a new login spends: one choice starts one login. Both calls come under the state lock,
    in the one hold that starts the login."""

    def check(self) -> None:
        """Just before the request that starts a login: raises when the choice has started one already, or
        was voided since (a logout)."""
        ...

    def spend(self) -> None:
        """Once the login is recorded: the choice starts no other."""
        ...


class Tokens(Protocol):
    """What a backend that holds the session's tokens itself can hand out."""

    def bearer_token(self) -> str:
        """The access token for an API call (``NotLoggedIn`` without a session)."""
        ...

    def force_refresh(self, rejected_access_token: str) -> str | None:
        """A new access token after an API refused ``rejected_access_token``; None without a refresh token."""
        ...

    def api_base_url(self) -> str:
        """Where the session's access token may go."""
        ...


class Backend(Protocol):
    @property
    def name(self) -> BackendName: ...

    @property
    def tokens(self) -> Tokens | None:
        """The session's tokens, when this backend hands them out (None: it keeps them to itself)."""
        ...

    def api_key_and_site(self) -> tuple[str | None, SiteId | None]:
        """The API-key profile OKX's client would use, and a site a profile names (the user chose it when they
        configured it)."""
        ...

    def auth_state(self, now: float) -> AuthState:
        """The OAuth status from what is kept: no token request."""
        ...

    def status(self) -> AuthState:
        """The OAuth status, with at most one token request (a due poll, or a refresh)."""
        ...

    def begin_login(self, site: SiteId, claim: Claim) -> LoginSkipped | LoginPending:
        """After the gate passed for ``site``: a new login, or the live one for the same site. A new one only
        after ``claim.check()``, and ``claim.spend()`` once it is recorded, in the same hold of the lock."""
        ...

    def logout(self) -> bool:
        """End the session and any pending login here; True when the server confirmed the revocation."""
        ...

    def cancel_login(self, user_code: str | None) -> bool:
        """Forget the pending login (only the one with ``user_code``, when given); never touches a session."""
        ...

    def close(self) -> None: ...
