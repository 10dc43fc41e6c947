"""JSON from outside, decoded with bounds. Pure.

Every answer from the network, every line of OKX's CLI output and every state file read back is decoded by
:func:`loads`: RFC 8259 only (no ``NaN`` or ``Infinity``, no number beyond a float's range, no integer of
4300+ digits) and nested at most ``MAX_JSON_DEPTH`` deep. Python's parser recurses once per level and raises
``RecursionError`` near 1000, which a 64 KB text (``[`` 20000 times) reaches: the depth is counted before
the text is parsed.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects accepted (OAuth and OKX answers and our files have 3 or fewer)."""


class TooDeep(ValueError):
    """JSON nested deeper than ``MAX_JSON_DEPTH``."""


def nesting(text: str) -> int:
    """How deep ``text``'s arrays and objects nest, counting the brackets outside strings: in one pass, so in
    time linear in ``len(text)`` whatever its quotes and backslashes. Exact for valid JSON (outside its strings
    a quote only opens one; inside, a backslash escapes the next character), and for any text up to where a
    parser stops at its first error (a string never closed runs to the end): the parser never goes deeper
    than this."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif char in "]}" and depth:
            depth -= 1
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400
        raise ValueError("a number out of range")
    return number


def loads(text: str) -> Any:
    """The decoded value; :class:`TooDeep` or another ``ValueError`` (``JSONDecodeError``, a constant, a number
    out of range) when ``text`` is not bounded RFC 8259 JSON."""
    if nesting(text) > MAX_JSON_DEPTH:
        raise TooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:  # unreachable after the count; kept so no input can crash a caller
        raise TooDeep("JSON nested too deep") from None
