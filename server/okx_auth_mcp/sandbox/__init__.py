"""An embedded OKX-compatible authorization server, for trying the login offline and for the tests.

``runner.RunningSandbox`` serves it on loopback; ``app.create_app`` builds the app over a ``state.SandboxState``.
Nothing is imported here, so importing a submodule costs only what that submodule needs.
"""
