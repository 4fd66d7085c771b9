"""Socket.IO inside jupyter-server: the endpoint, its authentication, rooms, and job events.

The stock engine.io tornado handler runs none of Jupyter's checks, so the handler here is also a
``JupyterHandler``: its ``prepare()`` resolves the user from the token (query or header) or the
login cookie and checks the Host header. A client may instead put the token in the Socket.IO
``auth`` payload, so the engine.io handshake itself is let through and the decision is taken
in ``connect``, which refuses anything unauthenticated.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Mapping
from typing import Any

import socketio
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from traitlets import List, Unicode

from .auth import Identity, identify_with_token, identity_of, is_single_user
from .events import EventSink

__all__ = ["Realtime", "make_socketio_handler", "user_room"]

log = logging.getLogger(__name__)


def user_room(username: str) -> str:
    return f"user:{username}"


def make_socketio_handler(sio: socketio.AsyncServer) -> type:
    engineio_handler = socketio.get_tornado_handler(sio)

    class SocketIOHandler(engineio_handler, JupyterHandler):  # type: ignore[misc, valid-type]
        """engine.io's handler with Jupyter's identity, Host and XSRF rules."""

        @allow_unauthenticated
        async def get(self, *args: Any, **kwargs: Any) -> None:
            await _done(super().get(*args, **kwargs))

        @allow_unauthenticated
        async def post(self, *args: Any, **kwargs: Any) -> None:
            socket = sio.eio.sockets.get(self.get_query_argument("sid", ""))
            await _done(super().post(*args, **kwargs))
            if socket is not None and socket.closed:
                # A polling client said CLOSE: engine.io closes the session but leaves the
                # client's pending GET waiting out the ping timeout (~45 s), so the client's
                # disconnect() hangs that long. Wake the GET with an empty answer.
                socket.queue.put_nowait(None)

        @allow_unauthenticated
        async def options(self, *args: Any, **kwargs: Any) -> None:
            await _done(super().options(*args, **kwargs))

        def check_xsrf_cookie(self) -> None:
            # Polling POSTs carry the engine.io session id, an unguessable secret handed out
            # only to the client that opened the session; a cross-site form cannot know it.
            # The session's identity and origin were checked when it connected.
            sid = self.get_query_argument("sid", None)
            if sid and sid in sio.eio.sockets:
                return None
            return JupyterHandler.check_xsrf_cookie(self)

        def check_origin(self, origin_to_satisfy_tornado: str = "") -> bool:
            # Decided in `connect`, where we know whether the client used a token (any
            # origin, as in Jupyter) or a cookie (allowed origins only).
            return True

        def get_compression_options(self) -> None:
            # permessage-deflate costs ~15% of the server's CPU per message for tiny JSON
            # events (PLATFORM-NOTES); Jupyter's event loop is shared with everything else.
            return None

        def prepare(self) -> Any:  # type: ignore[override]
            origin = self.request.headers.get("Origin")
            realtime: Realtime = self.settings["nbjobs"].realtime
            if origin and origin in realtime.cors_allowed_origins:
                self.set_header("Access-Control-Allow-Origin", origin)
                self.set_header("Access-Control-Allow-Credentials", "true")
            return JupyterHandler.prepare(self, _redirect_to_login=False)

    return SocketIOHandler


async def _done(result: Awaitable[None] | None) -> None:
    """Await what a tornado handler method returned, if it returned anything."""
    if result is not None:
        await result


class Realtime(EventSink):
    """The Socket.IO server, and the one place job events leave this server: to the room of
    the job's owner, where every connection of that user is (``EventSink``)."""

    cors_allowed_origins = List(
        Unicode(),
        config=True,
        help="Extra origins whose cookie-authenticated browsers may open Socket.IO connections.",
    )
    redis_url = Unicode(
        "", config=True, help="redis://... to fan events out across server instances. Empty: none."
    )
    user_mode = Unicode("auto", help="Who owns jobs (the extension's ``user_mode``).")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        options: dict[str, Any] = {}
        if self.redis_url:
            options["client_manager"] = socketio.AsyncRedisManager(self.redis_url, channel="nbjobs")
        # Origins are checked per connection in `connect`; engine.io's own check would
        # reject token-authenticated scripts from other origins, which Jupyter allows.
        self.sio = socketio.AsyncServer(
            async_mode="tornado",
            cors_allowed_origins=[],
            logger=False,
            engineio_logger=False,
            **options,
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self._clients: dict[str, str] = {}

    # -- connections -------------------------------------------------------------------------

    async def _identify(self, environ: Mapping[str, Any], auth: Any) -> Identity | None:
        handler: JupyterHandler = environ["tornado.handler"]
        single = is_single_user(handler.identity_provider, self.user_mode)
        user = getattr(handler, "_jupyter_current_user", None)
        if user is None and isinstance(auth, Mapping) and isinstance(auth.get("token"), str):
            user = await identify_with_token(handler, auth["token"])
        identity = identity_of(handler, user, single_user=single)
        if identity is None or identity.token_authenticated:
            return identity
        origin = environ.get("HTTP_ORIGIN")
        allowed = origin in self.cors_allowed_origins or JupyterHandler.check_origin(handler)
        if origin and not allowed:
            log.warning("nbjobs: refused cookie-authenticated Socket.IO from %s", origin)
            raise socketio.exceptions.ConnectionRefusedError("origin not allowed")
        return identity

    async def _on_connect(self, sid: str, environ: Mapping[str, Any], auth: Any = None) -> None:
        try:
            identity = await self._identify(environ, auth)
            if identity is None:
                raise socketio.exceptions.ConnectionRefusedError("authentication required")
        except socketio.exceptions.ConnectionRefusedError as refusal:
            log.info("nbjobs: refused a Socket.IO connection: %s", refusal)
            self._close_transport_soon(sid)
            raise
        await self.sio.save_session(sid, {"username": identity.username})
        await self.sio.enter_room(sid, user_room(identity.username))
        self._clients[sid] = identity.username
        log.info(
            "nbjobs: %s connected (%d clients connected)", identity.username, len(self._clients)
        )

    def _close_transport_soon(self, sid: str) -> None:
        # A refused client keeps its engine.io session, and a long-polling one waits up to
        # a ping interval for its pending GET; close the transport once the refusal is sent.
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
        if eio_sid is None:
            return
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, lambda: asyncio.ensure_future(self.sio.eio.disconnect(eio_sid)))

    async def _on_disconnect(self, sid: str, reason: Any = None) -> None:
        username = self._clients.pop(sid, None)
        if username is not None:
            log.info("nbjobs: %s disconnected (%d clients connected)", username, len(self._clients))

    # -- events ------------------------------------------------------------------------------

    async def emit(self, event: str, payload: Mapping[str, Any], *, owner: str) -> None:
        # Wall-clock emit time for benchmarks/bench_server.py's latency figures.
        log.debug(
            "emit %s job=%s rows=%s at %.6f",
            event,
            payload.get("jobId"),
            payload.get("processedRows"),
            time.time(),
        )
        await self.sio.emit(event, dict(payload), room=user_room(owner))
