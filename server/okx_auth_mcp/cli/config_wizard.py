"""``config init``'s questions at a terminal, in the order of OKX's own wizard, without its defaults: the site
(the menu, no default), demo or live (no default: a key of the other kind is refused, 50101), where to create the
key, the profile name (OKX's default; an existing one is replaced only on a yes), the API key, then the secret key
and the passphrase with the echo off. Each value is checked as it is typed, and asked again, by its field, when
it does not fit: what comes out is a checked :class:`NewProfile`. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass

from okx_auth_mcp.cli.prompts import ask_hidden, ask_line, ask_site, ask_until, say
from okx_auth_mcp.core import terminal_texts as words
from okx_auth_mcp.core.okx_config_edit import FieldName, NewProfile, default_profile_name, problem_of
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.core.texts import Lang


@dataclass(frozen=True)
class Given:
    """What the command line said already (its questions are not asked)."""

    site: SiteId | None = None
    demo: bool | None = None
    profile: str | None = None
    replace: bool = False


@dataclass(frozen=True)
class Answers:
    profile: NewProfile
    replace: bool
    """The profile exists, and the user (or ``--replace``) said to replace it."""


def ask_profile(lang: Lang, given: Given, existing: frozenset[str]) -> Answers:
    site = given.site or ask_site(lang)
    demo = given.demo
    if demo is None:
        say(words.mode_menu(lang))
        demo = ask_until(words.mode_prompt(lang), words.parse_mode_reply)
    say(words.create_key_hint(lang, site, demo))
    name, replace = _ask_name(lang, given, demo, existing)
    api_key = _ask_value(lang, "api_key", hidden=False)
    secret_key = _ask_value(lang, "secret_key", hidden=True)
    passphrase = _ask_value(lang, "passphrase", hidden=True)
    return Answers(NewProfile(name, site, demo, api_key, secret_key, passphrase).checked(), replace)


def _ask_name(lang: Lang, given: Given, demo: bool, existing: frozenset[str]) -> tuple[str, bool]:
    """The profile's name, and whether it replaces one of that name (asked; anything but yes is no, and asks
    for another name)."""
    default = default_profile_name(demo)
    name = given.profile
    while True:
        if name is None:
            name = ask_until(
                words.profile_prompt(lang, default), lambda reply: _fit(lang, "name", reply.strip() or default)
            )
        if name not in existing:
            return name, False
        if given.replace or words.is_yes(ask_line(words.replace_question(lang, name))):
            return name, True
        say(words.not_replaced(lang))
        name = None


def _ask_value(lang: Lang, field_name: FieldName, *, hidden: bool) -> str:
    return ask_until(
        words.value_prompt(lang, field_name, hidden),
        lambda value: _fit(lang, field_name, value),
        ask_hidden if hidden else ask_line,
    )


def _fit(lang: Lang, field_name: FieldName, value: str) -> str | None:
    """``value`` when it fits the field; else None, after saying what is wrong (never the value)."""
    problem = problem_of(field_name, value)
    if problem is None:
        return value
    say(words.invalid_value(lang, field_name, problem))
    return None
