"""Run the sandbox on 127.0.0.1 in a background thread (for ``serve --sandbox``, the demo and the tests)
or in the foreground (``okx-auth-mcp sandbox``)."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn

from okx_auth_mcp.sandbox.app import SandboxConfig, SandboxState, create_app

LOOPBACK = "127.0.0.1"


class RunningSandbox:
    """``with RunningSandbox() as sandbox: sandbox.url``: a live server until the block ends."""

    def __init__(self, config: SandboxConfig | None = None, port: int = 0) -> None:
        self.state = SandboxState(config=config or SandboxConfig())
        self._server = uvicorn.Server(
            uvicorn.Config(
                create_app(self.state),
                host=LOOPBACK,
                port=port,
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
        )
        self._thread = threading.Thread(target=self._server.run, name="okx-sandbox", daemon=True)
        self.url = ""

    def start(self) -> RunningSandbox:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start (is the port free?)")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://{LOOPBACK}:{port}"
        self.state.issuer = self.url
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C reaches the main thread here)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> RunningSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
