"""Signed requests to OKX's Broker endpoints with the broker's own API-key profile, within OKX's rate limits.

The profile is the one ``OKX_AUTH_BROKER_PROFILE`` names (never a default: the broker's key is not a trader's),
signed as ``verify_credentials`` signs (``core.okx_signing``), sent where OKX's client sends that profile
(``core.api_keys.api_key_target``: its site, its ``base_url``, its demo flag).

Before a request goes out it takes its turn in the route's rate window (``core.rate_windows``), recorded in the
state directory under its lock (held for the read and the write, never across the request), so every process on
the directory keeps to the same limit: a turn a moment away (at most ``MAX_WAIT_SECONDS``) is waited for, a
later one is :class:`~okx_auth_mcp.core.broker_rules.RateLimited`, not sent.

OKX's refusals are judged by their code (``core.okx_codes``): ``not_broker`` → ``NotBroker``; a refused key →
``BrokerProfileUnusable`` (the broker profile's key, not the user's login); the clock, site and region kinds as
``verify_credentials`` reports them; any other code passes as ``OkxError``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import Field

from okx_auth_mcp.core import okx_signing
from okx_auth_mcp.core.api_keys import (
    ClockSkew,
    RegionRestricted,
    SiteHostMismatch,
    Target,
    api_key_target,
    check_signable,
    clock_message,
    region_message,
    signed_by,
    site_host_message,
)
from okx_auth_mcp.core.broker_rules import BrokerNotEnabled, BrokerProfileUnusable, NotBroker, RateLimited
from okx_auth_mcp.core.oauth_errors import OkxError
from okx_auth_mcp.core.okx_codes import code_kind, describe_okx_code
from okx_auth_mcp.core.okx_profiles import Profile
from okx_auth_mcp.core.rate_windows import MAX_WAIT_SECONDS, RULES, recent, wait_for
from okx_auth_mcp.core.records import Frozen, Time
from okx_auth_mcp.edges.okx_api import OkxApi, Unauthorized
from okx_auth_mcp.login.service import AuthService

log = logging.getLogger(__name__)

RATES_FILE = "broker-rates.json"
_MAX_ROUTES = 64


Slot = Annotated[str, Field(pattern=r"^[a-z_]{1,40}:[0-9a-f]{16}$")]
"""A route and a digest of the broker key that called it."""


class RateLedger(Frozen):
    """``broker-rates.json``: when each route was last called, per broker key (a digest of it, never the key)."""

    sent: dict[Slot, Annotated[list[Time], Field(max_length=64)]]


def open_broker(service: AuthService) -> BrokerClient:
    """The broker client of ``service``'s settings, with its HTTP timeout."""
    return BrokerClient(service, OkxApi(timeout=service.settings.http_timeout))


class BrokerClient:
    """The broker profile of ``service``'s configuration, and its signed requests."""

    def __init__(
        self,
        service: AuthService,
        api: OkxApi,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.service = service
        self._api = api
        self._sleep = sleep

    @property
    def profile_name(self) -> str:
        name = self.service.settings.broker_profile
        if name is None:
            raise BrokerNotEnabled(
                "no broker profile is named: set OKX_AUTH_BROKER_PROFILE to the config profile that holds the broker "
                "account's API key (this server never picks one itself)"
            )
        return name

    def profile(self) -> tuple[Profile, Target]:
        """The broker profile and where its requests go; ``BrokerProfileUnusable`` when it is not in the file or
        holds no API key, ``ProfileUnusable`` when it cannot be signed."""
        name = self.profile_name
        config = self.service.config()
        found = next((p for p in config.profiles if p.name == name), None)
        if found is None:
            raise BrokerProfileUnusable(
                f"OKX_AUTH_BROKER_PROFILE names the profile {name}, which is not in {config.path}"
            )
        if not found.has_api_key:
            raise BrokerProfileUnusable(f"the broker profile {name} in {config.path} holds no API key")
        check_signable(found)
        return found, api_key_target(found, self.service.settings.environ, str(config.path))

    def call(
        self,
        route: str,
        method: str,
        path: str,
        params: Mapping[str, str | None] | None = None,
        body: Mapping[str, str] | None = None,
    ) -> list[Any]:
        """One signed request to the Broker ``route`` (a key of ``core.rate_windows.RULES``); its ``data``."""
        profile, target = self.profile()
        query = "&".join(f"{k}={v}" for k, v in (params or {}).items() if v is not None)
        request_path = f"{path}?{query}" if query else path
        text = "" if body is None else json.dumps(body, separators=(",", ":"))
        self._take_turn(route, profile.api_key)
        timestamp = okx_signing.iso_timestamp(self.service.now())
        headers = signed_by(profile, target, timestamp, method, request_path, text)
        what = route.replace("_", " ")
        try:
            return self._api.send(method, target.base_url, request_path, headers, what, text)
        except Unauthorized:
            refused = f"OKX refused the API key of the broker profile {profile.name} (HTTP 401)"
            raise BrokerProfileUnusable(refused) from None
        except OkxError as exc:
            log.info("%s: OKX refused the broker profile's request with code %s", route, exc.code)
            raise self._refusal(exc, profile, target, timestamp) from None

    def _refusal(self, exc: OkxError, profile: Profile, target: Target, timestamp: str) -> Exception:
        kind = code_kind(exc.code)
        if kind == "not_broker":
            return NotBroker(f"{describe_okx_code(exc.code).rstrip('.')} (OKX code {exc.code})", exc.code)
        if kind == "key_rejected":
            return BrokerProfileUnusable(
                f"OKX refused the API key of the broker profile {profile.name}: {describe_okx_code(exc.code)} "
                f"(OKX code {exc.code})"
            )
        if kind == "clock":
            return ClockSkew(clock_message(exc, timestamp), exc.code)
        if kind == "site_host":
            return SiteHostMismatch(site_host_message(exc, profile.name, target), exc.code)
        if kind == "region":
            return RegionRestricted(region_message(exc, target.site), exc.code)
        return exc

    def _take_turn(self, route: str, api_key: str) -> None:
        """Wait for the route's turn (at most ``MAX_WAIT_SECONDS``) or refuse; recorded once taken."""
        rule = RULES[route]
        slot = f"{route}:{hashlib.sha256(api_key.encode()).hexdigest()[:16]}"
        for _ in range(3):
            store = self.service.store
            with store.locked("keeping OKX's rate limits"):
                ledger = store.read_model(RATES_FILE, RateLedger) or RateLedger(sent={})
                now = self.service.now()
                wait = wait_for(ledger.sent.get(slot, []), rule, now)
                if wait == 0.0:
                    kept = {k: v for k, v in ledger.sent.items() if k != slot and _still_counts(k, v, now)}
                    kept[slot] = [*recent(ledger.sent.get(slot, []), rule, now), now][-rule.count :]
                    store.write_json(RATES_FILE, {"sent": dict(list(kept.items())[-_MAX_ROUTES:])})
                    return
            if wait > MAX_WAIT_SECONDS:
                break
            self._sleep(wait)
        raise RateLimited(
            f"OKX allows {rule.words()} of this request for an account; the next one is possible in "
            f"{math.ceil(wait)} s, so nothing was sent",
            wait,
        )


def _still_counts(slot: str, sent: list[float], now: float) -> bool:
    rule = RULES.get(slot.split(":")[0])
    return rule is not None and bool(recent(sent, rule, now))
