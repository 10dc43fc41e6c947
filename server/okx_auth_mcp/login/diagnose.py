"""``diagnose``: gather every fact about this installation's login and make the read-only checklist.

The probes (``edges.local_probes``: the config file, the proxy variables, the state directory and its lock;
``edges.net_probes``: DNS, TCP/TLS, OKX's server time, the token endpoint) do the I/O; this module adds the
facts only the service knows (the backend in use and why, the OAuth state, the session record, where the API key
goes, as ``verify_credentials`` sends it) and hands them to :mod:`okx_auth_mcp.core.diagnosis.report`.

It never logs in, refreshes, polls a pending login, or writes a state file. (Reading the OAuth state takes
the state lock, which sets a directory looser than 0700 to 0700.) Every failure becomes a fact, never an
exception.
"""

from __future__ import annotations

from dataclasses import replace

from okx_auth_mcp.core.api_keys import ProfileUnusable, api_key_target
from okx_auth_mcp.core.diagnosis import report
from okx_auth_mcp.core.diagnosis.checklist import Report
from okx_auth_mcp.core.diagnosis.facts import ConfigFacts, LocalFacts, OAuthFacts, StateDirFacts
from okx_auth_mcp.core.login_state import BackendNote
from okx_auth_mcp.core.oauth_errors import OAuthError
from okx_auth_mcp.core.okx_cli_output import OkxCliTooOld
from okx_auth_mcp.edges.local_probes import config_facts, proxy_env, state_dir_facts
from okx_auth_mcp.edges.net_probes import ProbeOptions, network_facts
from okx_auth_mcp.edges.state_store import StoreError
from okx_auth_mcp.login.backends import backend_note
from okx_auth_mcp.login.native import NativeBackend
from okx_auth_mcp.login.service import AuthService

__all__ = ["ProbeOptions", "diagnose", "local_facts"]


def diagnose(service: AuthService, options: ProbeOptions | None = None) -> Report:
    """Gather every fact and make the checklist."""
    options = options or ProbeOptions()
    local = local_facts(service, options)
    chosen = report.plan(local)
    return report.report(local, chosen, network_facts(local, chosen, options))


def local_facts(service: AuthService, options: ProbeOptions) -> LocalFacts:
    """Everything but the network: the state directory, the OAuth state, the config, the proxy variables, and
    why the okx CLI does not run the login when it does not."""
    now = options.wall()
    state = state_dir_facts(service.store.directory, options.lock_wait)
    note = backend_note(service)
    try:
        oauth = oauth_facts(service, state, now)
    except OkxCliTooOld as exc:  # the okx-cli backend, on an okx that cannot log in
        oauth, note = OAuthFacts(None), BackendNote("okx_cli_too_old", version=exc.version)
    return LocalFacts(
        backend=service.backend_name,
        now=now,
        config=key_config_facts(service),
        oauth=oauth,
        state=state,
        proxy_env=proxy_env(),
        issuer_override=service.settings.issuer_override,
        backend_note=note,
        **_storage(service),
    )


def _storage(service: AuthService) -> dict[str, str | None]:
    try:
        return {"storage": service.token_storage()}
    except StoreError as exc:  # a keyring asked for and absent, or locked
        return {"storage_error": str(exc).rstrip(".")}


def key_config_facts(service: AuthService) -> ConfigFacts:
    """The config facts, with where the API-key profile in effect sends its key (``key_target``, ``key_site``)
    as ``verify_credentials`` would; both unset when it cannot be sent (no site: the plan says so, and probes
    Global's host)."""
    environ = service.settings.environ
    facts, keyed = config_facts(environ)
    if keyed is None:
        return facts
    try:
        target = api_key_target(keyed, environ, facts.path)
    except ProfileUnusable:
        return facts
    return replace(facts, key_target=target.base_url, key_site=target.site)


def oauth_facts(service: AuthService, state: StateDirFacts, now: float) -> OAuthFacts:
    """The OAuth state: the native backend's from the files alone (no request and no lock: files are replaced
    whole), not read when there is no state directory. The okx-cli
    backend's from ``okx auth status``, which keeps its own state wherever this directory is."""
    if not state.exists and service.backend_name == "native":
        return OAuthFacts("not_logged_in")
    try:
        current = service.auth_state(now)
        if current.status == "pending" and current.pending is not None:
            e = current.pending.endpoints
            return OAuthFacts(
                "pending", site=current.site, issuer=e.issuer, token_endpoint=e.token_endpoint, client_id=e.client_id
            )
        if current.status != "logged_in":
            return OAuthFacts(current.status, reason=current.reason)
        backend = service.backend
        session = backend.session() if isinstance(backend, NativeBackend) else None
    except (StoreError, OAuthError) as exc:
        return OAuthFacts(None, error=str(exc).rstrip("."))
    except OkxCliTooOld:
        raise  # local_facts says why
    except Exception as exc:  # another backend's failure: its name only, its text may carry anything
        return OAuthFacts(None, error=type(exc).__name__)
    if session is None:  # another backend keeps its tokens elsewhere (or a logout came between the reads)
        return OAuthFacts("logged_in", site=current.site, scopes=tuple(current.scopes))
    return OAuthFacts(
        "logged_in",
        site=session.site,
        scopes=tuple(session.scopes),
        issuer=session.endpoints.issuer,
        token_endpoint=session.endpoints.token_endpoint,
        client_id=session.endpoints.client_id,
        access_expires_at=session.access_expires_at,
        has_refresh_token=session.refresh_token is not None,
    )
