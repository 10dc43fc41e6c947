"""Handing the access token to another program, as OKX's kit takes it from its okx-auth binary: into a pipe on
file descriptor 3, to a caller the user allows (``edges.token_pipe`` says what that does and does not
protect against). The caller is checked before the session is read."""

from __future__ import annotations

from collections.abc import Mapping

from okx_auth_mcp.edges import token_pipe
from okx_auth_mcp.login.errors import FlowError


class CallerRefused(FlowError):
    """fd 3 is not a pipe, the allow-list does not name the caller, or the reader went away: no token given."""

    code = "caller_refused"


def check_caller(environ: Mapping[str, str]) -> None:
    """``CallerRefused`` unless fd 3 is a pipe and the caller is on the allow-list, when there is one."""
    try:
        token_pipe.check_pipe()
        allowed = token_pipe.allowed_callers(environ)
        if allowed is not None:
            token_pipe.check_caller(allowed)
    except token_pipe.TokenPipeError as exc:
        raise CallerRefused(str(exc)) from None


def hand_over(token: str) -> None:
    """Write the token to fd 3 and close it; ``CallerRefused`` when the reader is gone."""
    try:
        token_pipe.send_token(token)
    except token_pipe.TokenPipeError as exc:
        raise CallerRefused(str(exc)) from None
