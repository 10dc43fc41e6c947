"""The four OKX sites (TR since OKX's skill 1.3.9) and how a user's reply to the site menu chooses one.

Pure: no I/O. A reply that is not exactly one of the menu's choices chooses nothing; there is no default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

SiteId = Literal["global", "eea", "us", "tr"]
SITE_IDS: tuple[SiteId, ...] = get_args(SiteId)
SITE_LIST = ", ".join(SITE_IDS[:-1]) + " or " + SITE_IDS[-1]
"""``global, eea, us or tr``: the ids as prose, for messages."""
SITE_CHOICES = "|".join(SITE_IDS)
"""``global|eea|us|tr``: the ids as a command's choice."""


@dataclass(frozen=True)
class Site:
    id: SiteId
    label: str
    web_host: str
    """The host users know and see (the menu, the API-key page)."""
    api_base_url: str
    """The REST API base URL, as in OKX's own agent trade kit; also the default OAuth issuer."""


SITES: dict[SiteId, Site] = {
    "global": Site("global", "Global", "www.okx.com", "https://www.okx.com"),
    "eea": Site("eea", "EEA", "my.okx.com", "https://eea.okx.com"),
    "us": Site("us", "US", "app.okx.com", "https://app.okx.com"),
    "tr": Site("tr", "TR", "tr.okx.com", "https://tr.okx.com"),
}

_FULL_WIDTH_SHIFT = ord("０") - ord("0")
"""The full-width digits U+FF10-U+FF19 are the ASCII digits shifted by this much."""
_MENU_NUMBERS: dict[str, SiteId] = {
    digits: site
    for number, site in enumerate(SITE_IDS, start=1)
    for digits in (str(number), "".join(chr(ord(d) + _FULL_WIDTH_SHIFT) for d in str(number)))
}


def parse_site_reply(reply: str) -> SiteId | None:
    """The site a reply to the menu chooses, or None when it chooses nothing. The one rule for every answer a
    user types (``choose_site``'s reply, ``login --site``).

    Accepted, with surrounding whitespace ignored: the menu's numbers ``1`` to ``4`` in ASCII or full-width
    digits (``１`` ... ``４``, as a Chinese keyboard types them), and the ids ``global`` ``eea`` ``us`` ``tr`` in
    ASCII letters of any case. Nothing else: no Unicode normalisation, so ``①``, ``¹``, ``𝟏``, ``uſ`` and
    full-width letters choose nothing, and neither do ``""`` or ``"1 or 2"``.
    """
    text = reply.strip()
    if text in _MENU_NUMBERS:
        return _MENU_NUMBERS[text]
    if not text.isascii():  # str.lower() folds some non-ASCII letters (K, the Kelvin sign) into ASCII ones
        return None
    return site_id(text.lower())


def site_id(value: str) -> SiteId | None:
    """``value`` as a site id when it is exactly one, else None (no normalisation: ids are machine input)."""
    for site in SITE_IDS:
        if value == site:
            return site
    return None
