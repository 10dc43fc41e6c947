"""The sandbox authorization server: a Starlette app over an in-memory
:class:`~okx_auth_mcp.sandbox.state.SandboxState`.

Endpoints (``issuer`` is ``http://127.0.0.1:PORT``)::

    GET  /.well-known/oauth-authorization-server   RFC 8414 metadata                   oauth_routes
    POST /oauth/register                           RFC 7591, public clients only       oauth_routes
    GET  /oauth/authorize  POST /oauth/authorize   the consent page and its answer     consent
    POST /oauth/device/code                        RFC 8628 device authorization       oauth_routes
    POST /oauth/token                              device_code, authorization_code     oauth_routes, code_grant
                                                   and refresh_token grants
    POST /oauth/revoke                             RFC 7009                            oauth_routes
    GET  /device  POST /device                     the code entry and approval pages   pages
    GET  /api/v5/public/time                       OKX server time                     api_routes
    GET  /api/v5/account/config                    a Bearer token or a signed API key  api_routes
    GET  /api/v5/broker/dma/subaccount-info        a DMA broker's sub-accounts         broker_routes
    GET  /api/v5/broker/dma/subaccount-trade-fee   their fee rates                     broker_routes
    POST /api/v5/broker/dma/subaccount/apikey      a key for a sub-account, and        broker_routes
    GET  /api/v5/broker/dma/subaccount/apikey      its keys
    POST /api/v5/broker/fd/rebate-per-orders       an FD broker's rebate reports,      broker_routes
    GET  /api/v5/broker/fd/rebate-per-orders       and their download links
    GET  /api/v5/broker/fd/if-rebate               a user's rebate information         broker_routes
    GET  /files/rebate/NAME                        a rebate report's file              broker_routes

Clients registered ahead of time (an application OKX registered, confidential or public) are
:mod:`~okx_auth_mcp.sandbox.clients`; the pages' shared parts :mod:`~okx_auth_mcp.sandbox.page_html`. Each
module's docstring says how its endpoints answer; :mod:`~okx_auth_mcp.sandbox.faults` lists the ways a test can
make them misbehave. The sandbox stands in for OKX, so the app imports nothing from the client: only the pure
core (the sites, the language type), the standard library, Starlette and anyio.
"""

from __future__ import annotations

from starlette.applications import Starlette

from okx_auth_mcp.sandbox import api_routes, broker_routes, consent, oauth_routes, pages
from okx_auth_mcp.sandbox.state import SandboxState


def create_app(state: SandboxState) -> Starlette:
    return Starlette(
        routes=[
            *oauth_routes.routes(state),
            *consent.routes(state),
            *pages.routes(state),
            *api_routes.routes(state),
            *broker_routes.routes(state),
        ]
    )
