"""OKX's documented rate limits for the Broker routes, honoured before a request is sent. Pure: the times of
the requests sent before, and now, come in.

A rule is ``count`` requests per ``window`` seconds (per account: OKX's rule is "UserID"). :func:`wait_for` says
how long a new request must wait so that no window of that length holds more than ``count`` of them; the caller
waits when that is short (:data:`MAX_WAIT_SECONDS`) and refuses otherwise, never sending a request OKX would
refuse with 50011.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_WAIT_SECONDS = 2.0
"""The longest a call waits for its turn; a longer wait is a refusal that says when to try again."""


@dataclass(frozen=True)
class Rule:
    count: int
    window: float

    def words(self) -> str:
        if self.window >= 3600:
            return f"{self.count} per {self.window / 3600:g} hour"
        if self.window >= 60:
            return f"{self.count} per {self.window / 60:g} minute"
        return f"{self.count} per {self.window:g} second"


RULES: dict[str, Rule] = {
    "broker_subaccounts": Rule(1, 1.0),
    "broker_fee_rates": Rule(1, 1.0),
    "broker_create_key": Rule(40, 1.0),
    "broker_keys": Rule(1, 1.0),
    "broker_rebate_links": Rule(2, 60.0),
    "broker_rebate_generate": Rule(1, 3600.0),
    "broker_if_rebate": Rule(2, 1.0),
}
"""Each route's limit, as OKX's Broker documentation gives it."""


def recent(sent: Sequence[float], rule: Rule, now: float) -> list[float]:
    """The times of ``sent`` that still count against ``rule`` at ``now``. A time in the future counts as now: a
    clock set back opens no window, and one that ran fast (or a planted time) blocks a route one window at most."""
    return sorted(min(t, now) for t in sent if t > now - rule.window)


def wait_for(sent: Sequence[float], rule: Rule, now: float) -> float:
    """Seconds until one more request fits ``rule`` (0.0: now)."""
    counted = recent(sent, rule, now)
    if len(counted) < rule.count:
        return 0.0
    return max(0.0, counted[-rule.count] + rule.window - now)
