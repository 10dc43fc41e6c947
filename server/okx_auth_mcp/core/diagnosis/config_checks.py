"""The config checks of ``diagnose``: the file (parse errors), the environment's credentials (a partial set),
the file's permissions, each profile's site against its base_url host, and which API-key profile is in
effect and why. Pure."""

from __future__ import annotations

from okx_auth_mcp.core.diagnosis.checklist import RANK, Check, Status, Words, item, octal
from okx_auth_mcp.core.diagnosis.facts import ConfigFacts, site_hosts, site_of_host
from okx_auth_mcp.core.sites import SITES


def config_checks(cfg: ConfigFacts) -> list[Check]:
    out: list[Check] = []
    if cfg.error is not None:
        out.append(
            item(
                "config.file",
                "fail",
                Words(cfg.error, f"配置文件无法使用：{cfg.error}"),
                Words(
                    "Fix the file (okx-auth-mcp never changes it), then run diagnose again.",
                    "修正该文件（okx-auth-mcp 不会修改它），然后重新运行诊断。",
                ),
            )
        )
    elif not cfg.exists:
        out.append(
            item(
                "config.file",
                "ok",
                Words(
                    f"No config file at {cfg.path}: no API key from a file; the OAuth login applies.",
                    f"{cfg.path} 不存在：没有来自文件的 API key，使用 OAuth 登录。",
                ),
            )
        )
    else:
        names = ", ".join(p.name for p in cfg.profiles if not p.from_env) or "-"
        count = sum(1 for p in cfg.profiles if not p.from_env)
        out.append(
            item(
                "config.file",
                "ok",
                Words(
                    f"{cfg.path}: valid, {count} profile(s): {names}.",
                    f"{cfg.path}：格式正确，{count} 个配置：{names}。",
                ),
            )
        )

    if cfg.env_error is not None:
        out.append(
            item(
                "config.env",
                "fail",
                Words(cfg.env_error, f"环境变量中的 API key 不完整：{cfg.env_error}"),
                Words(
                    "Set all three of OKX_API_KEY, OKX_SECRET_KEY and OKX_PASSPHRASE, or unset them.",
                    "同时设置 OKX_API_KEY、OKX_SECRET_KEY 和 OKX_PASSPHRASE 三个变量，或全部取消。",
                ),
            )
        )
    elif any(p.from_env for p in cfg.profiles):
        out.append(
            item(
                "config.env",
                "ok",
                Words(
                    "OKX_API_KEY, OKX_SECRET_KEY and OKX_PASSPHRASE are set: the profile 'env'.",
                    "已设置 OKX_API_KEY、OKX_SECRET_KEY 和 OKX_PASSPHRASE：即配置 env。",
                ),
            )
        )
    else:
        out.append(item("config.env", "ok", Words("No API key in the environment.", "环境变量中没有 API key。")))

    for p in cfg.profiles:
        if p.missing and not p.from_env:
            fields = " and ".join(p.missing)
            out.append(
                item(
                    "config.partial",
                    "fail",
                    Words(
                        f"The profile {p.name} has an api_key but no {fields}: OKX refuses every request it signs.",
                        f"配置 {p.name} 有 api_key，但缺少 {fields}：用它签名的请求都会被 OKX 拒绝。",
                    ),
                    Words(
                        f"Add the {fields} of that API key to {cfg.path}, or remove its api_key.",
                        f"在 {cfg.path} 中补上该 API key 的 {fields}，或删除其 api_key。",
                    ),
                )
            )
    out.append(_permissions_check(cfg))
    out.append(_site_host_check(cfg))
    out.append(_profiles_check(cfg))
    return out


def _permissions_check(cfg: ConfigFacts) -> Check:
    if not cfg.exists:
        return item("config.permissions", "skip", Words("No config file.", "没有配置文件。"))
    if cfg.mode is None:
        return item("config.permissions", "skip", Words("Not checked on this system.", "此系统上不检查文件权限。"))
    if cfg.holds_secrets is False:
        return item(
            "config.permissions",
            "ok",
            Words(f"Mode {octal(cfg.mode)}; the file holds no keys.", f"权限 {octal(cfg.mode)}；文件中没有密钥。"),
        )
    if cfg.mode & 0o077:
        holds = "holds API keys" if cfg.holds_secrets else "may hold API keys"
        holds_zh = "保存着 API 密钥" if cfg.holds_secrets else "可能保存着 API 密钥"
        return item(
            "config.permissions",
            "warn",
            Words(
                f"{cfg.path} {holds} and is mode {octal(cfg.mode)}: other users of this machine can read or change it.",
                f"{cfg.path} {holds_zh}，权限为 {octal(cfg.mode)}：本机其他用户可以读取或修改。",
            ),
            Words(f"Run: chmod 600 {cfg.path}", f"运行：chmod 600 {cfg.path}"),
        )
    return item(
        "config.permissions",
        "ok",
        Words(f"Mode {octal(cfg.mode)}: only you can read it.", f"权限 {octal(cfg.mode)}：只有你能读取。"),
    )


def _site_host_check(cfg: ConfigFacts) -> Check:
    status: Status = "ok"
    en: list[str] = []
    zh: list[str] = []
    next_en: list[str] = []
    next_zh: list[str] = []
    compared = 0
    for p in cfg.profiles:
        if p.base_url is None:
            continue
        if not p.base_url_ok:
            status = "fail"
            en.append(f"profile {p.name}: base_url is not an http(s) URL")
            zh.append(f"配置 {p.name}：base_url 不是 http(s) 地址")
            next_en.append(f"write base_url of {p.name} as https://HOST, or remove it")
            next_zh.append(f"将 {p.name} 的 base_url 写成 https://主机，或删除它")
            continue
        if p.site is None:
            continue
        compared += 1
        host = p.base_host or ""
        expected = SITES[p.site].api_base_url
        other = site_of_host(host)
        if host in site_hosts(p.site):
            continue
        if other is not None:
            status = "fail"
            en.append(
                f"profile {p.name}: site {p.site} but base_url {host} is {SITES[other].label}'s host (a key of one "
                f"site sent to another fails with 50119, API key doesn't exist)"
            )
            zh.append(
                f"配置 {p.name}：站点为 {p.site}，但 base_url {host} 属于 {SITES[other].label} 站点"
                "（发往其他站点的 API key 会返回 50119）"
            )
        else:
            status = max(status, "warn", key=lambda s: RANK[s])
            en.append(f"profile {p.name}: site {p.site} but base_url {host} is not an OKX host of that site")
            zh.append(f"配置 {p.name}：站点为 {p.site}，但 base_url {host} 不是该站点的 OKX 主机")
        next_en.append(f"set base_url of {p.name} to {expected} (or remove it), or correct its site")
        next_zh.append(f"将 {p.name} 的 base_url 改为 {expected}（或删除），或改正其站点")
    if not en:
        if compared == 0:
            return item(
                "config.site_host",
                "ok",
                Words("No profile sets both site and base_url.", "没有同时设置 site 和 base_url 的配置。"),
            )
        return item("config.site_host", "ok", Words("Every base_url matches its site.", "所有 base_url 都与站点一致。"))
    return item(
        "config.site_host",
        status,
        Words("; ".join(en) + ".", "；".join(zh) + "。"),
        Words(_sentence("; ".join(next_en)), "；".join(next_zh) + "。"),
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _profiles_check(cfg: ConfigFacts) -> Check:
    keyed = cfg.keyed()
    names = {p.name for p in cfg.profiles if not p.from_env}
    stray = (
        Words(
            " default_profile names no profile in the file (its value is not shown: it may be anything).",
            " default_profile 没有对应的配置（不显示其值：它可能是任何内容）。",
        )
        if cfg.default_profile is not None and cfg.default_profile not in names
        else None
    )
    chosen = cfg.profile_in_effect()
    if chosen is None:
        finding = Words("No API-key profile: the OAuth login applies.", "没有 API key 配置：使用 OAuth 登录。")
        return _join_check("config.profiles", "warn" if stray else "ok", finding, stray, None)
    others = ", ".join(p.name for p in keyed if p is not chosen)
    if len(keyed) == 1:
        finding = Words(
            f"{chosen.name} is the only profile with an API key; OKX's client signs with it.",
            f"只有 {chosen.name} 配置了 API key，OKX 客户端使用它签名。",
        )
        return _join_check("config.profiles", "warn" if stray else "ok", finding, stray, None)
    if chosen.from_env:
        return _join_check(
            "config.profiles",
            "warn",
            Words(
                "The environment's key (profile env) is used: environment variables win over the file. Not used: "
                f"{others}.",
                f"使用环境变量中的 key（配置 env）：环境变量优先于文件。未使用：{others}。",
            ),
            stray,
            Words(
                "If you meant a profile from the file, unset OKX_API_KEY, OKX_SECRET_KEY and OKX_PASSPHRASE.",
                "如果你想用文件中的配置，请取消 OKX_API_KEY、OKX_SECRET_KEY 和 OKX_PASSPHRASE。",
            ),
        )
    if chosen.name == cfg.default_profile:
        return _join_check(
            "config.profiles",
            "ok",
            Words(
                f"{chosen.name} is used (default_profile). Not used: {others}.",
                f"使用 {chosen.name}（default_profile）。未使用：{others}。",
            ),
            stray,
            None,
        )
    return _join_check(
        "config.profiles",
        "warn",
        Words(
            f"{len(keyed)} profiles have an API key and default_profile names none of them: {chosen.name} is used "
            f"because it comes first. Not used: {others}.",
            f"{len(keyed)} 个配置有 API key，而 default_profile 没有指定其中任何一个：因排在最前而使用 {chosen.name}。"
            f"未使用：{others}。",
        ),
        stray,
        Words(
            f'Set default_profile = "{chosen.name}" (or the profile you mean) at the top of {cfg.path}.',
            f'在 {cfg.path} 开头设置 default_profile = "{chosen.name}"（或你想用的配置）。',
        ),
    )


def _join_check(check_id: str, status: Status, finding: Words, extra: Words | None, next_step: Words | None) -> Check:
    if extra is not None:
        finding = Words(finding.en + extra.en, finding.zh + extra.zh)
        if next_step is None:
            next_step = Words(
                "Set default_profile to an existing profile, or remove it.",
                "将 default_profile 设为已存在的配置，或删除它。",
            )
    return item(check_id, status, finding, next_step)
