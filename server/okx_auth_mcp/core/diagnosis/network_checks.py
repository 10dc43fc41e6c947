"""The network checks of ``diagnose``: the proxy in effect; DNS, the TCP/TLS connection and the round trip for
each host probed; the clock against OKX's server time. Pure.

Thresholds: the clock is flagged beyond ``CLOCK_WARN_SECONDS`` and fails beyond ``CLOCK_FAIL_SECONDS``; a
round trip above ``LATENCY_WARN_SECONDS`` is flagged."""

from __future__ import annotations

from okx_auth_mcp.core.diagnosis.checklist import NET_NEXT, Check, Status, Words, item, ms
from okx_auth_mcp.core.diagnosis.facts import LocalFacts, NetworkFacts, TargetFacts, clock_offset
from okx_auth_mcp.core.diagnosis.urls import NOT_A_URL, host_port, is_ip

CLOCK_WARN_SECONDS = 30.0
"""Beyond this offset signed requests risk being rejected as expired."""
CLOCK_FAIL_SECONDS = 90.0
"""Beyond this offset OKX ends login sessions (the troubleshooting article's figure)."""
LATENCY_WARN_SECONDS = 0.3


def proxy_check(local: LocalFacts, network: NetworkFacts) -> Check:
    parts_en: list[str] = []
    parts_zh: list[str] = []
    status: Status = "ok"
    if local.proxy_env:
        shown = ", ".join(f"{name}={value}" for name, value in local.proxy_env)
        parts_en.append(f"set: {shown}")
        parts_zh.append(f"已设置：{shown}")
        if any(value == NOT_A_URL for _, value in local.proxy_env):
            status = "warn"
    for t in network.targets:
        if t.proxy is None:
            parts_en.append(f"{t.target.display} direct")
            parts_zh.append(f"{t.target.display} 直连")
        else:
            parts_en.append(f"{t.target.display} via {t.proxy}")
            parts_zh.append(f"{t.target.display} 经由 {t.proxy}")
    for p in local.config.profiles:
        if p.proxy_url:
            parts_en.append(f"profile {p.name} sets proxy_url {p.proxy_url} (for OKX's own client)")
            parts_zh.append(f"配置 {p.name} 设置了 proxy_url {p.proxy_url}（供 OKX 自己的客户端使用）")
            if p.proxy_url == NOT_A_URL:
                status = "warn"
    if not local.proxy_env and not any(p.proxy_url for p in local.config.profiles):
        parts_en.insert(0, "no proxy variables set")
        parts_zh.insert(0, "未设置代理变量")
    finding = Words("; ".join(parts_en) + ".", "；".join(parts_zh) + "。")
    next_step = (
        Words(
            "Write the proxy as http://HOST:PORT (or socks5://HOST:PORT).",
            "将代理写成 http://主机:端口（或 socks5://主机:端口）。",
        )
        if status == "warn"
        else None
    )
    return item("network.proxy", status, finding, next_step)


def target_checks(t: TargetFacts) -> list[Check]:
    where = t.target.display
    via = t.proxy
    looked_up = host_port(via or t.target.base)[0]
    out: list[Check] = []
    if t.dns.error is not None:
        out.append(
            item(
                "network.dns",
                "fail",
                Words(f"Cannot resolve {looked_up}: {t.dns.error}.", f"无法解析 {looked_up}：{t.dns.error}。"),
                Words(
                    "Check the DNS settings (try another DNS server, e.g. your router's or a public one) and that "
                    "the host name is right.",
                    "检查 DNS 设置（可换用其他 DNS 服务器，如路由器或公共 DNS），并确认主机名正确。",
                ),
                where,
            )
        )
        skipped = Words("Skipped: the host name did not resolve.", "跳过：主机名无法解析。")
        out.append(item("network.connect", "skip", skipped, target=where))
        out.append(item("network.latency", "skip", skipped, target=where))
        return out
    if is_ip(looked_up):
        dns = Words(f"{looked_up} is an IP address: no lookup needed.", f"{looked_up} 是 IP 地址：无需解析。")
    else:
        seconds = ms(t.dns.seconds or 0.0)
        dns = Words(f"{looked_up} → {t.dns.detail} ({seconds}).", f"{looked_up} → {t.dns.detail}（{seconds}）。")
    out.append(item("network.dns", "ok", dns, target=where))

    connect = t.connect
    if connect is None or connect.error is not None:
        error = "not attempted" if connect is None or connect.error is None else connect.error
        through = f"the proxy {via}" if via else where
        through_zh = f"代理 {via}" if via else where
        tls = error.startswith("TLS")
        out.append(
            item(
                "network.connect",
                "fail",
                Words(f"Cannot connect to {through}: {error}.", f"无法连接 {through_zh}：{error}。"),
                Words(
                    "A proxy, firewall or antivirus may be intercepting TLS: check the system time and the proxy, "
                    "or try another network.",
                    "代理、防火墙或杀毒软件可能拦截了 TLS：检查系统时间和代理，或换一个网络。",
                )
                if tls
                else NET_NEXT,
                where,
            )
        )
        out.append(
            item(
                "network.latency",
                "skip",
                Words("Skipped: no connection.", "跳过：无法连接。"),
                target=where,
            )
        )
        return out
    took = ms(connect.seconds or 0.0)
    if via:
        finding = Words(
            f"The proxy {via} accepts connections ({took}); TLS to {where} goes through it.",
            f"代理 {via} 可以连接（{took}）；到 {where} 的 TLS 经由代理建立。",
        )
    elif connect.detail:
        finding = Words(f"TCP and TLS ({connect.detail}) in {took}.", f"TCP 与 TLS（{connect.detail}）耗时 {took}。")
    else:
        finding = Words(f"TCP in {took} (plain http, no TLS).", f"TCP 耗时 {took}（明文 http，无 TLS）。")
    out.append(item("network.connect", "ok", finding, target=where))

    if t.http_error is not None or not t.samples:
        error = t.http_error or "no answer"
        out.append(
            item(
                "network.latency",
                "fail",
                Words(f"No answer over HTTP: {error}.", f"HTTP 请求没有应答：{error}。"),
                NET_NEXT,
                where,
            )
        )
        return out
    rtt = min(s.rtt for s in t.samples)
    if rtt > LATENCY_WARN_SECONDS:
        out.append(
            item(
                "network.latency",
                "warn",
                Words(
                    f"Round trip {ms(rtt)}, above {ms(LATENCY_WARN_SECONDS)}: requests may time out and logins "
                    "may fail.",
                    f"往返 {ms(rtt)}，超过 {ms(LATENCY_WARN_SECONDS)}：请求可能超时，登录可能失败。",
                ),
                Words(
                    "Use a faster or wired connection, or a proxy/VPN closer to the site; avoid congested public "
                    "Wi-Fi.",
                    "使用更快的网络或有线连接，或离站点更近的代理/VPN；避免拥挤的公共 Wi-Fi。",
                ),
                where,
            )
        )
    else:
        out.append(item("network.latency", "ok", Words(f"Round trip {ms(rtt)}.", f"往返 {ms(rtt)}。"), target=where))
    return out


def clock_check(network: NetworkFacts) -> Check:
    api = [t for t in network.targets if "api" in t.target.roles]
    measured = [(t, clock_offset(t.samples)) for t in api]
    found = [(t, m) for t, m in measured if m is not None]
    if not found:
        answered = [t for t in api if t.samples and t.time_error]
        if answered:
            t = answered[0]
            return item(
                "clock.offset",
                "warn",
                Words(
                    f"{t.target.display} answered, but not with OKX's server time ({t.time_error}).",
                    f"{t.target.display} 有应答，但不是 OKX 服务器时间（{t.time_error}）。",
                ),
                Words(
                    "Check the base_url or OKX_OAUTH_ISSUER; a proxy or captive portal may be answering instead.",
                    "检查 base_url 或 OKX_OAUTH_ISSUER；可能是代理或网页认证页面在应答。",
                ),
            )
        return item(
            "clock.offset",
            "skip",
            Words("Not measured: no OKX API host answered.", "未测量：没有 OKX API 主机应答。"),
        )
    target, (offset, uncertainty) = min(found, key=lambda item: item[1][1])
    size, plus = f"{abs(offset):.1f} s", f"±{uncertainty:.1f} s"
    size_zh, plus_zh = f"{abs(offset):.1f} 秒", f"±{uncertainty:.1f} 秒"
    side, side_zh = ("behind", "慢") if offset > 0 else ("ahead of", "快")
    against = target.target.display
    magnitude = abs(offset)
    if magnitude <= CLOCK_WARN_SECONDS:
        return item(
            "clock.offset",
            "ok",
            Words(
                f"This device's clock is within {CLOCK_WARN_SECONDS:.0f} s of OKX's server time (off by {size} "
                f"{plus}, against {against}).",
                f"本机时钟与 OKX 服务器时间相差在 {CLOCK_WARN_SECONDS:.0f} 秒以内（相差 {size_zh}，误差 {plus_zh}，"
                f"对比 {against}）。",
            ),
        )
    status: Status = "fail" if magnitude > CLOCK_FAIL_SECONDS else "warn"
    consequence = (
        f"more than {CLOCK_FAIL_SECONDS:.0f} s: OKX ends login sessions and rejects requests"
        if status == "fail"
        else f"more than {CLOCK_WARN_SECONDS:.0f} s: OKX may reject signed requests as expired, and beyond "
        f"{CLOCK_FAIL_SECONDS:.0f} s it ends login sessions"
    )
    consequence_zh = (
        f"超过 {CLOCK_FAIL_SECONDS:.0f} 秒：OKX 会终止登录会话并拒绝请求"
        if status == "fail"
        else f"超过 {CLOCK_WARN_SECONDS:.0f} 秒：OKX 可能把签名请求视为过期而拒绝，"
        f"超过 {CLOCK_FAIL_SECONDS:.0f} 秒会终止登录会话"
    )
    return item(
        "clock.offset",
        status,
        Words(
            f"This device's clock is {size} {side} OKX's server time ({plus}, against {against}): {consequence}.",
            f"本机时钟比 OKX 服务器时间{side_zh} {size_zh}（误差 {plus_zh}，对比 {against}）：{consequence_zh}。",
        ),
        Words(
            "Turn on automatic time (NTP): Linux `sudo timedatectl set-ntp true`; macOS System Settings > General > "
            "Date & Time > Set time and date automatically; Windows Settings > Time & language > Date & time > Sync "
            "now. Then log in again if the session ended.",
            "开启自动对时（NTP）：Linux 运行 `sudo timedatectl set-ntp true`；macOS 在“系统设置 > 通用 > 日期与时间”"
            "中开启自动设置；Windows 在“设置 > 时间和语言 > 日期和时间”中点“立即同步”。如会话已结束，再重新登录。",
        ),
    )
