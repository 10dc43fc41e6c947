"""What the server tells agents about the rules: the server instructions and the ``okx_auth_login`` prompt.

Pure: no I/O. The rules are OKX's skill's Step 0 (okx-cex-auth), rewritten for this server's tools; the
code enforces them anyway, these texts only spare the agent a refusal.
"""

from __future__ import annotations

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.texts import Lang

TOOL_NAMES = (
    "preflight",
    "choose_site",
    "auth_login_manual",
    "auth_status",
    "logout",
    "verify_credentials",
    "diagnose",
    "setup_api_key",
    "setup_api_key_status",
    "remove_api_key_profile",
)

INSTRUCTIONS = (
    "Signs the user into OKX. Rules: call preflight first, every time, and follow its `next`. Never pass a site "
    "the user did not choose from the menu just now (choose_site issues the only ticket auth_login_manual "
    "accepts; called without `reply`, it lets a client that can ask the user do so itself). Show every `reply` "
    "to the user verbatim in your own message, not only in tool output. After a login starts, wait for the user "
    "to say they are done, then call auth_status once; never poll on your own. Never quote token expiry; asked "
    f"how long a session lasts, say: {texts.SESSION_LENGTH_ANSWER} Never ask the user to type an API key, secret "
    "key or passphrase into the chat, and never pass one to a tool: setup_api_key opens a page on this computer "
    "where they type it."
)


def login_procedure(lang: Lang) -> str:
    """The ``okx_auth_login`` prompt: the whole Step 0, tool by tool, for a user who speaks ``lang``."""
    return f"""Log me in to OKX with the okx-auth tools. Follow these steps in order; do not skip or reorder them.

1. Call `preflight` (lang "{lang}"). Follow its `next`:
   - "api_key_configured": show `reply` verbatim. An API key is in use; do not log in. Stop here.
   - "logged_in": show `reply` verbatim. Nothing to do. Stop here.
   - "pending": a login is in progress. Show `reply` (its link and code) verbatim and wait for me to say I
     am done, then go to step 4. Do not start another login.
   - "choose_site": go to step 2.
2. Ask me for the site. If your client can ask me directly, call `choose_site` with only `menu_ticket`: I
   answer in a form. Otherwise show `reply` (the site menu, always in Chinese) verbatim, wait for my
   answer, and call `choose_site` with my answer unchanged as `reply` and the `menu_ticket`. Never choose
   a site for me, never default to global. If it answers [reply_not_understood], show the menu again.
   If it answers [site_not_chosen], I declined: do not log in.
   If `next` is "api_key_configured", show `reply` and stop.
3. Call `auth_login_manual` with the `site` and `site_ticket` that choose_site returned and lang "{lang}".
   It returns at once. Show `reply` verbatim as text in your own message (the link and the code must be
   visible in the chat, not only in tool output). If it returned status "skipped", an API key is in use:
   show `reply` and stop. Then wait for me to say I am done. Do not poll.
4. When I say I am done, call `auth_status` once (lang "{lang}") and show `reply` verbatim. If it is still
   "pending", tell me and wait for me again. If it is "not_logged_in" with a reason, ask me whether to
   retry (from step 1).

Never quote token lifetimes or expiry times. If I ask how long a session lasts, say:
"{texts.SESSION_LENGTH_ANSWER}"
To log out or switch site or account, call `logout`, then start again from step 1.
If an OKX call is refused for authentication (HTTP 401, Invalid Sign, Invalid API-KEY), call
`verify_credentials` (lang "{lang}") and show its `reply`. For a rejected API key it gives two options: let me
choose, and do not start an OAuth login while the key exists (OKX's client always prefers the key).
If I choose to remove the key's profile, call `remove_api_key_profile` with it (lang "{lang}"): show its question
verbatim and pass my own answer, never one of yours; once it is removed, start again from step 1.
If my login keeps "expiring" or OKX calls fail for no clear reason, call `diagnose` (lang "{lang}") and show its
`reply`: a checklist of the clock, the network, the config file and the login state.
Never ask me to type an API key, secret key or passphrase into the chat. To add or replace an API key, call
`setup_api_key` (lang "{lang}") and show its `reply`: a link to a one-time page on this computer where I type
it. When I say I am done, call `setup_api_key_status` once and show its `reply`."""
