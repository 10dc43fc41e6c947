"""Handing the access token to another program, as OKX's kit takes it from its okx-auth binary: into the pipe
it opened (fd 3 on POSIX, the named pipe ``OKX_AUTH_TOKEN_PIPE`` names on Windows), to a caller the user
allows (``edges.token_pipe`` says what that does and does not protect against). The caller is checked before
the session is read."""

from __future__ import annotations

from collections.abc import Mapping

from okx_auth_mcp.edges import token_pipe
from okx_auth_mcp.edges.token_pipe import Channel
from okx_auth_mcp.login.errors import FlowError

PIPE_VARIABLE = token_pipe.PIPE_VARIABLE


class CallerRefused(FlowError):
    """No pipe OKX's kit reads, the allow-list does not name the caller, or the reader went away: no token."""

    code = "caller_refused"


def checked_channel(environ: Mapping[str, str]) -> Channel:
    """The channel to hand the token over, once it and the caller (if there is an allow-list) are checked;
    ``CallerRefused`` otherwise."""
    try:
        to = token_pipe.channel(environ)
        allowed = token_pipe.allowed_callers(environ)
        if allowed is not None:
            token_pipe.check_caller(allowed)
    except token_pipe.TokenPipeError as exc:
        raise CallerRefused(str(exc)) from None
    return to


def hand_over(token: str, to: Channel) -> None:
    """Write the token and close the channel; ``CallerRefused`` when the reader is gone."""
    try:
        token_pipe.send_token(token, to)
    except token_pipe.TokenPipeError as exc:
        raise CallerRefused(str(exc)) from None
