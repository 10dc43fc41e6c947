"""OKX's server time, as ``GET /api/v5/public/time`` tells it, and how far from it a clock may plausibly be. Pure.

Diagnose (``edges.net_probes``) and verify_credentials (``edges.okx_api.OkxApi.server_time``) read the answer
with :func:`okx_time`; both turn timed readings into an offset with one copy of the midpoint arithmetic,
``core.diagnosis.facts.clock_offset`` (positive: this computer's clock is behind OKX's). verify_credentials
signs with a measured offset only when it is within :data:`MAX_OFFSET_SECONDS`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from okx_auth_mcp.core.oauth_errors import BadResponse
from okx_auth_mcp.core.records import Frozen, Unfit, validated

MAX_OFFSET_SECONDS = 24 * 3600.0
"""A reading that puts this computer's clock further than a day from OKX's is refused, not used: a clock that
far off is not a drift to correct for, and a server that says so is not telling OKX's time."""

_EARLIEST, _LATEST = 946_684_800.0, 7_258_118_400.0  # 2000-01-01 and 2200-01-01: anything else is not a time


class _TimeEntry(Frozen):
    ts: str = Field(pattern=r"^[0-9]{10,16}$")


class _TimeData(Frozen):
    data: list[_TimeEntry] = Field(min_length=1, max_length=8)


def okx_time(data: Any) -> float:
    """Seconds since the epoch from the ``data`` of OKX's successful answer, ``[{"ts": "<milliseconds>"}]``: a
    time between 2000 and 2200; ``BadResponse`` for anything else."""
    try:
        entries = validated(_TimeData, {"data": data}).data
    except Unfit:
        raise BadResponse("not OKX's server time") from None
    seconds = int(entries[0].ts) / 1000
    if not _EARLIEST <= seconds <= _LATEST:
        raise BadResponse("not OKX's server time")
    return seconds


def plausible(offset: float) -> bool:
    """Whether an offset (seconds) is one to sign with: at most :data:`MAX_OFFSET_SECONDS` either way."""
    return abs(offset) <= MAX_OFFSET_SECONDS
