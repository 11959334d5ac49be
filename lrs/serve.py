"""Running the server, as ``lrs serve`` does: gunicorn's processes, waitress's buffering.

A thread that reads a request from a slow client is a thread no one else can
use: with gunicorn's threaded worker, as many trickling connections as there
are threads stop the server. So each worker process here reads requests the way
waitress does: one event loop reads every connection, and a request reaches an
application thread only once its headers and body are complete. Connections
that take too long are closed: the headers of a request must arrive within
``header_timeout`` seconds of its first byte (or of the connection), the whole
request within ``body_timeout``, and an idle kept-alive connection is closed
after ``idle_timeout``.

Gunicorn stays the process manager: it binds the sockets, forks the workers,
checks their heartbeat and restarts them. With ``memory://`` storage a worker
holds all the data, so a worker that dies must not be replaced by an empty
one: the server stops instead, saying why (``stop_when_a_worker_dies``).
"""

import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.errors import HaltServer
from gunicorn.workers.base import Worker
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher

#: Net new container objects (dicts, lists) between two young collections of
#: a server's garbage collector; Python's default is 700.
GC_YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Set up the garbage collector for a server process, once its application is loaded.

    A request holds its parsed body (thousands of dicts and lists for a batch
    of statements) until it ends. With Python's default thresholds, young
    collections run several times during such a request, find its objects
    alive and move them to the oldest generation; that makes full
    collections frequent, and each walks every object the process holds.
    Measured on batches of realistic statements, collections took about 15%
    of the server's time (2 to 3 ms of each 100-statement request; 0.3 ms
    with these settings). With a higher threshold, a request's objects are freed
    before a collection sees them; and the objects of the loaded application
    (modules, the app, its stores) are frozen, left out of every collection.
    """
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


#: Application threads per worker unless told otherwise (see ``lrs serve --help``):
#: with memory:// storage, requests never wait on a database, so threads only
#: take turns at Python's interpreter lock; measured (benchmarks/RESULTS.md),
#: 1 and 2 threads serve within 5% of each other and 4 serve fewer, and a second
#: thread keeps one long request from holding up every other.
MEMORY_THREADS = 2
#: With a database, threads overlap the waits on it.
DEFAULT_THREADS = 4
#: Seconds between a worker's heartbeats to gunicorn (whose timeout is 30 by default).
HEARTBEAT_SECONDS = 1.0


@dataclass(frozen=True)
class Limits:
    """How long a client may take, and how much it may send and hold open."""

    #: Seconds from a request's first byte (or from connecting) to the end of its headers.
    header_timeout: float = 10.0
    #: Seconds from a request's first byte to the end of its body.
    body_timeout: float = 60.0
    #: Seconds a kept-alive connection may stay idle between requests.
    idle_timeout: int = 30
    #: Open connections per worker; past it, new ones wait in the listen backlog.
    connection_limit: int = 1000
    #: The largest body the server buffers; the app refuses smaller excess itself.
    max_body_bytes: int = 1_000_000


# Chunked framing (sizes, CRLFs) counts towards waitress's own body limit, so
# it gets this much room above the app's, which counts the body exactly.
_FRAMING_ALLOWANCE = 65536


class JsonErrorTask(ErrorTask):  # type: ignore[misc]
    """Errors the server answers itself (413, 431, 400) in the API's JSON shape."""

    def execute(self) -> None:
        """Write the error as ``{code, status, message}``."""
        error = self.request.error
        body = orjson.dumps(
            {"code": error.code, "status": error.reason, "message": f"{error.reason}: {error.body}"}
        )
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class DeadlineChannel(HTTPChannel):  # type: ignore[misc]
    """A connection whose requests must arrive in time.

    ``began`` is when the request being read started (its first byte, or the
    connection itself for the first request), or ``None`` between requests.
    """

    error_task_class = JsonErrorTask

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Start the clock: a new connection owes its first request."""
        super().__init__(*args, **kwargs)
        self.began: float | None = time.monotonic()

    def received(self, data: bytes) -> bool:
        """Read bytes of requests; note when a request starts and when it is complete."""
        if self.request is None and self.began is None and data:
            self.began = time.monotonic()
        result: bool = super().received(data)
        if self.request is None:  # nothing half-read: the clock stops until the next request
            self.began = None
        return result

    def overdue(self, now: float, limits: Limits) -> bool:
        """Whether the request being read is past its deadline."""
        if self.began is None or self.requests:
            return False  # idle between requests, or being served
        headers_done = self.request is not None and self.request.headers_finished
        return now - self.began > (limits.body_timeout if headers_done else limits.header_timeout)


class DeadlineServer(TcpWSGIServer):  # type: ignore[misc]
    """Waitress's server whose connections are closed when a request is late."""

    channel_class = DeadlineChannel
    limits = Limits()

    def maintenance(self, now: float) -> None:
        """Close idle connections (waitress) and those whose request is late."""
        super().maintenance(now)
        clock = time.monotonic()
        for channel in list(self.active_channels.values()):
            if channel.overdue(clock, self.limits):
                channel.will_close = True


class QueueWarnings:
    """waitress's queue logger, letting one warning through per interval with a count.

    waitress warns "Task queue depth is N" on every request that finds all
    threads busy: under load, a line per request. Once a minute, with a count,
    still tells an operator that requests wait. The warnings held back are
    counted before a log record is made: making one for every request cost
    about 1% of a busy worker's time.
    """

    def __init__(self, logger: logging.Logger, seconds: float = 60.0) -> None:
        """Pass on to ``logger`` at most one warning every ``seconds``."""
        self.logger = logger
        self.seconds = seconds
        self._next = 0.0
        self._held = 0

    def warning(self, message: str, *args: Any) -> None:
        """Log ``message`` if the interval is over, with how many were held back; else count it."""
        now = time.monotonic()
        if now < self._next:
            self._held += 1
            return
        if self._held:
            message = f"{message} ({self._held} more such warnings since the last one)"
        self._next, self._held = now + self.seconds, 0
        self.logger.warning(message, *args)


class BufferingWorker(Worker):  # type: ignore[misc]
    """A gunicorn worker that serves its sockets with waitress's event loop and threads."""

    #: Set by ``GunicornServer`` before the workers start.
    limits = Limits()
    #: Addresses whose X-Forwarded-* headers are believed (a reverse proxy).
    trusted_proxy: str | None = None

    def run(self) -> None:
        """Serve until told to stop, sending gunicorn a heartbeat every second."""
        tune_garbage_collector()
        socket_map: dict[int, Any] = {}
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.queue_logger = QueueWarnings(logging.getLogger("waitress.queue"))
        dispatcher.set_thread_count(self.cfg.threads)
        adjustments = Adjustments(**self._adjustments())
        servers = []
        for listener in self.sockets:
            raw = listener.sock
            server = DeadlineServer(
                self.wsgi,
                socket_map,
                _sock=raw,
                dispatcher=dispatcher,
                adj=adjustments,
                bind_socket=False,
                sockinfo=(raw.family, raw.type, raw.proto, raw.getsockname()),
            )
            server.limits = self.limits
            servers.append(server)
        beat = 0.0
        while self.alive:
            # The loop turns once per event; the heartbeat (a file's time
            # changed) and the parent's check are system calls, so not each time.
            now = time.monotonic()
            if now >= beat:
                beat = now + HEARTBEAT_SECONDS
                self.notify()
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    break
            wasyncore.loop(timeout=HEARTBEAT_SECONDS, use_poll=True, map=socket_map, count=1)
        self._finish(servers, socket_map, dispatcher)

    def _adjustments(self) -> dict[str, Any]:
        limits = self.limits
        settings: dict[str, Any] = {
            "threads": self.cfg.threads,
            "channel_timeout": limits.idle_timeout,
            # Deadlines are checked this often (seconds).
            "cleanup_interval": 1,
            "connection_limit": limits.connection_limit,
            "max_request_body_size": limits.max_body_bytes + _FRAMING_ALLOWANCE,
            "max_request_header_size": 65536,
            "recv_bytes": 262144,
            # poll(): select() cannot watch more than 1024 connections.
            "asyncore_use_poll": True,
            "ident": "lrs",
        }
        if self.trusted_proxy:
            settings.update(
                trusted_proxy=self.trusted_proxy,
                trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
            )
        return settings

    def _finish(
        self,
        servers: list[DeadlineServer],
        socket_map: dict[int, Any],
        dispatcher: ThreadedTaskDispatcher,
    ) -> None:
        """Stop accepting, let the requests in progress finish, then stop the threads."""
        for server in servers:
            server.accepting = False
        deadline = time.monotonic() + self.cfg.graceful_timeout

        def busy() -> bool:
            return any(
                channel.requests or channel.total_outbufs_len
                for server in servers
                for channel in server.active_channels.values()
            )

        while busy() and time.monotonic() < deadline:
            self.notify()
            wasyncore.loop(timeout=0.1, use_poll=True, map=socket_map, count=1)
        dispatcher.shutdown(cancel_pending=True, timeout=5)


def stop_when_a_worker_dies(reason: str) -> Callable[[Any, Any], None]:
    """A gunicorn ``child_exit`` hook that stops the server when a worker dies.

    A worker that exits while the server is stopping is expected; one that
    exits otherwise (killed, crashed) stops the server with exit status 1.
    """

    def child_exit(arbiter: Any, worker: Any) -> None:
        if arbiter.LISTENERS:  # emptied by the arbiter when it is stopping
            raise HaltServer(f"worker {worker.pid} exited: {reason}", 1)

    return child_exit


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn, configured from a dict instead of its command line."""

    def __init__(self, load_app: Callable[[], Flask], options: dict[str, Any]) -> None:
        """Serve the app that ``load_app`` returns, with gunicorn ``options``."""
        self._load_app = load_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the options."""
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        """Build (or hand over) the application."""
        return self._load_app()


def serve(
    load_app: Callable[[], Flask],
    *,
    bind: str,
    workers: int,
    threads: int,
    limits: Limits,
    preload: bool = False,
    trusted_proxy: str | None = None,
    on_worker_death: str | None = None,
) -> None:
    """Run the server until it is stopped.

    Args:
        load_app: builds the application (in each worker, or once with ``preload``).
        bind: ``host:port`` to listen on.
        workers: worker processes.
        threads: application threads per worker.
        limits: timeouts and sizes (see ``Limits``).
        preload: build the app once, before the workers are forked.
        trusted_proxy: the address of a reverse proxy whose ``X-Forwarded-For``
            names the client.
        on_worker_death: when given, a worker that dies stops the server, and
            this says why in the log.
    """
    BufferingWorker.limits = limits
    BufferingWorker.trusted_proxy = trusted_proxy
    options: dict[str, Any] = {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": BufferingWorker,
        "preload_app": preload,
        # gunicorn's runtime control socket would be one more way in; not needed.
        "control_socket_disable": True,
    }
    if on_worker_death is not None:
        options["child_exit"] = stop_when_a_worker_dies(on_worker_death)
    options["post_worker_init"] = start_forwarding
    options["worker_exit"] = stop_forwarding
    GunicornServer(load_app, options).run()


def start_forwarding(worker: Any) -> None:
    """In each worker, a sender thread beside the requests (docs/forwarding.md).

    Every worker runs one; each target's lease lets one of them (in any
    process, on any server) work it at a time, so a dead worker's targets are
    taken over when its lease ends. Without targets it reads the list once a
    second.
    """
    from lrs.imports.pull import pull_round
    from lrs.usecases.forwarding import Sender

    stop = threading.Event()
    sender = Sender(worker.wsgi.extensions["lrs"], puller=pull_round)
    worker.lrs_forwarding = stop
    threading.Thread(target=sender.run, args=(stop,), name="lrs-forward", daemon=True).start()


def stop_forwarding(server: Any, worker: Any) -> None:
    """As a worker exits: its sender stops, and gives its leases back."""
    stop = getattr(worker, "lrs_forwarding", None)
    if stop is not None:
        stop.set()


def curl_example(url: str, key: str, secret: str) -> str:
    """A command a newcomer can paste to try a credential."""
    # Query values are percent-encoded: a raw "+" would arrive as a space.
    query = urlencode({"username": "ada", "block": "block-v1:Org+Demo+2026+type@problem+block@p1"})
    return (
        f"curl -u '{key}:{secret}' -X PATCH -H 'Content-Type: application/json' \\\n"
        f"     -d '{{\"answer\": 42}}' '{url}/api/v1/state?{query}'"
    )
