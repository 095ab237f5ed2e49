"""Rasa's calls to the action server, on kept-alive connections and with the domain encoded once.

Rasa 3.6's ``EndpointConfig.request`` opens a new aiohttp ``ClientSession``, hence a new TCP connection,
for every custom action, and closes it after the answer; and the JSON body of each call (the whole
conversation's tracker, then the whole domain: 57 of its 71 KB on a nine-turn conversation) is
encoded in full each time. `PooledEndpoint` is the endpoint of one call (`bot.faults.send_deadline`
makes it from the configured one, with the deadline header): its ``session()`` lends Rasa's own
``request`` a session shared by every call of the process's event loop, whose connections to the
action server are kept alive (`KEEPALIVE_SECONDS`), and whose body is encoded by `encode_body`,
which reuses the domain's JSON while the domain is the same object.

What the action server receives is unchanged: the same headers in the same order, the same bytes of
JSON. Timeouts and errors are Rasa's own: the call's ``timeout`` and the guard of `bot.faults` apply
as before; a call cut by a timeout closes its connection instead of returning it. Cookies the action
server might set are not kept (each call had a new session before). One session per event loop (a
session belongs to the loop it was made in); `close` closes the current loop's, after the Rasa server
stopped (`bot.ops`).
"""
from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Mapping
from typing import Any

import aiohttp
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.utils.endpoints import EndpointConfig

# Idle connections are closed by the client after this: well under the action server's own keep-alive
# (Sanic's KEEP_ALIVE_TIMEOUT, 5 s), so a call never goes out on a connection the server is closing.
KEEPALIVE_SECONDS = 2.0

_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = weakref.WeakKeyDictionary()


def shared_session() -> aiohttp.ClientSession:
    """The session of the running event loop (made at its first call, again if it was closed)."""
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_SECONDS),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        )
        _sessions[loop] = session
    return session


async def close() -> None:
    """Close the running loop's session and its connections (the Rasa server's ``after_server_stop``)."""
    session = _sessions.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


class _DomainJSON:
    """The JSON of the last domain sent, for the domain object it was encoded from.

    Rasa's ``Domain.as_dict`` returns the domain's own dict (a deep copy made when the domain was built,
    which nothing changes afterwards); a new model brings a new domain, hence a new object.
    """

    def __init__(self) -> None:
        self.source: object = None
        self.text = ""

    def of(self, domain: object) -> str:
        if domain is not self.source:
            self.text = json.dumps(domain)
            self.source = domain
        return self.text


_domain_json = _DomainJSON()


def encode_body(body: Any) -> bytes:
    """``json.dumps(body).encode()``, as aiohttp encodes a ``json=`` body, reusing the domain's JSON.

    Rasa's action call ends with its ``domain`` key: the body's JSON is that of the other keys, then
    ``, "domain": `` and the domain's JSON (``json.dumps``' own separators), then ``}``.
    """
    if isinstance(body, dict) and len(body) > 1 and next(reversed(body)) == "domain":
        rest = dict(body)
        domain = rest.pop("domain")
        head = json.dumps(rest)
        return f'{head[:-1]}, "domain": {_domain_json.of(domain)}}}'.encode()
    return json.dumps(body).encode()


class _BorrowedSession:
    """What Rasa's ``request`` gets from ``session()``: the shared session, not closed after the call."""

    def __init__(self, endpoint: EndpointConfig) -> None:
        self._endpoint = endpoint
        self._session = shared_session()

    async def __aenter__(self) -> _BorrowedSession:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        return None

    def request(self, method: str, url: str, *, headers: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        # The endpoint's headers first, as when they were the session's default headers.
        merged = {**(self._endpoint.headers or {}), **(headers or {})}
        if kwargs.get("json") is not None and "Content-Type" in merged:
            kwargs["data"] = encode_body(kwargs.pop("json"))
        return self._session.request(method, url, headers=merged, **kwargs)


class PooledEndpoint(EndpointConfig):
    """An ``EndpointConfig`` whose ``request`` goes through the event loop's shared session (module doc)."""

    def session(self) -> Any:
        return _BorrowedSession(self)

    def copy(self) -> PooledEndpoint:
        return pooled(self)


def pooled(endpoint: EndpointConfig) -> EndpointConfig:
    """``endpoint.copy()`` (the same attributes as Rasa's copy) that calls through the shared session.

    An endpoint with basic authentication (its session carried the credentials) or of another class gets
    Rasa's own copy, and Rasa's own session per call.
    """
    if type(endpoint) not in (EndpointConfig, PooledEndpoint):
        return endpoint.copy()
    if endpoint.basic_auth:
        return EndpointConfig.copy(endpoint)
    return PooledEndpoint(
        endpoint.url,
        endpoint.params,
        endpoint.headers,
        endpoint.basic_auth,
        endpoint.token,
        endpoint.token_name,
        **endpoint.kwargs,
    )
