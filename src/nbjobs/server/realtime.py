"""Socket.IO inside jupyter-server: the endpoint, its authentication, rooms, and job events.

The stock engine.io tornado handler runs none of Jupyter's checks, so the handler here is also a
``JupyterHandler``: its ``prepare()`` resolves the user from the token (query or header) or the
login cookie and checks the Host header. A client may instead put the token in the Socket.IO
``auth`` payload, so the engine.io handshake itself is let through and the decision is taken
in ``connect``, which refuses anything unauthenticated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import socketio
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from tornado.web import HTTPError
from traitlets import Bool, Float, Int, List, Unicode

from . import metrics
from .auth import Identity, identify_with_token, identity_of, is_single_user
from .events import EventSink
from .fanout import FastDelivery, FastRedisManager
from .transport import PushedMessages, install

__all__ = ["CatchUp", "Realtime", "followed", "make_socketio_handler", "user_room"]

# (owner, ids of jobs a client follows, and jobs ended since when) -> the events that bring that
# client up to date
CatchUp = Callable[[str, list[int], datetime | None], Awaitable[list[tuple[str, dict[str, Any]]]]]
# The most job ids a client may ask to follow in its auth payload.
MAX_FOLLOWED = 200


def followed(auth: Any) -> list[int]:
    """The job ids of ``{"follow": [...]}`` in a client's auth payload (others ignored)."""
    follow = auth.get("follow") if isinstance(auth, Mapping) else None
    if not isinstance(follow, list):
        return []
    return [i for i in follow[:MAX_FOLLOWED] if isinstance(i, int) and not isinstance(i, bool)]


log = logging.getLogger(__name__)


def user_room(username: str) -> str:
    return f"user:{username}"


def make_socketio_handler(sio: socketio.AsyncServer) -> type:
    engineio_handler = socketio.get_tornado_handler(sio)

    class SocketIOHandler(
        PushedMessages,
        engineio_handler,  # type: ignore[misc, valid-type]
        JupyterHandler,
    ):
        """engine.io's handler with Jupyter's identity, Host and XSRF rules, its websocket
        messages pushed to engine.io (``transport.py``)."""

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

        def get_compression_options(self) -> dict[str, Any] | None:
            # permessage-deflate costs ~14 µs of CPU per connection per event, more than the
            # whole delivery (benchmarks/README.md): off unless a deployment asks for it.
            realtime: Realtime = self.settings["nbjobs"].realtime
            return {} if realtime.websocket_compression else None

        @property
        def max_message_size(self) -> int:
            # tornado refuses a larger frame from its header, before reading it into memory.
            realtime: Realtime = self.settings["nbjobs"].realtime
            return realtime.max_message_bytes

        def prepare(self) -> Any:  # type: ignore[override]
            origin = self.request.headers.get("Origin")
            realtime: Realtime = self.settings["nbjobs"].realtime
            new_session = not self.get_query_argument("sid", None)
            if new_session and realtime.pending_sessions() >= realtime.max_pending_sessions:
                metrics.CONNECTIONS.labels("refused", "too many unauthenticated sessions").inc()
                raise HTTPError(503, "too many connections waiting to authenticate")
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
    ping_interval = Float(
        25.0, min=1.0, config=True, help="Seconds between the server's pings of a connection."
    )
    ping_timeout = Float(
        20.0,
        min=1.0,
        config=True,
        help="Seconds a connection may leave a ping unanswered before it is dropped (stale).",
    )
    auth_timeout = Float(
        10.0,
        min=1.0,
        config=True,
        help="Seconds an engine.io session may stay without authenticating before it is closed.",
    )
    max_pending_sessions = Int(
        1000,
        min=1,
        config=True,
        help="Engine.io sessions not yet authenticated at once; more are refused (503).",
    )
    max_message_bytes = Int(
        64 * 1024,
        min=1024,
        config=True,
        help=(
            "Largest message a client may send (its auth payload, pongs); a larger websocket "
            "frame closes the connection unread, a larger long-polling body is refused."
        ),
    )
    max_connections_per_user = Int(
        1000,
        min=1,
        config=True,
        help="Live connections one user may hold; one more is refused with the reason.",
    )
    websocket_compression = Bool(
        False,
        config=True,
        help=(
            "Let clients negotiate permessage-deflate: events take ~19 bytes instead of ~129, "
            "for ~14 µs more CPU per connection per event (benchmarks/README.md)."
        ),
    )
    user_mode = Unicode("auto", help="Who owns jobs (the extension's ``user_mode``).")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        manager: socketio.AsyncManager
        if self.redis_url:
            manager = FastRedisManager(self.redis_url, channel="nbjobs")
        else:
            manager = FastDelivery()
        # Origins are checked per connection in `connect`; engine.io's own check would
        # reject token-authenticated scripts from other origins, which Jupyter allows.
        self.sio = socketio.AsyncServer(
            async_mode="tornado",
            cors_allowed_origins=[],
            logger=False,
            engineio_logger=False,
            client_manager=manager,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            max_http_buffer_size=self.max_message_bytes,
        )
        install(self.sio.eio)
        manager.direct = not self.websocket_compression
        self._health: asyncio.Task[None] | None = None
        self._redis_up = True
        self._redis_down_since: float | None = None
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self._clients: dict[str, str] = {}
        self._followed: dict[str, list[int]] = {}  # per connection, its auth's "follow"
        # What a client gets at once when it connects (set by the extension: the runner's).
        self.catch_up: CatchUp | None = None
        self._background: set[asyncio.Future[None]] = set()

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
            held = sum(1 for user in self._clients.values() if user == identity.username)
            if held >= self.max_connections_per_user:
                raise socketio.exceptions.ConnectionRefusedError(
                    f"too many connections for this user ({held}; NbJobs.max_connections_per_user)"
                )
        except socketio.exceptions.ConnectionRefusedError as refusal:
            log.info("nbjobs: refused a Socket.IO connection: %s", refusal)
            metrics.CONNECTIONS.labels("refused", str(refusal)).inc()
            self._close_transport_soon(sid)
            raise
        await self.sio.save_session(sid, {"username": identity.username})
        await self.sio.enter_room(sid, user_room(identity.username))
        self._clients[sid] = identity.username
        metrics.CONNECTED_CLIENTS.set(len(self._clients))
        metrics.CONNECTIONS.labels("accepted", "").inc()
        # After this handler returns, python-socketio queues the connect answer; events sent
        # from then on reach a connected client, in order.
        self._followed[sid] = followed(auth)
        task = asyncio.ensure_future(self._catch_up(sid, identity.username, self._followed[sid]))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
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
        if reason == self.sio.reason.PING_TIMEOUT or self._unanswered_ping(sid):
            metrics.STALE_CONNECTIONS.labels("no pong").inc()
        username = self._clients.pop(sid, None)
        self._followed.pop(sid, None)
        metrics.CONNECTED_CLIENTS.set(len(self._clients))
        if username is not None:
            log.info("nbjobs: %s disconnected (%d clients connected)", username, len(self._clients))

    def _unanswered_ping(self, sid: str) -> bool:
        """Whether the connection's last ping has gone unanswered for ``ping_timeout``: on
        websocket, engine.io drops such a connection as a closed transport, not by name."""
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
        socket = self.sio.eio.sockets.get(eio_sid) if eio_sid else None
        last_ping: float | None = getattr(socket, "last_ping", None)
        return last_ping is not None and time.time() - last_ping >= self.ping_timeout

    # -- upkeep: unauthenticated sessions, Redis -------------------------------------------------

    def _authenticated(self) -> set[str]:
        """The engine.io sessions that hold an authenticated Socket.IO connection."""
        everyone = self.sio.manager.rooms.get("/", {}).get(None, {})
        return set(everyone.values())

    def pending_sessions(self) -> int:
        """Engine.io sessions with no authenticated Socket.IO connection (yet)."""
        connected = self._authenticated()
        return sum(1 for eio_sid in self.sio.eio.sockets if eio_sid not in connected)

    def start(self) -> None:
        """Start closing sessions that do not authenticate, and watching Redis."""
        if self._health is None:
            self._health = asyncio.ensure_future(self._upkeep())

    async def stop(self) -> None:
        if self._health is not None:
            self._health.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health
            self._health = None

    async def _upkeep(self) -> None:
        first_seen: dict[str, float] = {}
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(1.0)
            try:
                await self._close_unauthenticated(first_seen, loop.time())
                if self.redis_url:
                    await self._check_redis()
            except Exception:
                log.exception("nbjobs: Socket.IO upkeep failed")

    async def _close_unauthenticated(self, first_seen: dict[str, float], now: float) -> None:
        connected = self._authenticated()
        for eio_sid in list(self.sio.eio.sockets):
            if eio_sid in connected:
                first_seen.pop(eio_sid, None)
                continue
            seen = first_seen.setdefault(eio_sid, now)
            if now - seen >= self.auth_timeout:
                first_seen.pop(eio_sid, None)
                metrics.STALE_CONNECTIONS.labels("unauthenticated").inc()
                await self.sio.eio.disconnect(eio_sid)
        for eio_sid in list(first_seen):
            if eio_sid not in self.sio.eio.sockets:
                del first_seen[eio_sid]

    async def _check_redis(self) -> None:
        """Ping Redis; on the way back from an outage, catch this server's clients up: events
        published meanwhile (by any server) were lost to them."""
        import redis.asyncio

        try:
            client = redis.asyncio.Redis.from_url(self.redis_url, socket_timeout=2)
            try:
                await client.ping()
            finally:
                await client.aclose()
            up = True
        except Exception as exc:
            up = False
            metrics.REDIS_ERRORS.inc()
            if self._redis_up:
                log.error(
                    "nbjobs: Redis at %s does not answer (%s): events between servers are "
                    "lost until it is back",
                    self.redis_url,
                    exc,
                )
        metrics.REDIS_CONNECTED.set(1 if up else 0)
        if not up and self._redis_down_since is None:
            self._redis_down_since = time.time()
        if up and self._redis_down_since is not None:
            log.warning("nbjobs: Redis is back; catching this server's clients up")
            # From a little before the first failed check: an event lost just before it.
            since = datetime.fromtimestamp(self._redis_down_since - 5, tz=timezone.utc)
            self._redis_down_since = None
            for delay in (0.0, 2.0, 15.0):  # until python-socketio's listener resubscribed
                task = asyncio.ensure_future(self._catch_up_everyone(delay, since))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        self._redis_up = up

    async def _catch_up_everyone(self, delay: float, ended_since: datetime) -> None:
        await asyncio.sleep(delay)
        for sid, owner in list(self._clients.items()):
            await self._catch_up(sid, owner, self._followed.get(sid, []), ended_since)

    async def _catch_up(
        self, sid: str, owner: str, follow: list[int], ended_since: datetime | None = None
    ) -> None:
        """Send a client that just connected the current state of its user's queued and
        running jobs (as ``job:progress``, with their ``status``), and the end of each job it
        says it follows that ended meanwhile: it is right without a REST round trip."""
        if self.catch_up is None:
            return
        try:
            for event, payload in await self.catch_up(owner, follow, ended_since):
                metrics.EVENTS.labels(event).inc()
                await self.sio.emit(event, payload, to=sid)
        except Exception:  # the client can still ask REST; this must not take the server down
            log.exception("nbjobs: could not catch a client up")

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
        metrics.EVENTS.labels(event).inc()
        await self.sio.emit(event, dict(payload), room=user_room(owner))
