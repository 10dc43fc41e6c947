"""``python -m okx_auth_mcp``: the command line (``cli.main``), exiting with its status.

A Ctrl-C that the command handled (exit 130, its message said) must end the process with 130. Under ``-m``,
CPython 3.11 to 3.13 can turn that into a death by SIGINT (status -2 to a parent): a KeyboardInterrupt that
leaves code run by ``exec`` or ``eval`` of a string (``dataclasses`` and ``namedtuple`` build methods that
way, so any import that defines one: the HTTP stack imported at the first request, say) sets the
interpreter's "unhandled Ctrl-C" flag even when a caller catches it, and ``Py_RunMain`` checks that flag
after a module run ends, whatever ``SystemExit`` said. The console script and ``server/main.py`` run as
files, whose ``SystemExit`` ends the process at once, and are not affected. So after a handled Ctrl-C this
module exits itself: the exit handlers run and the streams are flushed, as at a normal exit, then
``os._exit``. Any thread still running is cut off, which is what Ctrl-C asks for.
"""

import atexit
import contextlib
import os
import sys

from okx_auth_mcp.cli.common import EXIT_INTERRUPTED
from okx_auth_mcp.cli.main import main

status = main()
if status == EXIT_INTERRUPTED:
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)
raise SystemExit(status)
