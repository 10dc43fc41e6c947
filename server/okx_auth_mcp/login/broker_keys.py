"""Minting an API key for a DMA broker's sub-account, only when the user confirmed it, its secret going straight
to where the user asked: shared by the ``broker_create_subaccount_api_key`` tool and ``okx-auth-mcp broker
create-key``.

1. :meth:`BrokerKeys.ask` checks every parameter with OKX's rules (``core.broker_rules``), reads the broker
   profile (its site and demo flag) and the config file (whether a profile of the new key's name exists), and
   returns the :class:`KeyQuestion` with its ticket (``core.broker_confirmation``). Nothing is sent.
2. :meth:`BrokerKeys.answer` takes the ticket back with the user's own reply; the ticket is spent whatever the
   reply. A key with ``withdraw`` asks a second, separate question (its own ticket, its own confirming word).
   Then, before anything is minted, the broker profile must be the one asked with (its key, site, demo flag and
   host), and the destination is checked again (the file parsed, its directory writable; a profile of that name
   added since the question is refused). The broker profile and ``default_profile`` are never replaced. The
   passphrase is generated here (``secrets``); the key is created with one POST; OKX's answer must be exactly the
   key asked for (:class:`CreatedKey`: the same sub-account, label, permissions, IPs and passphrase), or nothing
   is written.
3. The secret key and passphrase go into the config file as a new profile (``edges.okx_config_writer``: the
   broker profile's site and demo flag, ``default_profile`` unchanged), or onto a one-time page
   (``deliver="page"``). When that fails, whatever the failure, they go into a 0600 recovery file in the state
   directory (:class:`KeyRecovered`), never into a result, a log or an error.
"""

from __future__ import annotations

import logging
import math
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from okx_auth_mcp.core import broker_confirmation as confirmation
from okx_auth_mcp.core import broker_texts
from okx_auth_mcp.core.api_keys import Target
from okx_auth_mcp.core.broker_answers import CreatedKey
from okx_auth_mcp.core.broker_confirmation import (
    Delivery,
    KeyConfirmationMismatch,
    KeyConfirmationUsed,
    KeyRequest,
    Stage,
)
from okx_auth_mcp.core.broker_rules import (
    PASSPHRASE_SPECIALS,
    BrokerArgumentError,
    KeyAnswerUnfit,
    KeyNotSaved,
    KeyOutcomeUnknown,
    canonical_ip,
    passphrase_fits,
)
from okx_auth_mcp.core.oauth_errors import BadResponse, NetworkError
from okx_auth_mcp.core.okx_config_edit import NewProfile, ProfileExists, profiles_of
from okx_auth_mcp.core.okx_profiles import ConfigError, Profile, mask
from okx_auth_mcp.core.records import Unfit, validated
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.edges.okx_config import config_path
from okx_auth_mcp.edges.okx_config_writer import read_config, save_profile
from okx_auth_mcp.edges.state_files import StoreError
from okx_auth_mcp.login.broker_client import BrokerClient
from okx_auth_mcp.login.secret_page import SecretPages, Shown

log = logging.getLogger(__name__)

CREATE_PATH = "/api/v5/broker/dma/subaccount/apikey"
PASSPHRASE_LENGTH = 24
RECOVERY_PREFIX = "broker-key-recovery-"


def new_passphrase() -> str:
    """A passphrase OKX takes (``core.broker_rules.passphrase_fits``), from ``secrets``: 24 characters of letters,
    digits and :data:`PASSPHRASE_SPECIALS`, about 150 bits."""
    alphabet = string.ascii_letters + string.digits + PASSPHRASE_SPECIALS
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(PASSPHRASE_LENGTH))
        if passphrase_fits(candidate):
            return candidate


@dataclass(frozen=True)
class KeyQuestion:
    request: KeyRequest
    stage: Stage
    ticket: str
    site: SiteId
    demo: bool
    config_path: Path
    status: Literal["confirm"] = "confirm"

    def text(self, lang: Lang) -> str:
        if self.stage == "withdraw":
            return broker_texts.withdraw_question(lang, self.request)
        return broker_texts.question(lang, self.request, self.site, self.demo, str(self.config_path))


@dataclass(frozen=True)
class NotCreated:
    request: KeyRequest
    status: Literal["not_created"] = "not_created"

    def text(self, lang: Lang) -> str:
        return broker_texts.not_created(lang, self.request)

    def summary(self) -> dict[str, Any]:
        return {"status": self.status, "sub_account": self.request.sub_acct}


@dataclass(frozen=True)
class KeyCreated:
    """The key is made, and its secret is where it was meant to go: the config file (``path``, ``profile``) or
    the one-time page (``url``)."""

    request: KeyRequest
    key: dict[str, Any]
    """What may be shown of it (``CreatedKey.shown``)."""
    path: Path | None = None
    backup: Path | None = None
    url: str | None = None
    minutes: int = 10

    @property
    def status(self) -> Literal["saved", "on_page"]:
        return "on_page" if self.url is not None else "saved"

    def text(self, lang: Lang) -> str:
        masked, created = str(self.key["api_key"]), int(self.key["created_ms"])
        if self.url is not None:
            return broker_texts.on_page(lang, self.request, masked, created, self.url, self.minutes)
        backup = None if self.backup is None else str(self.backup)
        return broker_texts.saved(lang, self.request, masked, created, str(self.path), backup)

    def summary(self) -> dict[str, Any]:
        where: dict[str, Any] = {"page_url": self.url} if self.url is not None else {
            "profile": self.request.profile,
            "path": str(self.path),
            "backup": None if self.backup is None else str(self.backup),
        }  # fmt: skip
        return {"status": self.status, "key": self.key, **where}


@dataclass(frozen=True)
class KeyRecovered:
    """The key is made; its destination failed, and the recovery file holds its secret."""

    request: KeyRequest
    key: dict[str, Any]
    recovery: Path
    why: str
    status: Literal["recovery_file"] = "recovery_file"

    def text(self, lang: Lang) -> str:
        return broker_texts.recovered(lang, self.request, str(self.key["api_key"]), str(self.recovery), self.why)

    def summary(self) -> dict[str, Any]:
        return {"status": self.status, "key": self.key, "recovery_file": str(self.recovery)}


Outcome = KeyQuestion | NotCreated | KeyCreated | KeyRecovered


class BrokerKeys:
    """The procedure on ``client``'s broker profile; ``pages`` shows a secret once (``deliver="page"``)."""

    def __init__(self, client: BrokerClient, pages: SecretPages | None = None) -> None:
        self._client = client
        self._pages = pages
        self._service = client.service

    @property
    def _environ(self) -> Any:
        return self._service.settings.environ

    def ask(
        self,
        sub_acct: str,
        label: str,
        perm: Sequence[str] | None = None,
        ip: Sequence[str] | None = None,
        deliver: Delivery = "config",
    ) -> KeyQuestion:
        broker_profile = self._client.profile_name
        request = KeyRequest.checked(broker_profile, sub_acct, label, perm, ip, deliver)
        if deliver == "page" and self._pages is None:
            raise BrokerArgumentError("deliver", "a one-time page is served by the MCP server; here, use config")
        profile, target = self._client.profile()  # unusable or absent: refused before anyone is asked
        if deliver == "config":
            document = read_config(self._environ).document
            if request.profile in (broker_profile, document.get("default_profile")):
                raise BrokerArgumentError(
                    "label",
                    f"the new key's profile would be {request.profile}, which is the broker profile or "
                    "default_profile: it is never replaced by a sub-account key; choose another label",
                )
            request = replace(request, replace=request.profile in profiles_of(document))
        request = replace(request, broker=self._broker_digest(profile, target))
        return self._question(request, "create", target.site, target.demo)

    def _broker_digest(self, profile: Profile, target: Target) -> str:
        key = self._service.store.ticket_key()
        return confirmation.broker_digest(key, profile.api_key, target.site, target.demo, target.base_url)

    def _question(self, request: KeyRequest, stage: Stage, site: SiteId, demo: bool) -> KeyQuestion:
        key = self._service.store.ticket_key()
        ticket = confirmation.issue(key, request, stage, self._service.now(), nonce=secrets.token_urlsafe(8))
        return KeyQuestion(request, stage, ticket, site, demo, config_path(self._environ))

    def answer(self, ticket: str, reply: str, lang: Lang, *, sub_acct: str | None = None) -> Outcome:
        """The user's ``reply`` to the question ``ticket`` carries."""
        held = confirmation.verify(
            self._service.store.ticket_key(), ticket, self._service.now(),
            broker_profile=self._client.profile_name, sub_acct=sub_acct,
        )  # fmt: skip
        if not self._service.spend_once(held.id, held.expires_at):
            raise KeyConfirmationUsed("this confirmation was answered already; nothing was created")
        request = held.request
        if not confirmation.confirms_stage(held.stage, reply):
            return NotCreated(request)
        profile, target = self._client.profile()
        if not secrets.compare_digest(request.broker, self._broker_digest(profile, target)):
            raise KeyConfirmationMismatch(
                f"the broker profile {profile.name} changed after the question (its key, site, demo flag or API "
                "host): the user agreed to another one; nothing was created"
            )
        if held.stage == "create" and request.withdraw:
            return self._question(request, "withdraw", target.site, target.demo)
        return self._mint(request, target.site, target.demo, lang)

    def _mint(self, request: KeyRequest, site: SiteId, demo: bool, lang: Lang) -> Outcome:
        pages = self._pages
        if request.deliver == "page" and pages is None:
            raise BrokerArgumentError("deliver", "a one-time page is served by the MCP server; nothing was created")
        if request.deliver == "config":
            exists = request.profile in profiles_of(read_config(self._environ).document)
            if exists and not request.replace:
                raise ProfileExists(
                    f"a profile named {request.profile} was added to the config file after the question; nothing was "
                    "created"
                )
        passphrase = new_passphrase()
        try:
            data = self._client.call("broker_create_key", "POST", CREATE_PATH, body=request.body(passphrase))
        except (NetworkError, BadResponse) as exc:
            raise KeyOutcomeUnknown(
                f"the request to create the key got no answer to trust ({exc}): OKX may have created it, and its "
                f"secret never reached this computer. broker_subaccount_api_keys shows whether sub-account "
                f"{request.sub_acct} has a key labelled {request.label}; if it has, delete that key on OKX"
            ) from None
        created = _created(data, request, passphrase)
        shown = created.shown()
        log.info("broker: OKX created API key %s for sub-account %s", mask(created.apiKey), request.sub_acct)
        try:
            if pages is not None and request.deliver == "page":
                offer = pages.offer(lang, _shown(created))
                minutes = math.ceil((offer.expires_at - pages.now()) / 60)
                return KeyCreated(request, shown, url=offer.url, minutes=minutes)
            written = save_profile(
                self._environ,
                NewProfile(request.profile, site, demo, created.apiKey, created.secretKey, created.passphrase),
                replace=request.replace,
            )
            return KeyCreated(request, shown, path=written.path, backup=written.backup)
        except Exception as exc:  # whatever failed, the key exists at OKX: its secret must not be lost
            log.info("broker: the new key could not be delivered (%s); writing the recovery file", type(exc).__name__)
            why = str(exc) if isinstance(exc, ConfigError | StoreError | OSError) else type(exc).__name__
            return self._recover(request, created, site, demo, why)

    def _recover(self, request: KeyRequest, created: CreatedKey, site: SiteId, demo: bool, why: str) -> KeyRecovered:
        name = f"{RECOVERY_PREFIX}{request.sub_acct}-{request.label}-{created.ts}.json"
        record = {
            "sub_account": request.sub_acct,
            "label": request.label,
            "api_key": created.apiKey,
            "secret_key": created.secretKey,
            "passphrase": created.passphrase,
            "perm": created.perm,
            "ip": created.ip,
            "site": site,
            "demo": demo,
            "created_ms": int(created.ts),
            "profile": request.profile,
        }
        try:
            self._service.store.write_json(name, record)
        except (StoreError, OSError) as exc:
            raise KeyNotSaved(
                f"OKX created API key {mask(created.apiKey)} for sub-account {request.sub_acct}, and neither its "
                f"destination ({why}) nor a recovery file in {self._service.store.directory} ({exc}) could take its "
                "secret: delete that key on OKX and create a new one"
            ) from None
        return KeyRecovered(request, created.shown(), self._service.store.directory / name, why)


def _created(data: list[Any], request: KeyRequest, passphrase: str) -> CreatedKey:
    """OKX's answer as the key asked for, or :class:`KeyAnswerUnfit` (naming fields, never values)."""
    delete = (
        f"OKX may have created the key: broker_subaccount_api_keys shows whether sub-account {request.sub_acct} has "
        f"a key labelled {request.label}; if it has, delete it on OKX. Nothing was written"
    )
    if len(data) != 1:
        raise KeyAnswerUnfit(f"OKX's answer holds {len(data)} keys, not one. {delete}")
    try:
        created = validated(CreatedKey, data[0])
    except Unfit as exc:  # only the documented fields are named: another's name is the server's text
        known = [field for field in exc.fields if field in CreatedKey.model_fields]
        unknown = len(exc.fields) - len(known)
        fields = ", ".join(known + ([f"{unknown} field(s) OKX does not document"] if unknown else []))
        raise KeyAnswerUnfit(f"OKX's answer to the key creation does not fit ({fields}). {delete}") from None
    differs = [
        name
        for name, same in (
            ("subAcct", created.subAcct == request.sub_acct),
            ("label", created.label == request.label),
            ("perm", set(created.perm.split(",")) == set(request.perm)),
            ("ip", {canonical_ip(ip) for ip in created.ip.split(",") if ip} == set(request.ip)),
            ("passphrase", secrets.compare_digest(created.passphrase, passphrase)),
        )
        if not same
    ]
    if differs:
        fields = ", ".join(differs)
        raise KeyAnswerUnfit(f"OKX's answer describes another key than the one asked for ({fields}). {delete}")
    return created


def _shown(created: CreatedKey) -> Shown:
    """What the one-time page shows: the key's facts at once, its three credentials once, on a click."""
    return Shown(
        heading={
            "en": f"API key for sub-account {created.subAcct}",
            "zh": f"子账户 {created.subAcct} 的 API Key",
        },
        facts=(
            ({"en": "Label", "zh": "备注"}, created.label),
            ({"en": "Permissions", "zh": "权限"}, created.perm.replace(",", ", ")),
            ({"en": "IP allowlist", "zh": "IP 白名单"}, created.ip.replace(",", ", ") or "-"),
            ({"en": "Created", "zh": "创建时间"}, broker_texts.utc(int(created.ts))),
        ),
        secrets=(
            ({"en": "API key", "zh": "API Key"}, created.apiKey),
            ({"en": "Secret key", "zh": "Secret Key"}, created.secretKey),
            ({"en": "Passphrase", "zh": "Passphrase"}, created.passphrase),
        ),
    )
