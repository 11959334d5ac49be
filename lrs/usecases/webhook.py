"""Assignment events posted to a webhook (``LRS_WEBHOOK_URL``), signed, retried, logged.

Each event (an assignment created, accepted, completed, cancelled, expired,
errored, reversed, linked, reminded) is a JSON POST::

    {"event": "completed", "sent": "2026-09-01T08:00:00.000000Z",
     "assignment": {... the assignment ...}}

with the headers ``X-LRS-Event``, ``X-LRS-Delivery`` (a new id per event,
the same on every retry) and ``X-LRS-Signature: sha256=<hex>``, the
HMAC-SHA-256 of the body under ``LRS_WEBHOOK_SECRET``: the receiver computes
it again to know the post is ours and whole.

Posts are made by a thread of the process, after the change is stored, so a
slow or failing receiver never holds up or undoes a transition. A post that
fails (no connection, a status other than 2xx) is tried again after 0.5, 1,
2 and 4 seconds; the outcome is an action of the assignment: ``notified``,
ok or failed with the reason. Events still queued when the process stops
are lost (their transitions are stored; only the post is missing).
"""

import hashlib
import hmac
import logging
import queue
import threading
import time
import uuid
from collections.abc import Sequence

import httpx
import orjson

from lrs.assignments.base import Assignment, AssignmentStore
from lrs.clock import default_clock
from lrs.xapi.prepare import iso

log = logging.getLogger(__name__)

#: Seconds before each retry of a failed post.
DELAYS = (0.5, 1.0, 2.0, 4.0)


def signature(secret: str, body: bytes) -> str:
    """The ``X-LRS-Signature`` header of a body: ``sha256=`` and its HMAC in hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhook:
    """Posts events to one URL from a thread, in order, retrying with back-off."""

    def __init__(
        self,
        url: str,
        secret: str,
        store: AssignmentStore,
        *,
        delays: Sequence[float] = DELAYS,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Post to ``url``, signing with ``secret``; log the outcomes in ``store``."""
        self.url = url
        self._secret = secret
        self._store = store
        self._delays = tuple(delays)
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._queue: queue.Queue[tuple[str, Assignment] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, event: str, assignment: Assignment) -> None:
        """Queue an event; it is posted soon, by the thread."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="webhook")
                self._thread.start()
        self._queue.put((event, assignment))

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every queued event is posted (or given up); say if it was in time."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        """Post what is queued, then stop the thread."""
        self.drain()
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout=5)
                self._thread = None
        self._http.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._deliver(*item)
            except Exception:  # a failure to log must not stop the thread
                log.exception("webhook delivery failed")
            finally:
                self._queue.task_done()

    def _deliver(self, event: str, assignment: Assignment) -> None:
        body = orjson.dumps(
            {
                "event": event,
                "sent": iso(default_clock.now_us()),
                "assignment": assignment.as_json(),
            }
        )
        delivery = uuid.uuid4().hex
        headers = {
            "Content-Type": "application/json",
            "X-LRS-Event": event,
            "X-LRS-Delivery": delivery,
            "X-LRS-Signature": signature(self._secret, body),
        }
        reason = ""
        for attempt, delay in enumerate((0.0, *self._delays), start=1):
            time.sleep(delay)
            try:
                response = self._http.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}"
                continue
            if response.is_success:
                self._store.record(
                    assignment.id,
                    "notified",
                    actor="webhook",
                    details={"event": event, "delivery": delivery, "attempts": attempt},
                )
                return
            reason = f"the receiver answered {response.status_code}"
        self._store.record(
            assignment.id,
            "notified",
            actor="webhook",
            ok=False,
            reason=f"{reason} (after {len(self._delays) + 1} attempts)",
            details={"event": event, "delivery": delivery},
        )
