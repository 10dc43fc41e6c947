"""Questions to a person at a terminal: the prompts go to stderr (stdout carries a command's result only, which
may be JSON), answers come from stdin, secrets through ``getpass`` (the terminal's echo off). A question that
gets no usable answer is asked again: there are no defaults but the ones a prompt names. At the end of the input
(Ctrl-D) :class:`InputEnded` is raised; Ctrl-C raises ``KeyboardInterrupt`` as usual."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from okx_auth_mcp.core import terminal_texts, texts
from okx_auth_mcp.core.sites import SiteId, parse_site_reply
from okx_auth_mcp.core.texts import Lang

T = TypeVar("T")


class InputEnded(Exception):
    """stdin (or the terminal) ended before the question was answered."""


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def ask_line(prompt: str) -> str:
    """One line typed at the terminal, without its newline."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        say("")
        raise InputEnded("the input ended before the question was answered")
    return line.rstrip("\r\n")


def ask_hidden(prompt: str) -> str:
    """One line typed with the terminal's echo off."""
    import getpass  # only a command that asks for a secret pays for it

    try:
        return getpass.getpass(prompt, stream=sys.stderr)
    except EOFError:
        say("")
        raise InputEnded("the input ended before the question was answered") from None


def ask_until(prompt: str, parse: Callable[[str], T | None], read: Callable[[str], str] = ask_line) -> T:
    """``prompt`` again until ``parse`` makes something of the answer."""
    while True:
        answer = parse(read(prompt))
        if answer is not None:
            return answer


def ask_site(lang: Lang) -> SiteId:
    """The site menu until the reply chooses a site (Enter asks again: there is no default)."""
    say(texts.SITE_MENU)
    return ask_until(terminal_texts.site_prompt(lang), parse_site_reply)
