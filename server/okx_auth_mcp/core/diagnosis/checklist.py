"""The checklist ``diagnose`` shows: items (:class:`Check`) with an id, a status, a finding and a next step,
in English and Chinese (:class:`Words`), and the :class:`Report` that renders them as text or data. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from okx_auth_mcp.core.diagnosis.facts import Plan, Role
from okx_auth_mcp.core.texts import Lang

Status = Literal["ok", "warn", "fail", "skip"]
RANK: dict[Status, int] = {"skip": 0, "ok": 1, "warn": 2, "fail": 3}


@dataclass(frozen=True)
class Words:
    """One text in both languages."""

    en: str
    zh: str

    def __call__(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Check:
    """One item of the checklist. ``id`` is stable (``clock.offset``, ``network.dns`` ...); ``next`` is what the
    user can do, for a warn or fail."""

    id: str
    status: Status
    title: Words
    finding: Words
    next: Words | None = None
    target: str | None = None
    """The host (``host:port``) a network check is about."""

    def view(self, lang: Lang) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status, "title": self.title(lang)}
        if self.target is not None:
            out["target"] = self.target
        out["finding"] = self.finding(lang)
        if self.next is not None:
            out["next"] = self.next(lang)
        return out


TITLES: dict[str, Words] = {
    "config.file": Words("Config file", "配置文件"),
    "config.env": Words("API key in the environment", "环境变量中的 API key"),
    "config.permissions": Words("Config file permissions", "配置文件权限"),
    "config.site_host": Words("Profile site and base_url", "配置的站点与 base_url"),
    "config.profiles": Words("API-key profile in effect", "生效的 API key 配置"),
    "config.partial": Words("Incomplete API key", "不完整的 API key"),
    "network.proxy": Words("Proxy", "代理"),
    "network.dns": Words("DNS", "域名解析"),
    "network.connect": Words("Connection", "连接"),
    "network.latency": Words("Round trip", "往返延迟"),
    "clock.offset": Words("Clock", "系统时钟"),
    "backend.okx_cli": Words("OKX's okx CLI", "OKX 的 okx CLI"),
    "oauth.session": Words("OAuth login", "OAuth 登录"),
    "oauth.refresh": Words("Token refresh", "令牌刷新"),
    "state.permissions": Words("State directory permissions", "状态目录权限"),
    "state.lock": Words("State lock", "状态锁"),
    "storage": Words("Token storage", "令牌存放位置"),
}
LOGIN_NEXT = Words(
    "Log in again: call preflight (or run okx-auth-mcp login --site global|eea|us|tr).",
    "重新登录：调用 preflight（或运行 okx-auth-mcp login --site global|eea|us|tr）。",
)


def item(
    check_id: str, status: Status, finding: Words, next_step: Words | None = None, target: str | None = None
) -> Check:
    return Check(check_id, status, TITLES[check_id], finding, next_step, target)


NET_NEXT = Words(
    "Check the network connection, firewall and proxy settings (HTTPS_PROXY/NO_PROXY); OKX may be blocked on "
    "this network: try another network.",
    "检查网络连接、防火墙和代理设置（HTTPS_PROXY/NO_PROXY）；此网络可能屏蔽了 OKX：换一个网络试试。",
)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def octal(bits: int) -> str:
    return f"{bits:04o}"


# ----- the report -----------------------------------------------------------------------------------------

_MARK: dict[Lang, dict[Status, str]] = {
    "en": {"ok": "[ok]", "warn": "[warn]", "fail": "[FAIL]", "skip": "[skip]"},
    "zh": {"ok": "[正常]", "warn": "[警告]", "fail": "[失败]", "skip": "[跳过]"},
}
_ROLE: dict[Role, str] = {"api": "API", "oauth": "OAuth"}


def _site_line(plan: Plan) -> Words:
    site = plan.site or "-"
    if plan.source == "api_key":
        named = plan.site or "global (no site set)"
        named_zh = plan.site or "global（未设置站点）"
        return Words(
            f"{named}, from the API-key profile {plan.profile}", f"{named_zh}，来自 API key 配置 {plan.profile}"
        )
    if plan.source == "session":
        return Words(f"{site}, from the OAuth session", f"{site}，来自 OAuth 会话")
    if plan.source == "pending":
        return Words(f"{site}, from the pending login", f"{site}，来自待完成的登录")
    if plan.source == "issuer":
        return Words(
            f"{site}; hosts from OKX_OAUTH_ISSUER" if plan.site else "none chosen yet; hosts from OKX_OAUTH_ISSUER",
            f"{site}；主机来自 OKX_OAUTH_ISSUER" if plan.site else "尚未选择；主机来自 OKX_OAUTH_ISSUER",
        )
    if plan.source == "config":
        return Words(f"{site}, from the config file", f"{site}，来自配置文件")
    return Words("none chosen yet: all three sites probed", "尚未选择：探测全部三个站点")


@dataclass(frozen=True)
class Report:
    backend: str
    plan: Plan
    checks: tuple[Check, ...]

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)

    def counts(self) -> dict[Status, int]:
        return {s: sum(1 for c in self.checks if c.status == s) for s in ("fail", "warn", "ok", "skip")}

    def hosts(self) -> str:
        return ", ".join(f"{t.display} ({'+'.join(_ROLE[r] for r in sorted(t.roles))})" for t in self.plan.targets)

    def render(self, lang: Lang) -> str:
        """The checklist as text: a header (backend, site, hosts), one line per check with its next step
        below it, and a count."""
        c = self.counts()
        if lang == "zh":
            lines = [
                "OKX 登录诊断",
                f"后端：{self.backend}",
                f"站点：{_site_line(self.plan).zh}",
                f"探测主机：{self.hosts()}",
                "",
            ]
        else:
            lines = [
                "OKX login diagnosis",
                f"Backend: {self.backend}",
                f"Site: {_site_line(self.plan).en}",
                f"Hosts probed: {self.hosts()}",
                "",
            ]
        colon = "：" if lang == "zh" else ": "
        next_word = "下一步：" if lang == "zh" else "Next: "
        for check in self.checks:
            title = check.title(lang) if check.target is None else f"{check.title(lang)} {check.target}"
            lines.append(f"{_MARK[lang][check.status]} {title}{colon}{check.finding(lang)}")
            if check.next is not None:
                lines.append(f"    {next_word}{check.next(lang)}")
        lines.append("")
        if lang == "zh":
            lines.append(f"结果：{c['fail']} 项失败，{c['warn']} 项警告，{c['ok']} 项正常，{c['skip']} 项跳过。")
        else:
            lines.append(f"Result: {c['fail']} failed, {c['warn']} flagged, {c['ok']} ok, {c['skip']} skipped.")
        return "\n".join(lines)

    def view(self, lang: Lang) -> dict[str, Any]:
        """The checklist as data (the CLI's ``--json``, the tool's structured result, without ``reply``)."""
        return {
            "ok": not self.failed,
            "backend": self.backend,
            "site": self.plan.site,
            "site_source": self.plan.source,
            "hosts": [t.display for t in self.plan.targets],
            "checks": [c.view(lang) for c in self.checks],
        }
