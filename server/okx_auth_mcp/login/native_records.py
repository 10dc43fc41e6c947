"""The native backend's records in the state directory (``pending.json``, ``session.json``,
``registrations.json``), each checked on every read as the server answer it was made from, and the small
rules about them the backend shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from okx_auth_mcp.core.oauth_wire import TokenResponse, TrustPolicy, scopes_of
from okx_auth_mcp.core.records import REFRESH_MARGIN_SECONDS, Endpoints, PendingLogin, Registrations, Session
from okx_auth_mcp.core.sites import SITES, SiteId
from okx_auth_mcp.core.stored_trust import pending_problem, session_problem
from okx_auth_mcp.edges.state_store import (
    PENDING_FILE,
    REGISTRATIONS_FILE,
    SESSION_FILE,
    StateStore,
    StoreError,
    UnsafeDirectory,
)
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.login.token_storage import Kind, TokenStorage

_R = TypeVar("_R")
_Stored = TypeVar("_Stored", PendingLogin, Session)


class NativeRecords:
    def __init__(self, settings: Settings, store: StateStore) -> None:
        self.settings = settings
        self.store = store
        self.storage = TokenStorage(settings, store)

    def issuer_and_policy(self, site: SiteId) -> tuple[str, TrustPolicy]:
        """The issuer this site logs in at now (the override, else the site's REST base URL) and the trust
        policy for what it sends."""
        override = self.settings.issuer_override
        issuer = (override or SITES[site].api_base_url).rstrip("/")
        return issuer, TrustPolicy(
            issuer, custom_issuer=override is not None, allowed_hosts=self.settings.allowed_hosts
        )

    def pending(self) -> PendingLogin | None:
        """The pending login, checked as its server answer was (``StoreCorrupt`` when it fails)."""
        client_id = self.settings.client_id if self.settings.grant != "device" else None
        return self._checked(
            PENDING_FILE, "pending", PendingLogin, lambda record, policy: pending_problem(record, policy, client_id)
        )

    def session(self) -> Session | None:
        """The session, checked as its server answers were (``StoreCorrupt`` when it fails)."""
        return self._checked(SESSION_FILE, "session", Session, session_problem)

    def write_pending(self, pending: PendingLogin) -> None:
        self.storage.write(PENDING_FILE, "pending", pending.model_dump(mode="json"))

    def write_session(self, session: Session) -> None:
        self.storage.write(SESSION_FILE, "session", session.model_dump(mode="json"))

    def delete_pending(self) -> bool:
        return self.storage.delete(PENDING_FILE, "pending")

    def delete_session(self) -> bool:
        return self.storage.delete(SESSION_FILE, "session")

    def _checked(
        self, name: str, kind: Kind, model: type[_Stored], problem: Callable[[_Stored, TrustPolicy], str | None]
    ) -> _Stored | None:
        data = self.store.read_json(name)
        if data is None:
            return None
        record = self.store.as_record(name, model, self.storage.merged(name, kind, data))
        why = problem(record, self.issuer_and_policy(record.site)[1])
        if why is not None:
            raise self.store.corrupt(name, why)
        return record

    def registrations(self) -> tuple[dict[str, object], Registrations]:
        """The registrations file as read (what else it holds is kept when it is rewritten) and as a record."""
        known = self.store.read_json(REGISTRATIONS_FILE) or {}
        return known, self.store.as_record(REGISTRATIONS_FILE, Registrations, known)

    def save_client_id(self, issuer: str, client_id: str) -> None:
        with self.store.locked("saving a client registration"):
            known, registrations = self.registrations()
            clients = {**registrations.clients, issuer: client_id}
            self.store.write_json(REGISTRATIONS_FILE, {**known, "clients": clients})


def session_from(
    site: SiteId, endpoints: Endpoints, tokens: TokenResponse, now: float, requested: str, old_refresh: str | None
) -> Session:
    return Session(
        site=site,
        endpoints=endpoints,
        access_token=tokens.access_token,
        access_expires_at=now + tokens.expires_in,
        refresh_token=tokens.refresh_token or old_refresh,
        scopes=scopes_of(tokens, requested),
    )


def fresh(session: Session, now: float) -> bool:
    """Whether the access token is good for at least REFRESH_MARGIN_SECONDS more."""
    return session.access_expires_at - REFRESH_MARGIN_SECONDS > now


def or_none_if_unusable(read: Callable[[], _R | None], keep: type[StoreError] = UnsafeDirectory) -> _R | None:
    """What ``read`` gives, or None when its file cannot be used (damaged, unreadable, planted); a directory
    that may not be used at all is still an error, and so is ``keep``."""
    try:
        return read()
    except (UnsafeDirectory, keep):
        raise
    except StoreError:
        return None
