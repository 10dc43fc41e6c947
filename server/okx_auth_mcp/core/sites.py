"""The three OKX sites and how a user's reply to the site menu chooses one.

Pure: no I/O. A reply that is not exactly one of the menu's choices chooses nothing; there is no default.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal, get_args

SiteId = Literal["global", "eea", "us"]
SITE_IDS: tuple[SiteId, ...] = get_args(SiteId)


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
}

_MENU_NUMBERS: dict[str, SiteId] = {str(i): site for i, site in enumerate(SITE_IDS, start=1)}


def parse_site_reply(reply: str) -> SiteId | None:
    """The site a reply to the menu chooses, or None when it chooses nothing.

    Accepted: ``1`` ``2`` ``3`` (full-width digits too) and ``global`` ``eea`` ``us``, case-insensitive,
    surrounding whitespace ignored. Anything else, including ``""`` and ``"1 or 2"``, is None.
    """
    text = unicodedata.normalize("NFKC", reply).strip().casefold()
    if text in _MENU_NUMBERS:
        return _MENU_NUMBERS[text]
    for site in SITE_IDS:
        if text == site:
            return site
    return None


def site_id(value: str) -> SiteId | None:
    """``value`` as a site id when it is exactly one, else None (no normalisation: ids are machine input)."""
    for site in SITE_IDS:
        if value == site:
            return site
    return None
