"""Forwarding: every statement stored here sent to other LRSs, once (docs/forwarding.md).

The statements are the outbox. Each target's cursor is a place in this
LRS's stored order (stored time, then id), read only up to where every
statement is visible (``StatementStore.readable_through_us``: SQLite and
memory store batches in the order of their stamps, MongoDB stops before its
oldest batch in flight), so no statement is ever skipped. A sender works a
target while it holds the target's lease; it sends a batch in stored order,
advances the cursor only when the batch is settled (delivered, or set aside
as dead letters), and backs off with jitter when the target cannot take it
now. Re-sending is safe: statement ids are kept, and an LRS that has a
statement already answers as if it stored it.
"""

import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from lrs.clock import Clock, default_clock
from lrs.closeable import Closeable
from lrs.exceptions import InvalidInput
from lrs.forwarding.base import ACTIVE, PAUSED, DeadLetter, Filters, Target, new_target_id
from lrs.usecases.storage import Storage
from lrs.xapi import multipart, syntax
from lrs.xapi.statements.base import Record

_log = logging.getLogger("lrs.forwarding")

#: Statements sent in one request.
SENT_AT_ONCE = 100
#: How long a sender holds a target between two renewals.
LEASE_SECONDS = 30.0
#: The first wait after a failure, and the longest.
FIRST_WAIT_SECONDS, LONGEST_WAIT_SECONDS = 1.0, 600.0
#: A request to a target that takes longer than this fails (and is tried again later).
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
#: How far back each round of a pull reads again (statements of one instant, or shown late).
PULL_OVERLAP_US = 10_000_000
#: Pages of statements a pull reads in one round.
PULL_PAGES = 5
#: How far ``status`` counts what waits before it says "at least".
COUNTED_AT_MOST = 100_000
_VERSIONS = ("1.0.3", "2.0.0")


class TryLater(Exception):
    """The target cannot take statements now: a time-out, a 5xx, 408, 429, refused credentials."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        """Why, and how long the target asked to wait (``Retry-After``), if it did."""
        super().__init__(reason)
        self.retry_after = retry_after


# -- targets -------------------------------------------------------------------------


def parse_auth(auth: str) -> tuple[str, str]:
    """``KEY:SECRET`` as a pair.

    Raises:
        InvalidInput: not of that form.
    """
    key, colon, secret = auth.partition(":")
    if not colon or not key or not secret:
        raise InvalidInput("auth must be KEY:SECRET, the target's credential")
    return key, secret


def checked_filters(
    verbs: Sequence[str] = (),
    activity_prefixes: Sequence[str] = (),
    course_keys: Sequence[str] = (),
) -> Filters:
    """Filters whose values are IRIs (course keys: any non-empty text).

    Raises:
        InvalidInput: a value that is not one, named.
    """
    for name, values in (("verb", verbs), ("activity prefix", activity_prefixes)):
        for value in values:
            if not syntax.is_iri(value):
                raise InvalidInput(f"the {name} filter {value!r} is not an IRI")
    for value in course_keys:
        if not value.strip():
            raise InvalidInput("a course key filter must not be empty")
    return Filters(tuple(verbs), tuple(activity_prefixes), tuple(course_keys))


def add_target(
    storage: Storage,
    url: str,
    auth: str,
    *,
    version: str = "1.0.3",
    filters: Filters | None = None,
    from_start: bool = False,
    since_us: int | None = None,
    check: bool = True,
    transport: httpx.BaseTransport | None = None,
) -> Target:
    """Add a target, checked first: its ``/about`` answers, and its credential is taken.

    Statements stored from now on are forwarded; with ``from_start``, every
    statement stored here too; with ``since_us``, those stored after it.

    Raises:
        InvalidInput: a bad URL, credential, version or filter, or a target that
            cannot be reached or refuses the credential (nothing is added).
    """
    target = _checked_target(url, auth, version, check, transport)
    return storage.forwarding.add(
        replace(
            target,
            filters=filters or Filters(),
            cursor=_start(storage, from_start, since_us),
        )
    )


def add_source(
    storage: Storage,
    url: str,
    auth: str,
    *,
    version: str = "1.0.3",
    since_us: int | None = None,
    check: bool = True,
    transport: httpx.BaseTransport | None = None,
) -> Target:
    """Subscribe to another LRS: what it stores (after ``since_us``, else all) is imported here.

    Checked as a target is (its ``/about``, its credential).

    Raises:
        InvalidInput: as ``add_target``; nothing is added.
    """
    source = _checked_target(url, auth, version, check, transport)
    cursor = None if since_us is None else (since_us, "")
    return storage.forwarding.add(replace(source, direction="pull", cursor=cursor))


def _checked_target(
    url: str, auth: str, version: str, check: bool, transport: httpx.BaseTransport | None
) -> Target:
    """A new target of this URL and credential, checked (see ``add_target``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"the target URL must be http(s)://host/...: {url!r}")
    key, secret = parse_auth(auth)
    if version not in _VERSIONS:
        raise InvalidInput(f"version must be one of {', '.join(_VERSIONS)}, not {version!r}")
    target = Target(
        new_target_id(), url.rstrip("/"), key, secret, version, created_us=default_clock.now_us()
    )
    if check:
        with _client(target, transport) as client:
            _check(client, target)
    return target


def _start(storage: Storage, from_start: bool, since_us: int | None) -> tuple[int, str] | None:
    """Where a new target's cursor starts: the beginning, a time, or after the newest statement.

    Raises:
        InvalidInput: both ``from_start`` and ``since_us``.
    """
    if from_start and since_us is not None:
        raise InvalidInput("give from_start or since, not both")
    if from_start:
        return None
    if since_us is not None:
        return storage.statements.feed_after(since_us)
    return storage.statements.feed_end()


def _check(client: httpx.Client, target: Target) -> None:
    about = f"{target.url}/about"
    try:
        answer = client.get(about)
        if answer.status_code != 200 or "version" not in answer.json():
            raise InvalidInput(f"{about} is not an LRS's about resource ({answer.status_code})")
        probe = client.get(f"{target.url}/statements", params={"limit": "1"})
    except (httpx.HTTPError, ValueError) as exc:
        raise InvalidInput(f"the LRS at {target.url} cannot be reached: {exc}") from None
    if probe.status_code in (401, 403):
        raise InvalidInput(f"the LRS at {target.url} refused the credential {target.key!r}")
    if probe.status_code != 200:
        raise InvalidInput(f"the LRS at {target.url} answered {probe.status_code} to a read")


def set_state(storage: Storage, target_id: str, state: str) -> Target:
    """Pause or resume a target (a resumed one is tried at once)."""
    if state not in (ACTIVE, PAUSED):
        raise InvalidInput(f"state must be {ACTIVE} or {PAUSED}, not {state!r}")
    return storage.forwarding.change(
        target_id, lambda target: replace(target, state=state, next_try_us=0)
    )


@dataclass(frozen=True)
class Status:
    """Where a target's stream stands, for operators."""

    target: Target
    queued: int  # statements after its cursor (at most COUNTED_AT_MOST counted)
    lag_seconds: float  # the age of the oldest statement not yet done
    dead: int  # dead letters now


def status(storage: Storage, target_id: str) -> Status:
    """A target's lag, queue, delivered and dead-letter counts, last error and next try."""
    target = storage.forwarding.get(target_id)
    now_us = default_clock.now_us()
    if target.direction == "pull":
        # What waits there is not known here: the age of the newest statement read.
        newest = 0 if target.cursor is None else target.cursor[0]
        lag = 0.0 if not newest else max(0.0, (now_us - newest) / 1_000_000)
        return Status(target, 0, lag, len(storage.forwarding.dead_letters(target_id)))
    queued, oldest, after = 0, None, target.cursor
    while queued < COUNTED_AT_MOST:
        page = storage.statements.feed(after, now_us, 1000)
        if not page:
            break
        oldest = page[0][1].stored_us if oldest is None else oldest
        queued += len(page)
        after = page[-1][0]
    lag = 0.0 if oldest is None else max(0.0, (now_us - oldest) / 1_000_000)
    return Status(target, queued, lag, len(storage.forwarding.dead_letters(target_id)))


# -- sending -------------------------------------------------------------------------


def matches(filters: Filters, record: Record) -> bool:
    """Whether a statement goes to a target with these filters (each given must hold)."""
    if filters.verbs and record.terms.verb not in filters.verbs:
        return False
    activity = record.terms.activity or ""
    if filters.activity_prefixes and not any(
        activity.startswith(prefix) for prefix in filters.activity_prefixes
    ):
        return False
    return not filters.course_keys or record.course in filters.course_keys


def _client(target: Target, transport: httpx.BaseTransport | None) -> httpx.Client:
    # No redirects followed: the credential goes to the target's origin only.
    return httpx.Client(
        auth=httpx.BasicAuth(target.key, target.secret),
        timeout=TIMEOUT,
        transport=transport,
        headers={"X-Experience-API-Version": target.version, "User-Agent": "lrs-forward"},
    )


def _text(response: httpx.Response) -> str:
    return response.text[:500] or response.reason_phrase


def _transient(response: httpx.Response) -> bool:
    return response.status_code >= 500 or response.status_code in (401, 403, 408, 429)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


class Sender(Closeable):
    """Sends each active target its statements, one target at a time per lease holder."""

    def __init__(
        self,
        storage: Storage,
        *,
        holder: str | None = None,
        clock: Clock = default_clock,
        transport: httpx.BaseTransport | None = None,
        puller: "Callable[[Sender, Target], int] | None" = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        """A sender for ``storage``'s targets; ``holder`` names it in leases.

        ``puller`` does a round of a pull (``lrs.imports.pull.pull_round``);
        without one, sources are left alone.
        """
        self.storage = storage
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        #: The authority of statements pulled from another LRS (as an import's).
        self.authority = {
            "objectType": "Agent",
            "name": "lrs pull",
            "account": {"homePage": "urn:lrs:forwarding", "name": "pull"},
        }
        self.clock = clock
        self.puller = puller
        #: How long a target waits for this sender, should it die, before another takes it.
        self.lease_seconds = lease_seconds
        self._clients: dict[str, tuple[tuple[str, ...], httpx.Client]] = {}
        #: How targets are reached (a test's transport, else the network).
        self.transport = transport

    def run_once(self, target_id: str) -> int:
        """Send one batch to a target if it is due and this sender holds its lease.

        Returns how many statements its cursor moved past (0: nothing done).
        """
        now_us = self.clock.now_us()
        due = self.storage.forwarding.get(target_id)
        if due.state != ACTIVE or due.next_try_us > now_us:
            return 0
        # Read before the lease, so that nothing is written while nothing waits.
        placed = self._batch(due, now_us, SENT_AT_ONCE) if due.direction == "push" else []
        if due.direction == "push" and not placed:
            return 0
        target = self.storage.forwarding.take_lease(
            target_id, self.holder, now_us, self.lease_seconds
        )
        if target is None or target.state != ACTIVE or target.next_try_us > now_us:
            return 0
        if target.direction == "pull":
            # Importing is a door's (lrs.imports.pull), given to the sender.
            return 0 if self.puller is None else self.puller(self, target)
        if target.cursor != due.cursor:
            # Another sender moved it between the read and the lease: read again.
            placed = self._batch(target, now_us, SENT_AT_ONCE)
            if not placed:
                return 0
        records = [record for _, record in placed]
        wanted = [record for record in records if matches(target.filters, record)]
        wanted, unsendable = self._in_version(target, wanted)
        try:
            dead = unsendable + self._send(self._client_of(target), target, wanted)
        except TryLater as exc:
            self.wait(target_id, exc)
            return 0
        self.storage.forwarding.add_dead(dead)
        self._advance(
            target_id, placed[-1][0], len(wanted) + len(unsendable) - len(dead), len(dead)
        )
        return len(records)

    def _client_of(self, target: Target) -> httpx.Client:
        """The HTTP client of a target, kept between batches (its connections too).

        Made again when the target's address or credential changes. (Making
        one costs about 30 ms: half of a batch's time, measured.)
        """
        identity = (target.url, target.key, target.secret, target.version)
        held = self._clients.get(target.id)
        if held is None or held[0] != identity:
            if held is not None:
                held[1].close()
            held = self._clients[target.id] = (identity, _client(target, self.transport))
        return held[1]

    def close(self) -> None:
        """Close the kept HTTP clients."""
        for _, client in self._clients.values():
            client.close()
        self._clients.clear()

    def _batch(
        self, target: Target, now_us: int, limit: int
    ) -> list[tuple[tuple[int, str], Record]]:
        """The next statements past a target's cursor, with their places (``feed``)."""
        return self.storage.statements.feed(target.cursor, now_us, limit)

    def _in_version(
        self, target: Target, records: list[Record]
    ) -> tuple[list[Record], list[DeadLetter]]:
        """The statements as the target's xAPI version takes them, and those it cannot take.

        To a 1.0.3 target a 2.0.0 statement goes as version 1.0.0 when it
        uses nothing 1.0.3 lacks; one with ``contextAgents`` or
        ``contextGroups`` (2.0.0 only) cannot go, and is a dead letter
        (status 0: never sent) that says why.
        """
        if target.version != "1.0.3":
            return records, []
        kept, dead = [], []
        for record in records:
            if '"version":"2.0' not in record.text:
                kept.append(record)
                continue
            statement = orjson.loads(record.text)
            if _only_in_2(statement):
                reason = "uses contextAgents or contextGroups, which xAPI 1.0.3 has not: not sent"
                dead.append(DeadLetter(target.id, record.id, self.clock.now_us(), 0, reason))
                continue
            statement["version"] = "1.0.0"
            kept.append(record._replace(text=orjson.dumps(statement).decode()))
        return kept, dead

    def _send(self, client: httpx.Client, target: Target, wanted: list[Record]) -> list[DeadLetter]:
        """Deliver a batch; the statements refused for good come back as dead letters."""
        if not wanted:
            return []
        url = f"{target.url}/statements"
        body = b"[" + b",".join(record.text.encode() for record in wanted) + b"]"
        content, kind = self._with_attachments(body, wanted)
        response = self._request(client, "POST", url, kind, content=content)
        if response.status_code in (200, 204):
            return []
        # Refused as a whole: one at a time, to set aside only those refused.
        dead = []
        for record in wanted:
            content, kind = self._with_attachments(record.text.encode(), [record])
            single = self._request(
                client, "PUT", url, kind, params={"statementId": record.id}, content=content
            )
            if single.status_code not in (200, 204):
                now_us = self.clock.now_us()
                dead.append(
                    DeadLetter(target.id, record.id, now_us, single.status_code, _text(single))
                )
        return dead

    def _with_attachments(self, body: bytes, records: Sequence[Record]) -> tuple[bytes, str]:
        """The body as sent: JSON, or multipart with the data of the attachments it names.

        The data this LRS holds goes with its statements (xAPI 1.0.3
        Communication 1.5.2); an attachment given by ``fileUrl`` alone has none.
        """
        hashes: dict[str, None] = {}
        for record in records:
            if '"attachments"' not in record.text:
                continue
            for attachment in orjson.loads(record.text).get("attachments", ()):
                if isinstance(attachment, dict) and isinstance(attachment.get("sha2"), str):
                    hashes.setdefault(attachment["sha2"].lower())
        found = [data for data in map(self.storage.attachments.get, hashes) if data is not None]
        if not found:
            return body, "application/json"
        content, boundary = multipart.build(body, found)
        return content, f"multipart/mixed; boundary={boundary}"

    def _request(
        self, client: httpx.Client, method: str, url: str, kind: str, **kwargs: Any
    ) -> httpx.Response:
        try:
            response = client.request(method, url, headers={"Content-Type": kind}, **kwargs)
        except httpx.HTTPError as exc:
            raise TryLater(f"{method} {url}: {type(exc).__name__}: {exc}") from None
        if _transient(response):
            raise TryLater(
                f"{method} {url} answered {response.status_code}: {_text(response)}",
                _retry_after(response),
            )
        return response

    def _advance(self, target_id: str, last: tuple[int, str], delivered: int, dead: int) -> None:
        def advance(target: Target) -> Target | None:
            if target.lease_holder != self.holder:
                return None  # another sender took over: it sends them again, harmlessly
            return replace(
                target,
                cursor=last,
                delivered=target.delivered + delivered,
                dead=target.dead + dead,
                failures=0,
                last_error="",
                next_try_us=0,
            )

        self.storage.forwarding.change(target_id, advance)

    def wait(self, target_id: str, reason: TryLater) -> None:
        """Back off: exponentially, with jitter, at least what the target asked."""

        def wait(target: Target) -> Target:
            failures = target.failures + 1
            seconds = min(LONGEST_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** (failures - 1))
            seconds *= random.uniform(0.5, 1.0)
            if reason.retry_after is not None:
                seconds = max(seconds, reason.retry_after)
            return replace(
                target,
                failures=failures,
                last_error=str(reason)[:500],
                next_try_us=self.clock.now_us() + int(seconds * 1_000_000),
            )

        self.storage.forwarding.change(target_id, wait)

    def run_all_once(self) -> int:
        """One round over every target; how many statements the cursors moved past."""
        return sum(self.run_once(target.id) for target in self.storage.forwarding.targets())

    def run(self, stop: threading.Event, idle_seconds: float = 1.0) -> None:
        """Send until ``stop`` is set: at once while there is work, else every ``idle_seconds``."""
        try:
            while not stop.is_set():
                try:
                    moved = self.run_all_once()
                except Exception:  # noqa: BLE001 - a sender beside a server must live on
                    # (a store busy past its timeout, say): said, and tried again.
                    _log.exception("forwarding: a round failed; trying again")
                    moved = 0
                if not moved:
                    stop.wait(idle_seconds)
        finally:
            self.release_all()

    def release_all(self) -> None:
        """Give back every lease this sender holds, and close its clients (when it stops)."""
        for target in self.storage.forwarding.targets():
            self.storage.forwarding.release(target.id, self.holder)
        self.close()

    def retry_dead(self, target_id: str) -> tuple[int, int]:
        """Send a target's dead letters again; (delivered, still refused)."""
        target = self.storage.forwarding.get(target_id)
        letters = self.storage.forwarding.dead_letters(target_id)
        records = self.storage.statements.get_many([letter.statement_id for letter in letters])
        still = self._send(self._client_of(target), target, records)
        kept = {letter.statement_id for letter in still}
        delivered = [record.id for record in records if record.id not in kept]
        self.storage.forwarding.forget_dead(target_id, delivered)
        self.storage.forwarding.add_dead(still)
        self.storage.forwarding.change(
            target_id,
            lambda held: replace(
                held, delivered=held.delivered + len(delivered), dead=held.dead - len(delivered)
            ),
        )
        return len(delivered), len(still)


def stored_of(statement: Any) -> int:
    """A pulled statement's stored time in microseconds (0 when it has none)."""
    from lrs.clock import to_us

    stored = statement.get("stored") if isinstance(statement, dict) else None
    if isinstance(stored, str) and syntax.is_timestamp(stored, offset_required=False):
        return to_us(syntax.parse_timestamp(stored))
    return 0


def _only_in_2(statement: dict[str, Any]) -> bool:
    """Whether a statement (or its sub-statement) has context properties 2.0.0 added."""
    for part in (statement, statement.get("object")):
        context = part.get("context") if isinstance(part, dict) else None
        if isinstance(context, dict) and ("contextAgents" in context or "contextGroups" in context):
            return True
    return False
