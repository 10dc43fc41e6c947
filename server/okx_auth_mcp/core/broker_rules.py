"""What OKX's Broker endpoints accept, checked before anything is sent, and the errors of the broker tools.
Pure: the caller passes today's date where a rule needs it.

The rules are OKX's own (the Broker program's documentation): a sub-account name is 6-20 letters or digits, a
key's label at most 50 letters or digits, its permissions a subset of ``read_only``, ``trade`` and ``withdraw``
(``read_only`` always among them), its IP allowlist up to 20 IPv4 or IPv6 addresses, a passphrase 8-32
characters with a digit, an upper- and a lower-case letter and a special character. A rebate report's dates are
``YYYYMMDD``, the begin no later than the end, at most 180 days apart. A refusal names the parameter as OKX
names it and the rule, never the value (it may be huge, or break a text).

::

    BrokerError
    ├── BrokerArgumentError   a parameter outside OKX's rule: nothing was sent
    ├── BrokerNotEnabled      the broker tools are off, or no broker profile is named
    ├── BrokerProfileUnusable the named profile is not in the config file, or has no API key
    ├── NotBroker             OKX says the profile's account is not a broker account (59608, 59610, 59611)
    ├── RateLimited           a call inside the window OKX documents for its route: not sent
    ├── WithdrawNotConfirmed  a key with ``withdraw`` whose separate confirmation is missing
    ├── KeyAnswerUnfit        OKX's answer to a key creation is not one to trust: nothing was written
    ├── KeyOutcomeUnknown     no answer came back to a key creation: OKX may have made the key
    └── KeyNotSaved           the key was created, and neither its destination nor a recovery file took it
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import date, datetime

SUB_ACCT_RE = re.compile(r"^[A-Za-z0-9]{6,20}\Z")
LABEL_RE = re.compile(r"^[A-Za-z0-9]{1,50}\Z")
PUBLIC_KEY_RE = re.compile(r"^[A-Za-z0-9-]{1,64}\Z")
"""An API key's public part (OKX's look like a UUID): what a query for one may carry."""
UID_RE = re.compile(r"^[0-9]{1,32}\Z")
PERMISSIONS = ("read_only", "trade", "withdraw")
MAX_IPS = 20
MAX_LIMIT = 100
MAX_PAGE = 100_000
MAX_REPORT_DAYS = 180
PASSPHRASE_SPECIALS = "!@#$%^&*()-_=+[]{};:,.?"  # noqa: S105 (an alphabet, not a password)
"""The special characters a generated passphrase draws from: ASCII, none that a shell, TOML or a URL quotes."""
PASSPHRASE_LENGTHS = (8, 32)


class BrokerError(Exception):
    """A broker tool's refusal or failure."""


class BrokerArgumentError(BrokerError):
    """A parameter outside OKX's rule. ``field`` is the parameter as OKX names it."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}; nothing was sent to OKX")
        self.field = field


class BrokerNotEnabled(BrokerError):
    """The broker tools are off (OKX_AUTH_BROKER_TOOLS) or OKX_AUTH_BROKER_PROFILE names no profile."""


class BrokerProfileUnusable(BrokerError):
    """The profile OKX_AUTH_BROKER_PROFILE names is not in the config file, or holds no API key."""


class NotBroker(BrokerError):
    """OKX refused the broker endpoint: the profile's account is not a (verified) broker of that kind."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class RateLimited(BrokerError):
    """A call OKX's documented rate limit would refuse: ``wait`` seconds until it would be taken."""

    def __init__(self, message: str, wait: float) -> None:
        super().__init__(message)
        self.wait = wait


class WithdrawNotConfirmed(BrokerError):
    """A key with the ``withdraw`` permission, without the user's separate confirmation of it."""


class KeyAnswerUnfit(BrokerError):
    """OKX's answer to a key creation does not carry what it must (or carries more): nothing was written."""


class KeyOutcomeUnknown(BrokerError):
    """The request to create a key got no answer to trust (a timeout, a 5xx): OKX may have created it."""


class KeyNotSaved(BrokerError):
    """OKX created the key, and neither where it was meant to go nor a recovery file could take it."""


def sub_account(value: str) -> str:
    if not SUB_ACCT_RE.match(value):
        raise BrokerArgumentError("subAcct", "a sub-account name is 6-20 letters or digits (no spaces)")
    return value


def label(value: str) -> str:
    if not LABEL_RE.match(value):
        raise BrokerArgumentError("label", "an API key's label is 1-50 letters or digits")
    return value


def public_key(value: str) -> str:
    if not PUBLIC_KEY_RE.match(value):
        raise BrokerArgumentError("apiKey", "an API key (its public part) is 1-64 letters, digits or dashes")
    return value


def uid(value: str) -> str:
    if not UID_RE.match(value):
        raise BrokerArgumentError("uid", "a UID is 1-32 digits")
    return value


def permissions(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``read_only`` plus what is asked, in OKX's order (``read_only``, ``trade``, ``withdraw``); None is
    ``read_only`` alone, the least a key can be. A comma-separated text or a list; an unknown word is refused."""
    words = [] if value is None else (value.split(",") if isinstance(value, str) else list(value))
    asked = {word.strip() for word in words if word.strip()}
    unknown = asked - set(PERMISSIONS)
    if unknown or len(words) > len(PERMISSIONS) + 3:
        raise BrokerArgumentError("perm", "permissions are read_only, trade and withdraw, comma-separated")
    return tuple(p for p in PERMISSIONS if p == "read_only" or p in asked)


def ip_list(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """The IP allowlist as OKX takes it: up to :data:`MAX_IPS` IPv4 or IPv6 addresses (no ranges, no IPv6 zone, an
    IPv4-mapped IPv6 address as its IPv4 one), each once, in the order given, written canonically. None or empty:
    no allowlist."""
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    addresses: list[str] = []
    if len(parts) > MAX_IPS * 2:
        raise BrokerArgumentError("ip", f"an API key takes at most {MAX_IPS} IP addresses")
    for part in (p.strip() for p in parts):
        if not part:
            continue
        address = canonical_ip(part)
        if address is None:
            raise BrokerArgumentError("ip", "each entry is one IPv4 or IPv6 address (no ranges, names or zones)")
        if address not in addresses:
            addresses.append(address)
    if len(addresses) > MAX_IPS:
        raise BrokerArgumentError("ip", f"an API key takes at most {MAX_IPS} IP addresses")
    return tuple(addresses)


def canonical_ip(text: str) -> str | None:
    """``text`` as one address written canonically (an IPv4-mapped IPv6 address as its IPv4 one), or None: not an
    address, or an IPv6 address with a zone (``fe80::1%eth0``: the zone is free text, and no allowlist takes it)."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return None
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
    return str(address)


def page(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_PAGE:
        raise BrokerArgumentError("page", f"a page number is 1-{MAX_PAGE}")
    return value


def limit(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_LIMIT:
        raise BrokerArgumentError("limit", f"OKX returns 1-{MAX_LIMIT} results per request")
    return value


def report_date(value: str, field: str) -> date:
    if not re.fullmatch(r"[0-9]{8}", value):
        raise BrokerArgumentError(field, "a date is YYYYMMDD, e.g. 20260623")
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise BrokerArgumentError(field, "a date is YYYYMMDD, and this is no calendar day") from None


def report_range(begin: str, end: str, today: date) -> tuple[str, str]:
    """``begin`` and ``end`` as OKX takes them for a rebate report: real days, neither after ``today``, the begin
    no later than the end, at most :data:`MAX_REPORT_DAYS` apart."""
    first, last = report_date(begin, "begin"), report_date(end, "end")
    if first > last:
        raise BrokerArgumentError("begin", "the begin date is after the end date")
    if (last - first).days > MAX_REPORT_DAYS:
        raise BrokerArgumentError("end", f"OKX reports at most {MAX_REPORT_DAYS} days at a time")
    if last > today:
        raise BrokerArgumentError("end", "the end date is in the future")
    return begin, end


def passphrase_fits(value: str) -> bool:
    """Whether ``value`` is a passphrase OKX takes for a new key (8-32 ASCII characters with a digit, an upper-
    and a lower-case letter and a special character)."""
    low, high = PASSPHRASE_LENGTHS
    return (
        low <= len(value) <= high
        and value.isascii()
        and value.isprintable()
        and " " not in value
        and any(c.isdigit() for c in value)
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(not c.isalnum() for c in value)
    )


def sub_profile_name(sub_acct: str, key_label: str) -> str:
    """The config profile a new sub-account key is saved as: ``sub-<subAcct>-<label>`` (at most 75 characters)."""
    return f"sub-{sub_account(sub_acct)}-{label(key_label)}"
