"""Removing an API-key profile from OKX's config file only when the user said so: the confirmation ticket, the
question it stands for, the one reply that confirms, and the texts. Pure: the key, the time, the nonce, the
file's path and digest come in (``login.profile_removal`` reads and writes the file).

A confirmation ticket is ``okxr1.<payload>.<mac>`` (``core.tickets``' format with a prefix of its own: a site
ticket is never taken for one, nor one for a site ticket), the payload ``{"v", "p" (the profile), "f" (a digest
of the config file's path), "d" (the digest of the file's bytes when the user was asked), "iat", "exp", "n"}``,
signed with the state directory's ticket key (``d`` keyed with it too, so the ticket tests no guess at the
file's contents). It is for one profile of one file, for ten minutes, for the file as it was when the question
was asked (any change to the file voids it), and for one answer: a "no" spends it as a "yes" does.

Only ``yes`` (ASCII, any case) or ``是``, with whitespace around it, confirms. Anything else (``y``, ``ok``,
``yes please``, ``是的``, an empty reply) removes nothing.

::

    ConfigError (core.okx_profiles)
    ├── InvalidProfileName   a profile name that is not one (never quoted back)
    └── EnvProfile           the ``env`` profile: OKX_API_KEY etc. in the environment, not a block of the file
    TicketInvalid (core.tickets)
    ├── ConfirmationInvalid  not a confirmation this server issued (altered, a site ticket, another state
    │                        directory, issued before a logout), or a ticket without a reply
    ├── ConfirmationMismatch a confirmation for another profile or another config file
    └── ConfirmationUsed     a confirmation answered already, yes or no
    TicketExpired (core.tickets)
    └── ConfirmationExpired  a confirmation older than ten minutes
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from okx_auth_mcp.core import tickets
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.core.texts import Lang

VERSION = 1
PREFIX = f"okxr{VERSION}"
CONFIRMATION_TTL_SECONDS = 600
MAX_NAME_LENGTH = 128
"""The longest profile name taken for a removal: more than this server writes (80), far more than a person types."""
CONFIRMING_REPLIES = ("yes", "是")
"""What the question asks for; ``yes`` in any case (``YES``, ``Yes``)."""


class InvalidProfileName(ConfigError):
    """A profile name that is not a name of OKX's config file."""


class EnvProfile(ConfigError):
    """The profile ``env`` is the environment's OKX_* variables: nothing in a file to remove."""


class ConfirmationInvalid(tickets.TicketInvalid):
    """Not a removal confirmation this server issued, or one passed without the user's reply."""


class ConfirmationMismatch(tickets.TicketInvalid):
    """A genuine confirmation, for another profile or another config file."""


class ConfirmationUsed(tickets.TicketInvalid):
    """A confirmation answered already (yes or no): the user is asked again, never answered for twice."""


class ConfirmationExpired(tickets.TicketExpired):
    """A genuine confirmation whose ten minutes are up."""


@dataclass(frozen=True)
class Confirmation:
    """What a valid confirmation ticket holds."""

    profile: str
    path_digest: str
    file_digest: str
    """:func:`keyed_digest` of the config file's digest when the user was asked: the removal is refused if the
    file is no longer what it was."""
    expires_at: int
    id: str
    """The ticket's MAC: once answered (yes or no), a confirmation is spent."""

    def of_file(self, key: bytes, file_digest: str) -> bool:
        """Whether the file whose digest is ``file_digest`` is the one the user was asked about."""
        return hmac.compare_digest(self.file_digest, keyed_digest(key, file_digest))


def check_profile_name(name: str) -> str:
    """``name``, or :class:`InvalidProfileName` (which never quotes it: it may be huge, or break a text). Any
    name a profile of the file can have is taken, not only the ones this server writes
    (:data:`~okx_auth_mcp.core.okx_config_edit.PROFILE_NAME_RE`): OKX's own CLI writes ``模拟盘`` or ``prod.eu``,
    and those must be removable too. What is refused cannot be a name typed for one: empty, longer than
    :data:`MAX_NAME_LENGTH`, or with a control character."""
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable() or name != name.strip():
        raise InvalidProfileName(
            f"the profile name is not a name of OKX's config file (1-{MAX_NAME_LENGTH} printable characters, as "
            "config show lists it); nothing was removed"
        )
    return name


def path_digest(path: str) -> str:
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()


def keyed_digest(key: bytes, file_digest: str) -> str:
    """What a ticket holds of the file's digest: keyed, so that a ticket (which the agent, and its provider's logs,
    see) is no offline test of a guess at the file's contents, secrets and all."""
    return hmac.new(key, f"okxr-file:{file_digest}".encode("ascii"), hashlib.sha256).hexdigest()


def issue(key: bytes, profile: str, path: str, file_digest: str, now: float, *, nonce: str) -> str:
    """A confirmation for removing ``profile`` from the file at ``path`` whose bytes have ``file_digest``."""
    payload = {
        "v": VERSION,
        "p": check_profile_name(profile),
        "f": path_digest(path),
        "d": keyed_digest(key, file_digest),
        "iat": int(now),
        "exp": int(now) + CONFIRMATION_TTL_SECONDS,
        "n": nonce,
    }
    return tickets.sign(key, PREFIX, payload)


def verify(key: bytes, ticket: str, now: float, *, profile: str, path: str) -> Confirmation:
    """The confirmation ``ticket`` holds, when it is one for ``profile`` in the file at ``path``; raises
    :class:`ConfirmationInvalid`, :class:`ConfirmationExpired` or :class:`ConfirmationMismatch` otherwise."""
    try:
        payload, mac = tickets.signed_payload(key, PREFIX, ticket)
    except tickets.TicketInvalid as exc:
        raise ConfirmationInvalid(f"this is not a removal confirmation this server issued: {exc}") from None
    try:
        held = Confirmation(str(payload["p"]), str(payload["f"]), str(payload["d"]), int(payload["exp"]), mac)
        if payload["v"] != VERSION:
            raise ValueError("version")
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfirmationInvalid("the removal confirmation's contents are not understood") from exc
    if now >= held.expires_at:
        raise ConfirmationExpired(f"the removal confirmation expired {int(now - held.expires_at)} s ago")
    if held.profile != profile:
        raise ConfirmationMismatch("this confirmation is for removing another profile")
    if held.path_digest != path_digest(path):
        raise ConfirmationMismatch("this confirmation is for another config file (OKX_HOME changed)")
    return held


def confirms(reply: str) -> bool:
    """Whether the user's reply confirms the removal: ``yes`` (ASCII letters, any case) or ``是``, whitespace
    around it trimmed. Nothing else does."""
    answer = reply.strip()
    return answer == "是" or (answer.isascii() and answer.lower() == "yes")


# ----- the texts (zh / en) ----------------------------------------------------------------------------------

ANSWER_TITLE = "Remove this profile? / 删除此配置？"
ANSWER_CHOICES = (("yes", "Yes, remove it / 是，删除"), ("no", "No, keep it / 否，保留"))
"""The form's one question, a titled yes/no choice whose ``yes`` is the confirming reply."""


def question(lang: Lang, profile: str, path: str, *, is_default: bool) -> str:
    """What the user is asked, naming the profile and the file, and saying a backup is kept."""
    if lang == "zh":
        default = "它是默认配置（default_profile），default_profile 也会一并清除。" if is_default else ""
        return (
            f"要从 {path} 中删除 API Key 配置“{profile}”吗？{default}该配置块会从文件中删除，删除前会在同一目录"
            "保留文件当前内容的备份（config.toml.bak-<时间>）。回复“是”（或 yes）确认删除；其他任何回复都会保留它。"
        )
    default = " It is the default profile (default_profile), which is cleared too." if is_default else ""
    return (
        f'Remove the API-key profile "{profile}" from {path}?{default} Its block is deleted from the file; a backup of '
        "the file as it is now is kept next to it (config.toml.bak-<time>). Reply yes to remove it; any other reply "
        "keeps it."
    )


_REMOVED: dict[Lang, tuple[str, str, str, str, str]] = {
    "zh": (
        "已从 {path} 中删除 API Key 配置“{profile}”。",
        "default_profile 原指向它，已一并清除。",
        "删除前的文件已备份为 {backup}（其中仍有被删除的 key；不再需要时请删除该备份）。",
        "文件中仍有配置“{in_effect}”的 API Key：只要它还在，OKX 的登录仍会跳过 OAuth（OKX 的工具只使用 "
        "default_profile 指向的配置）。如需改用 OAuth，也请删除它。",
        "现在没有配置任何 API Key。",
    ),
    "en": (
        'Removed the API-key profile "{profile}" from {path}.',
        " default_profile named it and was cleared too.",
        " The file as it was is kept in {backup} (it still holds the removed key: delete it once you no longer "
        "need it).",
        ' The file still holds the API key of profile "{in_effect}": while it is there, OKX\'s login still skips '
        "OAuth (OKX's tools sign with the profile default_profile names). To switch to OAuth, remove it too.",
        " No API key is configured now.",
    ),
}


def removed(
    lang: Lang, profile: str, path: str, backup: str | None, *, default_cleared: bool, in_effect: str | None
) -> str:
    """What changed, and which API key (if any) OKX's tools use now."""
    head, default, backed_up, still_keyed, no_key = _REMOVED[lang]
    text = head.format(profile=profile, path=path) + (default if default_cleared else "")
    text += backed_up.format(backup=backup) if backup else ""
    return text + (still_keyed.format(in_effect=in_effect) if in_effect else no_key)


def kept(lang: Lang, profile: str, path: str) -> str:
    if lang == "zh":
        return f"未删除任何内容：API Key 配置“{profile}”仍保留在 {path} 中。"
    return f'Nothing was removed: the API-key profile "{profile}" stays in {path}.'
