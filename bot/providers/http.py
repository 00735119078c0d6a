"""The one HTTP client the provider adapters share.

httpx's API over aiohttp's connection pool (httpx-aiohttp): httpcore's pool checks every pooled
connection with a system call for each request it places, so 1,000 polls a tick over 70
keep-alive connections cost 6.4 s where this takes 1.4 s (bench/README.md).
"""

from __future__ import annotations

import functools
import ssl

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


@functools.cache
def tls() -> ssl.SSLContext:
    """The certificates httpx trusts by default, loaded once a process: loading them is most of
    the cost of a new client (about 0.1 s; the tests start a client for each bot they run)."""
    return httpx.create_ssl_context()


def client(*, connections: int = 70, timeout: float = 10.0) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        transport=AiohttpTransport(verify=tls(), limits=limits),
    )


def never_sent(exc: httpx.TransportError) -> bool:
    """True when the request certainly did not reach the provider: sending it again is safe.

    Only a connection that could not be made counts. (httpx-aiohttp reports a connection lost
    after sending, too, as ConnectTimeout, so the name alone is not enough.)
    """
    if isinstance(exc, httpx.PoolTimeout):
        return True
    cause = exc.__cause__
    if cause is not None:
        return isinstance(cause, aiohttp.ClientConnectorError)
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
