"""The login checks of ``diagnose``: the okx CLI a backend choice passed over, the OAuth state (logged in,
pending, ended), whether a refresh is due and the token endpoint answers, the state directory's permissions and
its lock. Pure. Token lifetimes are never shown: they mislead users into thinking they will be logged out soon."""

from __future__ import annotations

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.diagnosis.checklist import LOGIN_NEXT, NET_NEXT, Check, Status, Words, item, ms, octal
from okx_auth_mcp.core.diagnosis.facts import LocalFacts, NetworkFacts, StateDirFacts, TokenProbe, refresh_due


def backend_checks(local: LocalFacts) -> list[Check]:
    """The okx CLI on PATH, when it does not run the login: ``auto`` passed it over (ok when ``OKX_AUTH_BIN``
    names ours, as meant; else flagged), or the okx-cli backend cannot use it (it is too old)."""
    note = local.backend_note
    if note is None:
        return []
    if local.backend == "okx-cli":  # chosen, and too old (nothing else makes a note for it)
        shown = f" {note.version}" if note.version else ""
        finding = Words(
            f"OKX_AUTH_BACKEND=okx-cli, but the okx{shown} on PATH has no `okx auth` command (it has one from 1.3 "
            "on): it cannot log in.",
            f"OKX_AUTH_BACKEND=okx-cli，但 PATH 中的 okx{shown} 没有 `okx auth` 命令（1.3 起才有）：无法登录。",
        )
        upgrade = Words(
            f"Upgrade it: {texts.OKX_CLI_UPGRADE}, or set OKX_AUTH_BACKEND=native.",
            f"升级它：{texts.OKX_CLI_UPGRADE}，或设置 OKX_AUTH_BACKEND=native。",
        )
        return [item("backend.okx_cli", "fail", finding, upgrade)]
    en, zh = note.next_step("en"), note.next_step("zh")
    status: Status = "ok" if note.reason == "okx_auth_bin_is_ours" else "warn"
    return [
        item("backend.okx_cli", status, Words(note.text("en"), note.text("zh")), Words(en, zh) if en and zh else None)
    ]


def oauth_checks(local: LocalFacts, network: NetworkFacts) -> list[Check]:
    oauth, state = local.oauth, local.state
    keyed = local.config.profile_in_effect()
    if oauth.status is None:
        if oauth.error is not None:
            session = item(
                "oauth.session",
                "fail",
                Words(f"The login state cannot be read: {oauth.error}.", f"无法读取登录状态：{oauth.error}。"),
                Words(
                    "Run okx-auth-mcp logout (or call logout): it deletes the session and any pending login.",
                    "运行 okx-auth-mcp logout（或调用 logout）：它会删除会话和待完成的登录。",
                ),
            )
        else:
            session = item(
                "oauth.session",
                "skip",
                Words("Not read.", "未读取。"),
            )
        refresh = item("oauth.refresh", "skip", Words("Not checked.", "未检查。"))
        return [session, refresh]

    key_note = (
        Words(
            f" The API-key profile {keyed.name} is used instead: OKX's client prefers a key.",
            f" 实际使用 API key 配置 {keyed.name}：OKX 客户端优先使用 key。",
        )
        if keyed is not None
        else Words("", "")
    )
    if oauth.status == "logged_in":
        scopes = ", ".join(oauth.scopes)
        session = item(
            "oauth.session",
            "ok",
            Words(
                f"Logged in to {oauth.site} (scopes: {scopes}).{key_note.en}",
                f"已登录 {oauth.site}（权限：{scopes}）。{key_note.zh}",
            ),
        )
    elif oauth.status == "pending":
        session = item(
            "oauth.session",
            "ok",
            Words(
                f"A login for {oauth.site} is pending: it completes when the user approves it in the browser.",
                f"{oauth.site} 的登录待完成：用户在浏览器中授权后即完成。",
            ),
            Words(
                "Finish the authorization in the browser, then check the status once (auth_status).",
                "在浏览器中完成授权，然后检查一次状态（auth_status）。",
            ),
        )
    elif oauth.reason in ("expired", "denied"):
        why = (
            Words("the code expired before it was approved", "验证码在授权前已过期")
            if oauth.reason == "expired"
            else Words("the authorization was denied in the browser", "授权在浏览器中被拒绝")
        )
        session = item(
            "oauth.session",
            "warn",
            Words(f"Not logged in: the last login ended ({why.en}).", f"未登录：上一次登录已结束（{why.zh}）。"),
            LOGIN_NEXT,
        )
    elif keyed is not None:
        session = item(
            "oauth.session",
            "ok",
            Words(
                f"Not logged in with OAuth; none needed: the API-key profile {keyed.name} is used.",
                f"未通过 OAuth 登录；无需登录：使用 API key 配置 {keyed.name}。",
            ),
        )
    else:
        nothing = "" if state.exists else " (nothing stored yet)"
        nothing_zh = "" if state.exists else "（尚无任何保存的状态）"
        session = item(
            "oauth.session",
            "warn",
            Words(f"Not logged in{nothing}.", f"未登录{nothing_zh}。"),
            Words(
                "Log in: call preflight (or run okx-auth-mcp login --site global|eea|us|tr).",
                "登录：调用 preflight（或运行 okx-auth-mcp login --site global|eea|us|tr）。",
            ),
        )
    return [session, _refresh_check(local, network)]


def _refresh_check(local: LocalFacts, network: NetworkFacts) -> Check:
    oauth = local.oauth
    if oauth.status not in ("logged_in", "pending"):
        return item("oauth.refresh", "skip", Words("No session.", "没有会话。"))
    if oauth.token_endpoint is None:
        return item(
            "oauth.refresh",
            "skip",
            Words(
                f"Not checked: the {local.backend} backend keeps the tokens itself.",
                f"未检查：{local.backend} 后端自行保管令牌。",
            ),
        )
    endpoint, next_step = _token_endpoint(network.token, local.state.path)
    if oauth.status == "pending":
        if next_step is not None:
            return item("oauth.refresh", "fail", _capitalized(endpoint), next_step)
        return item(
            "oauth.refresh",
            "ok",
            Words(
                f"No session yet; {endpoint.en}, so the status check can complete the login.",
                f"尚无会话；{endpoint.zh}，状态检查可以完成登录。",
            ),
        )
    due = refresh_due(oauth, local.now)
    if oauth.has_refresh_token is False:
        return item(
            "oauth.refresh",
            "warn",
            Words(
                "The session has no refresh token: when the access token ends, the session ends with it.",
                "会话没有刷新令牌：访问令牌结束时，会话也随之结束。",
            ),
            LOGIN_NEXT if due else Words("Log in again when asked to.", "提示时重新登录。"),
        )
    when = (
        Words(
            "A refresh is due: the next status check or API call does it",
            "需要刷新：下一次状态检查或 API 调用会自动刷新",
        )
        if due
        else Words("No refresh is due yet", "暂不需要刷新")
    )
    if next_step is not None:
        unknown = network.token is not None and network.token.answer == "unknown_client"
        return item(
            "oauth.refresh",
            "fail" if due or unknown else "warn",
            Words(f"{when.en}; but {endpoint.en}.", f"{when.zh}；但{endpoint.zh}。"),
            next_step,
        )
    return item(
        "oauth.refresh",
        "ok",
        Words(
            f"{when.en}; {endpoint.en}. Diagnose never refreshes (that would void an access token in use).",
            f"{when.zh}；{endpoint.zh}。诊断不会刷新令牌（那会让正在使用的访问令牌失效）。",
        ),
    )


def _capitalized(words: Words) -> Words:
    return Words(words.en[:1].upper() + words.en[1:] + ".", words.zh + "。")


def _token_endpoint(probe: TokenProbe | None, state_path: str) -> tuple[Words, Words | None]:
    """What the token-endpoint probe found, as a clause, and the next step when that is a problem."""
    if probe is None or probe.answer == "not_probed":
        why = probe.detail if probe is not None and probe.detail else "its host could not be reached"
        return Words(f"the token endpoint was not tried: {why}", f"未尝试令牌端点：{why}"), NET_NEXT
    if probe.answer == "answers":
        return Words(f"the token endpoint ({probe.host}) answers", f"令牌端点（{probe.host}）有应答"), None
    if probe.answer == "unknown_client":
        registrations = f"{state_path}/registrations.json"
        return (
            Words(
                f"the token endpoint ({probe.host}) does not know this installation's client registration: a "
                "refresh will fail",
                f"令牌端点（{probe.host}）不认识本机的客户端注册：刷新将会失败",
            ),
            Words(
                f"Delete {registrations} (logout keeps it), then log out and log in again: the login registers anew.",
                f"删除 {registrations}（退出登录不会删除它），然后退出并重新登录：登录时会重新注册。",
            ),
        )
    if probe.answer == "server_error":
        return (
            Words(
                f"the token endpoint ({probe.host}) answers with an error: {probe.detail}",
                f"令牌端点（{probe.host}）返回错误：{probe.detail}",
            ),
            Words(
                "Retry later; a proxy or captive portal may be answering instead of OKX.",
                "稍后重试；可能是代理或网页认证页面在代替 OKX 应答。",
            ),
        )
    return (
        Words(
            f"the token endpoint ({probe.host}) cannot be reached: {probe.detail}",
            f"无法连接令牌端点（{probe.host}）：{probe.detail}",
        ),
        NET_NEXT,
    )


def _refused(state: StateDirFacts) -> Check | None:
    """The check for a state directory every command refuses: not a directory, or another user's."""
    if not state.is_directory:
        return item(
            "state.permissions",
            "fail",
            Words(
                f"{state.path} is not a directory: every command refuses it.",
                f"{state.path} 不是目录：所有命令都拒绝使用它。",
            ),
            Words(
                "Move that file away, or set OKX_AUTH_MCP_STATE_DIR to another place.",
                "把该文件移走，或将 OKX_AUTH_MCP_STATE_DIR 设为其他位置。",
            ),
        )
    if state.foreign_owner is not None:
        return item(
            "state.permissions",
            "fail",
            Words(
                f"{state.path} belongs to another user (uid {state.foreign_owner}): every command refuses it.",
                f"{state.path} 属于其他用户（uid {state.foreign_owner}）：所有命令都拒绝使用它。",
            ),
            Words(f"Run: chown -R $(id -un) {state.path}", f"运行：chown -R $(id -un) {state.path}"),
        )
    return None


def state_checks(state: StateDirFacts) -> list[Check]:
    if not state.exists:
        nothing = Words(
            f"{state.path} does not exist yet: nothing stored.", f"{state.path} 尚不存在：没有保存任何状态。"
        )
        return [item("state.permissions", "ok", nothing), item("state.lock", "skip", nothing)]
    refused = _refused(state)
    if refused is not None:
        return [refused, item("state.lock", "skip", Words("Not tried.", "未尝试。"))]
    if state.error is not None:
        unreadable = item(
            "state.permissions",
            "fail",
            Words(f"{state.path} cannot be read: {state.error}.", f"无法读取 {state.path}：{state.error}。"),
            Words(
                f"Give it back to your user: chmod 700 {state.path} (and chown it if another user owns it).",
                f"把它交还给当前用户：chmod 700 {state.path}（如属于其他用户，再用 chown 改回）。",
            ),
        )
        return [unreadable, item("state.lock", "skip", Words("Not tried.", "未尝试。"))]
    if not state.posix or state.mode is None:
        perms = item("state.permissions", "skip", Words("Not checked on this system.", "此系统上不检查文件权限。"))
    else:
        loose = [(name, mode) for name, mode in state.files if mode & 0o077]
        if loose:
            listed = ", ".join(f"{name} ({octal(mode)})" for name, mode in loose)
            perms = item(
                "state.permissions",
                "fail",
                Words(
                    f"Files other users can read or change: {listed}. They hold tokens and signing keys.",
                    f"其他用户可以读取或修改的文件：{listed}。这些文件保存着令牌和签名密钥。",
                ),
                Words(
                    f"Run: chmod 700 {state.path} && chmod 600 {state.path}/*  Then log out and log in again: the "
                    "tokens may have been read.",
                    f"运行：chmod 700 {state.path} && chmod 600 {state.path}/*  然后退出并重新登录：令牌可能已被读取。",
                ),
            )
        elif state.mode & 0o022:
            perms = item(
                "state.permissions",
                "fail",
                Words(
                    f"{state.path} is mode {octal(state.mode)}, so other users can change it: every command refuses "
                    "to use it (okx-auth-mcp never changes it back by itself: something loosened it).",
                    f"{state.path} 的权限为 {octal(state.mode)}，其他用户可以修改：所有命令都拒绝使用它"
                    "（okx-auth-mcp 不会自行改回：有程序放宽了它的权限）。",
                ),
                Words(
                    f"Run: chmod 700 {state.path}  Then look for what loosened it (a backup, sync or copy tool).",
                    f"运行：chmod 700 {state.path}  然后查找放宽权限的程序（备份、同步或复制工具）。",
                ),
            )
        elif state.mode & 0o077:
            perms = item(
                "state.permissions",
                "warn",
                Words(
                    f"{state.path} is mode {octal(state.mode)} (should be 0700); its files are 0600.",
                    f"{state.path} 的权限为 {octal(state.mode)}（应为 0700）；其中的文件为 0600。",
                ),
                Words(f"Run: chmod 700 {state.path}", f"运行：chmod 700 {state.path}"),
            )
        else:
            perms = item(
                "state.permissions",
                "ok",
                Words(
                    f"{state.path} is 0700 and its {len(state.files)} file(s) 0600.",
                    f"{state.path} 为 0700，其中 {len(state.files)} 个文件为 0600。",
                ),
            )
    lock = state.lock
    if lock is None:
        lock_check = item("state.lock", "skip", Words("Not tried.", "未尝试。"))
    elif lock.error is None:
        lock_check = item(
            "state.lock",
            "ok",
            Words(f"Taken and released in {ms(lock.seconds or 0.0)}.", f"获取并释放耗时 {ms(lock.seconds or 0.0)}。"),
        )
    elif "not a regular file" in lock.error:
        lock_check = item(
            "state.lock",
            "fail",
            Words(f"The state lock cannot be used: {lock.error}.", f"无法使用状态锁：{lock.error}。"),
            Words(
                f"Delete {state.path}/state.lock; every command refuses it until then.",
                f"删除 {state.path}/state.lock；在此之前所有命令都拒绝使用它。",
            ),
        )
    else:
        lock_file = f"{state.path}/state.lock"
        lock_check = item(
            "state.lock",
            "fail",
            Words(f"Cannot take the state lock: {lock.error}.", f"无法获取状态锁：{lock.error}。"),
            Words(
                f"Another okx-auth-mcp process holds it (a login in progress, or a process that hangs). Wait a "
                f"minute and retry; if it stays, find the process with `lsof {lock_file}` (or `fuser {lock_file}`) "
                "and stop it.",
                f"另一个 okx-auth-mcp 进程占用了它（正在登录，或进程卡住）。等一分钟再试；如果一直如此，用 "
                f"`lsof {lock_file}`（或 `fuser {lock_file}`）找到该进程并结束它。",
            ),
        )
    return [perms, lock_check]


KEYRING_HOWTO = Words(
    "To keep the tokens out of files, run a keyring: on Linux a Secret Service in the desktop session "
    "(gnome-keyring or KeePassXC), then log out and in again; OKX_AUTH_STORAGE=keyring makes its absence an error.",
    "如需让令牌不落在文件中，请运行系统密钥环：Linux 上在桌面会话中运行 Secret Service（gnome-keyring 或 "
    "KeePassXC），然后退出并重新登录；设置 OKX_AUTH_STORAGE=keyring 时缺少密钥环会报错。",
)


def storage_check(local: LocalFacts) -> list[Check]:
    """Where the tokens are: the OS keyring is ok, the 0600 state file a warning (with how to get a keyring)."""
    if local.storage_error is not None:
        said = local.storage_error
        return [item("storage", "fail", Words(f"The keyring cannot be used: {said}.", f"无法使用系统密钥环：{said}。"))]
    if local.storage is None:
        return []
    where = local.storage
    if where.startswith("keyring"):
        return [item("storage", "ok", Words(f"The tokens are in the {where}.", f"令牌保存在系统密钥环中：{where}。"))]
    found = Words(
        f"The tokens are in the state directory's 0600 files: {where}.",
        f"令牌保存在状态目录的 0600 文件中：{where}。",
    )
    return [item("storage", "warn", found, KEYRING_HOWTO)]
