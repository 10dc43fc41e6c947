"""Any sequence of tool operations, in any order, with any replies and tickets: the gate's rules hold.

Hypothesis drives the service against a live sandbox with a fake clock and checks, after every step:
a device authorization (or the pending login's code) is given only to a login that carried a site ticket
choose_site issued for exactly that site, less than 10 minutes ago, since the last logout, with no API key
configured (an API key gets the skipped object and no request); a refused
login reaches no server; auth_status sends at most one token request; a session is only ever for the site
the user chose."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from okx_auth_mcp.core.login_state import LoginPending, LoginSkipped
from okx_auth_mcp.core.oauth_errors import OAuthError
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.core.sites import SITE_IDS, SiteId
from okx_auth_mcp.core.tickets import TicketError
from okx_auth_mcp.login.errors import FlowError
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import FakeClock, oauth_requests

REPLIES = ["1", "2", "3", "global", "EEA", " us ", "", "4", "global please", "１", "okx"]


@dataclass(frozen=True)
class Issued:
    ticket: str
    site: SiteId
    at: float
    epoch: int


class GateRules(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory(prefix="okx-gate-")
        root = Path(self.tmp.name)
        self.clock = FakeClock()
        self.sandbox = RunningSandbox().start()
        self.sandbox.state.clock = self.clock
        self.okx_home = root / "okx-home"
        environ = {
            "OKX_OAUTH_ISSUER": self.sandbox.url,
            "OKX_AUTH_MCP_STATE_DIR": str(root / "state"),
            "OKX_HOME": str(self.okx_home),
            "OKX_AUTH_HTTP_TIMEOUT": "5",
            "NO_PROXY": "127.0.0.1",
        }
        self.service = AuthService(Settings.from_env(environ), clock=self.clock)
        self.menu: str | None = None
        self.issued: list[Issued] = []
        self.epoch = 0
        self.api_key = False
        self.logged_in_site: SiteId | None = None
        self.pending_site: SiteId | None = None

    def teardown(self) -> None:
        self.service.close()
        self.sandbox.stop()
        self.tmp.cleanup()

    @rule()
    def preflight(self) -> None:
        try:
            result = self.service.preflight()
        except ConfigError:
            return
        if result.menu_ticket is not None:
            self.menu = result.menu_ticket
        if self.api_key and result.next != "choose_site":
            assert result.next == "api_key_configured"

    @rule(reply=st.sampled_from(REPLIES))
    def choose_site(self, reply: str) -> None:
        if self.menu is None:
            self.preflight()
        if self.menu is None:
            return
        before = oauth_requests(self.sandbox)
        try:
            choice = self.service.choose_site(reply, self.menu)
        except (FlowError, TicketError):
            return
        finally:
            assert oauth_requests(self.sandbox) == before
        self.issued.append(Issued(choice.site_ticket, choice.site, self.clock.now, self.epoch))

    @rule(site=st.sampled_from(SITE_IDS), pick=st.integers(-3, 2) | st.just(-4))
    def login(self, site: SiteId, pick: int) -> None:
        ticket = {-3: None, -2: "", -1: "okxg1.e30.AAAA"}.get(pick)
        # -4: the newest site ticket; 0, 1, 2: the oldest ones (often expired or from before a logout)
        index = -1 if pick == -4 else pick
        issued = self.issued[index % len(self.issued)] if pick not in (-3, -2, -1) and self.issued else None
        if issued is not None:
            ticket = issued.ticket
        before, devices = oauth_requests(self.sandbox), self.sandbox.state.count("device")
        try:
            outcome = self.service.login(site, ticket)
        except (FlowError, TicketError, ConfigError, OAuthError):
            assert self.sandbox.state.count("device") == devices
            return
        if isinstance(outcome, LoginSkipped):  # starts nothing: OKX's guard answers it with or without a ticket
            assert self.api_key and oauth_requests(self.sandbox) == before
            return
        valid = (
            issued is not None
            and issued.site == site
            and self.clock.now - issued.at < 600
            and issued.epoch == self.epoch
        )
        assert valid, "a login went through without a fresh site choice for this site"
        assert isinstance(outcome, LoginPending) and not self.api_key
        if self.sandbox.state.count("device") > devices:
            assert self.pending_site is None and self.logged_in_site is None
            self.pending_site = site
        assert outcome.site == self.pending_site

    @rule(approve=st.booleans())
    def user_decides(self, approve: bool) -> None:
        for device in list(self.sandbox.state.devices.values()):
            self.sandbox.state.decide(device.user_code, approve)

    @rule(seconds=st.sampled_from([1, 5, 30, 299, 601, 3600]))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @rule()
    def status(self) -> None:
        before = self.sandbox.state.count("token")
        try:
            state = self.service.status()
        except OAuthError:
            return
        finally:
            assert self.sandbox.state.count("token") - before <= 1
        if state.status == "logged_in":
            assert state.site is not None and state.site in (self.pending_site, self.logged_in_site)
            self.logged_in_site, self.pending_site = state.site, None
        elif state.status == "not_logged_in":
            self.logged_in_site = self.pending_site = None

    @rule()
    def logout(self) -> None:
        self.service.logout()
        self.epoch += 1
        self.logged_in_site = self.pending_site = None

    @rule(present=st.booleans())
    def api_key_profile(self, present: bool) -> None:
        self.okx_home.mkdir(exist_ok=True)
        text = '[profiles.main]\napi_key = "key-1234567890"\nsite = "eea"\n' if present else ""
        (self.okx_home / "config.toml").write_text(text, encoding="utf-8")
        self.api_key = present

    @invariant()
    def only_chosen_sites_hold_sessions(self) -> None:
        state = self.service.auth_state()
        if state.status == "logged_in":
            assert state.site in (self.logged_in_site, self.pending_site)


TestGateRules = GateRules.TestCase
TestGateRules.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
)
