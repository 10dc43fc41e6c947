"""Why an OKX login "expires": facts in, a checklist out. Pure: no I/O, no clock.

``login.diagnose`` gathers the facts (``facts``: what the config file, the environment, the state directory,
the network and the clock looked like, and which hosts to probe); :func:`checks` turns them into the
checklist (``checklist``), area by area: ``config_checks``, ``network_checks`` (with the thresholds: clock
flagged beyond 30 s and failing beyond 90 s, round trip flagged above 300 ms), ``login_checks``. Each item
has an id, a status (ok, warn, fail, skip), a finding and a next step, in English and Chinese.
"""

from __future__ import annotations

from okx_auth_mcp.core.diagnosis.checklist import Check, Report
from okx_auth_mcp.core.diagnosis.config_checks import config_checks
from okx_auth_mcp.core.diagnosis.facts import LocalFacts, NetworkFacts, Plan, plan
from okx_auth_mcp.core.diagnosis.login_checks import backend_checks, oauth_checks, state_checks, storage_check
from okx_auth_mcp.core.diagnosis.network_checks import clock_check, proxy_check, target_checks

__all__ = ["checks", "plan", "report"]


def checks(local: LocalFacts, network: NetworkFacts) -> tuple[Check, ...]:
    """The whole checklist, in a fixed order: config, network, clock, the okx CLI (when it has a note), OAuth,
    state directory, token storage (native backend)."""
    out = config_checks(local.config)
    out.append(proxy_check(local, network))
    for t in network.targets:
        out.extend(target_checks(t))
    out.append(clock_check(network))
    out.extend(backend_checks(local))
    out.extend(oauth_checks(local, network))
    out.extend(state_checks(local.state))
    out.extend(storage_check(local))
    return tuple(out)


def report(local: LocalFacts, chosen: Plan, network: NetworkFacts) -> Report:
    return Report(local.backend, chosen, checks(local, network))
