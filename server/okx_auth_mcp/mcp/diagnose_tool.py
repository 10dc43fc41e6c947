"""The ``diagnose(lang)`` MCP tool: the read-only checklist of ``login.diagnose``, with the boundary's helpers.
``build_server`` adds it with :func:`register`.

No ``from __future__ import annotations`` here: the SDK reads the tool's annotations."""

from typing import TYPE_CHECKING, Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from okx_auth_mcp.core.diagnosis.checklist import Status
from okx_auth_mcp.core.diagnosis.facts import PlanSource
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.mcp.boundary import LangArg, ToolOut, boundary, result, run_sync

if TYPE_CHECKING:
    from okx_auth_mcp.login.diagnose import ProbeOptions


class CheckOut(ToolOut):
    id: str = Field(description="Stable check id, e.g. clock.offset, network.dns, config.permissions.")
    status: Status
    title: str
    target: str | None = Field(None, description="The host:port a network check is about.")
    finding: str
    next: str | None = Field(None, description="What the user can do about it.")


class DiagnoseOut(ToolOut):
    reply: str = Field(description="The checklist: show it to the user verbatim.")
    ok: bool = Field(description="True when no check failed (warnings allowed).")
    backend: str = Field(description="The login backend in use.")
    site: SiteId | None = Field(None, description="The site in effect, when one is known.")
    site_source: PlanSource = Field(description="Where the site and the probed hosts come from.")
    hosts: list[str] = Field(description="The hosts probed (host:port).")
    checks: list[CheckOut]


def register(mcp: MCPServer, service: AuthService, options: "ProbeOptions | None" = None) -> None:
    """Add the ``diagnose`` tool to ``mcp``. ``options`` (timeouts, resolver, clock) are for tests."""

    @mcp.tool(
        name="diagnose",
        title="Diagnose OKX login problems",
        annotations=ToolAnnotations(
            read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        ),
        description=(
            "Read-only checks for why an OKX login or API key keeps failing or a session keeps 'expiring': the "
            "device clock against OKX's server time (OKX ends sessions when it is off by more than 90 s), DNS, "
            "TLS and round-trip latency to the site's hosts, proxy settings, the OKX config file (parse errors, "
            "partial credentials, permissions, a site that disagrees with its base_url, several API keys), the "
            "OAuth state (logged in, pending, ended; whether a refresh is due and the token endpoint answers), "
            "and the state directory's permissions and lock. Use it when the user says their login keeps "
            "expiring or a tool failed with network_error, discovery_failed or state_error. It changes nothing: "
            "no login, no refresh, no state written; it is not a login step (use preflight for that). Show `reply` "
            "to the user verbatim; each failed or flagged item carries its next step. Call it once, not in a loop."
        ),
    )
    @boundary
    async def diagnose_tool(lang: LangArg = "en") -> Annotated[CallToolResult, DiagnoseOut]:
        from okx_auth_mcp.login.diagnose import diagnose  # the probes' I/O stack loads on first use, not at start-up

        report = await run_sync(lambda: diagnose(service, options))
        view = report.view(lang)
        return result(
            DiagnoseOut(
                reply=report.render(lang),
                ok=view["ok"],
                backend=view["backend"],
                site=view["site"],
                site_source=view["site_source"],
                hosts=view["hosts"],
                checks=[CheckOut(**check) for check in view["checks"]],
            )
        )
