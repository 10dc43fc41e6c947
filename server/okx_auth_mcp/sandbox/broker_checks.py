"""The parameter checks of the sandbox's Broker endpoints (:mod:`~okx_auth_mcp.sandbox.broker_routes`), with the
codes OKX answers: a required parameter missing or empty 50014, one that does not fit its rule 51000 (HTTP 400
both), and the create-key endpoint's own codes (59505 a passphrase, 59503 too many IP addresses; HTTP 200).

Each check returns the value it read, or the :class:`Refusal` to answer instead.
"""

from __future__ import annotations

import ipaddress
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from starlette.responses import JSONResponse

from okx_auth_mcp.sandbox.faults import okx_error

SUB_ACCT_RE = re.compile(r"[A-Za-z0-9]{6,20}")
"""A sub-account name: 6 to 20 letters and digits."""
LABEL_RE = re.compile(r"[A-Za-z0-9]{1,50}")
"""An API key's note: at most 50 letters or digits."""
PERMS = ("read_only", "trade", "withdraw")
"""An API key's permissions, in the order OKX writes them (``read_only`` always among them)."""
MAX_IPS = 20
_SPECIAL = frozenset(string.punctuation)
_PASSPHRASE_CHARS = frozenset(string.ascii_letters + string.digits) | _SPECIAL


@dataclass(frozen=True)
class Refusal:
    """An OKX error answer: ``code``, ``msg``, HTTP ``status``."""

    code: str
    msg: str
    status: int = 200

    def response(self) -> JSONResponse:
        return okx_error(self.code, self.msg, self.status)


def empty(name: str) -> Refusal:
    return Refusal("50014", f"Parameter {name} can not be empty", 400)


def wrong(name: str) -> Refusal:
    return Refusal("51000", f"Parameter {name} error", 400)


def json_fields(body: bytes) -> dict[str, str] | Refusal:
    """A POST's body: a JSON object of strings (an empty body is an empty object, whose fields are missing)."""
    if not body.strip():
        return {}
    try:
        found = json.loads(body)
    except ValueError:
        return wrong("body")
    if not isinstance(found, dict):
        return wrong("body")
    for name, value in found.items():
        if not isinstance(value, str):
            return wrong(name)
    return found


def required(fields: Mapping[str, str], name: str) -> str | Refusal:
    value = fields.get(name, "")
    return value if value else empty(name)


def broker_type(fields: Mapping[str, str]) -> Refusal | None:
    """``brokerType``, optional: ``api`` or ``oauth``."""
    value = fields.get("brokerType", "")
    return wrong("brokerType") if value not in ("", "api", "oauth") else None


def day(fields: Mapping[str, str], name: str) -> str | Refusal:
    """A required date ``YYYYMMDD``."""
    value = required(fields, name)
    if isinstance(value, Refusal):
        return value
    try:
        if not re.fullmatch(r"[0-9]{8}", value):
            raise ValueError(value)
        datetime.strptime(value, "%Y%m%d")
    except ValueError:
        return wrong(name)
    return value


def page_and_limit(fields: Mapping[str, str]) -> tuple[int, int] | Refusal:
    """``page`` (default 1) and ``limit`` (default and at most 100), positive integers."""
    numbers = []
    for name, default, highest in (("page", 1, None), ("limit", 100, 100)):
        value = fields.get(name, "")
        if not value:
            numbers.append(default)
            continue
        if not value.isascii() or not value.isdigit() or int(value) < 1 or (highest and int(value) > highest):
            return wrong(name)
        numbers.append(int(value))
    return numbers[0], numbers[1]


def passphrase(fields: Mapping[str, str]) -> str | Refusal:
    """8 to 32 letters, digits and ASCII punctuation, with at least one digit, upper- and lower-case letter and
    punctuation mark (59505 otherwise)."""
    value = required(fields, "passphrase")
    if isinstance(value, Refusal):
        return value
    classes = (str.isdigit, str.isupper, str.islower, _SPECIAL.__contains__)
    fits = 8 <= len(value) <= 32 and set(value) <= _PASSPHRASE_CHARS
    if not fits or not all(any(test(c) for c in value) for test in classes):
        return Refusal("59505", "The passphrase format is incorrect")
    return value


def perm(fields: Mapping[str, str]) -> str | Refusal:
    """A comma list of :data:`PERMS` (default ``read_only``), as stored: ``read_only`` first, always."""
    value = fields.get("perm", "")
    asked = value.split(",") if value else []
    if any(item not in PERMS for item in asked):
        return wrong("perm")
    return ",".join(p for p in PERMS if p == "read_only" or p in asked)


def ips(fields: Mapping[str, str]) -> str | Refusal:
    """Up to :data:`MAX_IPS` comma-separated IPv4 or IPv6 addresses (59503 beyond), or none."""
    value = fields.get("ip", "")
    if not value:
        return ""
    items = value.split(",")
    if len(items) > MAX_IPS:
        return Refusal("59503", f"Each API key can bind up to {MAX_IPS} IP addresses")
    for item in items:
        try:
            ipaddress.ip_address(item)
        except ValueError:
            return wrong("ip")
    return value


def new_key_request(fields: Mapping[str, str]) -> tuple[str, str, str, str, str] | Refusal:
    """The create-key body's ``subAcct``, ``label``, ``passphrase``, ``perm`` and ``ip``, checked in OKX's order:
    every required one present, then each one's rule."""
    for name in ("subAcct", "label", "passphrase"):
        if isinstance(missing := required(fields, name), Refusal):
            return missing
    sub_acct, label = fields["subAcct"], fields["label"]
    if not SUB_ACCT_RE.fullmatch(sub_acct):
        return wrong("subAcct")
    if not LABEL_RE.fullmatch(label):
        return wrong("label")
    secret = passphrase(fields)
    if isinstance(secret, Refusal):
        return secret
    granted = perm(fields)
    if isinstance(granted, Refusal):
        return granted
    bound = ips(fields)
    if isinstance(bound, Refusal):
        return bound
    return sub_acct, label, secret, granted, bound
