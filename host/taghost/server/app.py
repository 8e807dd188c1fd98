"""The HTTP server (aiohttp): POST /v1/up for tags, a JSON API and exports for people.

aiohttp because one dependency gives both the server and the client the load generator and the
fault harness use, it reads request bodies as a stream (so the body limit and the slow-client
timeout are enforced while reading, not after), and it runs on asyncio with no extra ASGI server.
Database work runs in a thread pool sized to the engine (one writer for SQLite).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from taghost.server import admin, api, exports, proximity, rules, wire
from taghost.server.db import Database
from taghost.server.ingest import Ingest, ms_2000
from taghost.server.victims import Victims

log = logging.getLogger("opentag.server")

MAX_GROUP = 64  # requests committed together at most (group commit)
BODY_TIMEOUT_S = 10.0  # a tag's whole body must arrive within this (slow clients get 408)
# A connection that has not sent a complete request head within this is closed (slowloris).
IDLE_TIMEOUT_S = 15.0
RULES_EVERY_S = 30.0


class Config:
    def __init__(
        self,
        max_body: int = wire.MAX_BODY,
        body_timeout_s: float = BODY_TIMEOUT_S,
        grace_s: int = rules.DEFAULT_GRACE_S,
        rules_every_s: float = RULES_EVERY_S,
        workers: int | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.max_body = max_body
        self.body_timeout_s = body_timeout_s
        self.grace_s = grace_s
        self.rules_every_s = rules_every_s
        self.workers = workers


class TooLarge(Exception):
    pass


async def read_limited(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge
    buf = bytearray()
    while True:
        chunk = await request.content.read(16384)
        if not chunk:
            return bytes(buf)
        buf += chunk
        if len(buf) > limit:
            raise TooLarge


def error(status: int, reason: str, close: bool = False) -> web.Response:
    r = web.json_response({"error": reason}, status=status)
    if close:
        r.force_close()
    return r


class Server:
    """The application and what it runs on: database, ingest, thread pool, clock."""

    def __init__(
        self, db: Database, config: Config | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.config = config or Config()
        self.clock = clock
        self.ingest = Ingest(db)
        self.victims = Victims(db, self.ingest.counts, self.ingest._lock)
        self.pool = ThreadPoolExecutor(self.config.workers or db.workers, "opentag-db")
        self.started = clock()
        self.queue: asyncio.Queue[tuple[bytes, asyncio.Future[tuple[int, bytes, str]]]]
        self._tasks: list[asyncio.Task[None]] = []

    def now_ms(self) -> int:
        return ms_2000(self.clock())

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    # ---- tags --------------------------------------------------------------------------------
    async def up(self, request: web.Request) -> web.Response:
        try:
            body = await asyncio.wait_for(
                read_limited(request, self.config.max_body), self.config.body_timeout_s
            )
        except TooLarge:
            self.ingest.refuse("too_large")
            return error(413, "too_large", close=True)
        except asyncio.TimeoutError:
            self.ingest.refuse("too_slow")
            return error(408, "too_slow", close=True)
        fut: asyncio.Future[tuple[int, bytes, str]] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((body, fut))
        status, out, ctype = await fut
        return web.Response(status=status, body=out, content_type=ctype)

    async def _writer(self) -> None:
        """Take every request waiting (up to MAX_GROUP) and commit them in one transaction:
        under load one disk sync serves many tags; idle, a request goes alone at once."""
        while True:
            items = [await self.queue.get()]
            while len(items) < MAX_GROUP and not self.queue.empty():
                items.append(self.queue.get_nowait())
            try:
                res = await self.run(self.ingest.handle_many, [b for b, _ in items], self.now_ms())
            except Exception:
                log.exception("ingest group failed")
                res = [(500, b'{"error": "server_error"}', "application/json")] * len(items)
            for (_, fut), r in zip(items, res, strict=True):
                if not fut.done():
                    fut.set_result(r)

    # ---- victims' phones ----------------------------------------------------------------------
    async def victim_position(self, request: web.Request) -> web.Response:
        """One position from a victim's phone (taghost.server.victims; docs/server.md)."""
        text = request.match_info["victim"]
        if not (text.isascii() and text.isdigit() and len(text) <= 19):
            text = "0"
        if not 1 <= int(text) <= wire.INT_MAX:
            self.victims.count("refused_victim_malformed")
            return error(400, "malformed")
        try:
            body = await asyncio.wait_for(
                read_limited(request, wire.VICTIM_MAX_BODY), self.config.body_timeout_s
            )
        except TooLarge:
            self.victims.count("refused_victim_too_large")
            return error(413, "too_large", close=True)
        except asyncio.TimeoutError:
            self.victims.count("refused_victim_too_slow")
            return error(408, "too_slow", close=True)
        status, out, ctype = await self.run(self.victims.handle, int(text), body, self.now_ms())
        return web.Response(status=status, body=out, content_type=ctype)

    # ---- people ------------------------------------------------------------------------------
    async def stats(self, request: web.Request) -> web.Response:
        c = dict(self.ingest.counts)
        refused = {k[len("refused_") :]: v for k, v in c.items() if k.startswith("refused_")}
        other = {k: v for k, v in c.items() if not k.startswith("refused_")}
        return web.json_response(
            {
                "backend": self.db.dialect,
                "uptime_s": round(self.clock() - self.started, 1),
                "counts": other,
                "refused": refused,
            }
        )

    def _tag(self, request: web.Request) -> str:
        try:
            return admin.parse_tag(request.match_info["tag"])
        except admin.AdminError as e:
            raise web.HTTPBadRequest(
                text=json.dumps({"error": str(e)}), content_type="application/json"
            ) from e

    def _range(self, request: web.Request) -> tuple[int | None, int | None]:
        try:
            return api.parse_time(request.query.get("from")), api.parse_time(
                request.query.get("to")
            )
        except ValueError as e:
            raise web.HTTPBadRequest(
                text=json.dumps({"error": str(e)}), content_type="application/json"
            ) from e

    async def tags(self, request: web.Request) -> web.Response:
        return web.json_response(await self.run(api.tag_state, self.db, None))

    async def tag(self, request: web.Request) -> web.Response:
        rows = await self.run(api.tag_state, self.db, self._tag(request))
        if not rows:
            return error(404, "no such tag")
        return web.json_response(rows[0])

    async def trail(self, request: web.Request) -> web.Response:
        tag = self._tag(request)
        t0, t1 = self._range(request)
        return web.json_response(await self.run(api.trail, self.db, tag, t0, t1))

    async def alerts(self, request: web.Request) -> web.Response:
        tag = self._tag(request) if "tag" in request.match_info else None
        if tag is None and request.query.get("tag"):
            try:
                tag = admin.parse_tag(request.query["tag"])
            except admin.AdminError as e:
                return error(400, str(e))
        t0, t1 = self._range(request)
        return web.json_response(await self.run(api.alerts, self.db, tag, t0, t1))

    async def export(self, request: web.Request) -> web.Response:
        tag = self._tag(request)
        fmt = request.match_info["fmt"]
        if fmt not in exports.FORMATS:
            return error(404, f"unknown export format {fmt!r}")
        t0, t1 = self._range(request)
        fixes = await self.run(api.trail, self.db, tag, t0, t1)
        text = exports.export(fmt, tag, fixes)
        r = web.Response(text=text, content_type=exports.FORMATS[fmt])
        r.headers["Content-Disposition"] = f'attachment; filename="{tag}.{fmt}"'
        return r

    async def downlink(self, request: web.Request) -> web.Response:
        """Queue a downlink item: JSON {"kind": "zones", "data_b64": ..., "version": optional}."""
        tag = self._tag(request)
        try:
            req = await request.json()
            kind = wire.DOWNLINK_KINDS[req["kind"]]
            data = base64.b64decode(req.get("data_b64", ""), validate=True)
            version = req.get("version")
            if version is not None and type(version) is not int:
                raise ValueError("version must be an integer")
        except (ValueError, KeyError, TypeError) as e:
            return error(400, f"bad downlink request: {e}")
        try:
            v = await self.run(
                admin.queue_downlink, self.db, tag, kind, data, self.now_ms(), version
            )
        except admin.AdminError as e:
            return error(409, str(e))
        return web.json_response({"tag": tag, "kind": req["kind"], "version": v}, status=201)

    async def locate(self, request: web.Request) -> web.Response:
        """An on-demand locate: a kind-4 item with the next version, out in the next ack."""
        tag = self._tag(request)
        try:
            v = await self.run(admin.queue_downlink, self.db, tag, 4, b"", self.now_ms(), None)
        except admin.AdminError as e:
            return error(409, str(e))
        return web.json_response({"tag": tag, "kind": "locate", "version": v}, status=201)

    # ---- rules -------------------------------------------------------------------------------
    async def _rules_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.rules_every_s)
            try:
                raised = await self.run(
                    rules.comm_loss, self.db, self.now_ms(), self.config.grace_s
                )
                self.ingest.counts["comm_lost_raised"] += len(raised)
                served = await self.run(rules.beacon_windows, self.db, self.now_ms())
                self.ingest.counts["beacon_windows_queued"] += len(served)
                for what, _ in await self.run(proximity.sweep, self.db, self.now_ms()):
                    self.ingest.counts[proximity.counter(what)] += 1
            except Exception:
                log.exception("rules failed")

    async def _start_tasks(self, app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        self.queue = asyncio.Queue()
        self._tasks = [loop.create_task(self._rules_loop())]
        self._tasks += [loop.create_task(self._writer()) for _ in range(self.pool._max_workers)]

    async def _stop_tasks(self, app: web.Application) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    def app(self) -> web.Application:
        # client_max_size bounds the JSON API's bodies; /v1/up streams under its own limit.
        a = web.Application(client_max_size=self.config.max_body)
        a.add_routes(
            [
                web.post("/v1/up", self.up),
                web.post("/v1/victims/{victim}/positions", self.victim_position),
                web.get("/v1/stats", self.stats),
                web.get("/v1/tags", self.tags),
                web.get("/v1/tags/{tag}", self.tag),
                web.get("/v1/tags/{tag}/trail", self.trail),
                web.get("/v1/tags/{tag}/alerts", self.alerts),
                web.get("/v1/tags/{tag}/export.{fmt}", self.export),
                web.post("/v1/tags/{tag}/downlink", self.downlink),
                web.post("/v1/tags/{tag}/locate", self.locate),
                web.get("/v1/alerts", self.alerts),
            ]
        )
        a.on_startup.append(self._start_tasks)
        a.on_cleanup.append(self._stop_tasks)
        return a

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class ServerThread:
    """The server on a loopback port in a background thread (tests, bench, demo)."""

    def __init__(
        self,
        server: Server,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_s: float = 1.0,
        ssl_context: Any = None,
    ) -> None:
        self.server = server
        self.ssl_context = ssl_context  # an ssl.SSLContext: serve HTTPS (the TLS client tests)
        self.shutdown_s = shutdown_s
        self.host = host
        self.port = port
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._runner: web.AppRunner | None = None
        self._error: BaseException | None = None

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._start())
        except BaseException as e:
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self._runner = web.AppRunner(
            self.server.app(),
            access_log=None,
            shutdown_timeout=self.shutdown_s,
            keepalive_timeout=self.server.config.idle_timeout_s,
        )
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.host, self.port, reuse_address=True, ssl_context=self.ssl_context
        )
        await site.start()
        # aiohttp types _server as any asyncio server; TCPSite's is always a socket server
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        self.port = sock.getsockname()[1]

    async def _shutdown(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
        # Handlers of idle keep-alive connections: end them before the loop stops.
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in rest:
            t.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
        self.server.close()


async def serve_forever(server: Server, host: str, port: int) -> None:
    runner = web.AppRunner(
        server.app(), access_log=log, keepalive_timeout=server.config.idle_timeout_s
    )
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"opentag server on http://{host}:{port} ({server.db.dialect}: {server.db.url})")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
