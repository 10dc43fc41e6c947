"""Starting a device login (RFC 8628): this installation's registered client, and the device authorization
checked and turned into the pending record. The native backend calls these under its gate; the poll that
finishes the login is the backend's."""

from __future__ import annotations

from okx_auth_mcp.core.oauth_wire import ServerMetadata, TrustPolicy
from okx_auth_mcp.core.records import Endpoints, PendingLogin
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.edges.oauth_client import OAuthHttp
from okx_auth_mcp.login.native_records import NativeRecords


def registered_client_id(http: OAuthHttp, records: NativeRecords, issuer: str, metadata: ServerMetadata) -> str:
    """This installation's client at ``issuer``: registered on first use (the request outside the lock; two
    processes that race each keep the client they registered), then saved under the lock."""
    client_id = records.registrations()[1].clients.get(issuer)
    if client_id is None:
        client_id = http.register(metadata).client_id
        records.save_client_id(issuer, client_id)
    return client_id


def start_device_login(
    http: OAuthHttp,
    scope: str,
    site: SiteId,
    now: float,
    policy: TrustPolicy,
    metadata: ServerMetadata,
    client_id: str,
) -> PendingLogin:
    """The device authorization request, its links checked by the trust policy, as the pending record."""
    device = http.device_authorize(metadata, client_id, scope)
    policy.check(device.verification_uri)
    if device.verification_uri_complete is not None:
        policy.check(device.verification_uri_complete)
    endpoints = Endpoints(
        issuer=policy.issuer,
        client_id=client_id,
        token_endpoint=metadata.token_endpoint,
        revocation_endpoint=metadata.revocation_endpoint,
    )
    return PendingLogin(
        site=site,
        endpoints=endpoints,
        device_code=device.device_code,
        user_code=device.user_code,
        verification_uri=device.verification_uri,
        verification_uri_complete=device.verification_uri_complete,
        expires_at=now + device.expires_in,
        interval=device.interval,
        scope=scope,
    )
