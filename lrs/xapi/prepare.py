"""From a statement as a client sent it to the record a store keeps.

The LRS sets ``id`` (when absent), ``stored``, ``authority``, ``version`` and
``timestamp`` (when absent), and returns every ``contextActivities`` value as
an array (xAPI-Data.md sections 2.4.1, 2.4.6.2, 2.4.8 to 2.4.10).
"""

import functools
import os
import threading
from typing import Any, NamedTuple

import orjson

from lrs.clock import from_us, to_us
from lrs.xapi.courses import course_of
from lrs.xapi.digests import SET_BY_LRS, digest_and_text
from lrs.xapi.statements.base import Record, Terms, terms_of
from lrs.xapi.syntax import parse_timestamp
from lrs.xapi.validation import KnownValid, StatementError, Version, validate_statement

_KEEP = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4 = (4 << 76) | (0x8000 << 48)


class _IdSource(threading.local):
    """Random version 4 UUIDs, drawn from the OS 256 at a time, per thread.

    ``uuid.uuid4()`` makes one ``os.urandom`` call per id, and each call
    releases the interpreter lock: under concurrent batches every statement
    then queued for the lock again, which halved the throughput of a server
    with four threads. A pool per thread needs no lock of its own (a shared
    one gives the same queueing).
    """

    _SIZE = 16 * 256

    def __init__(self) -> None:
        self.pool = b""
        self.offset = 0

    def new(self) -> str:
        if self.offset >= len(self.pool):
            self.pool, self.offset = os.urandom(self._SIZE), 0
        value = int.from_bytes(self.pool[self.offset : self.offset + 16])
        self.offset += 16
        # The version (4) and variant (RFC 4122) bits, as uuid.UUID sets them.
        value = (value & _KEEP) | _VERSION_4
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_ids = _IdSource()


def new_statement_id() -> str:
    """A new random (version 4) UUID for a statement that came without an id."""
    return _ids.new()


@functools.lru_cache(maxsize=64)
def _iso_second(seconds: int) -> str:
    # isoformat is C, several times faster than strftime; drop its "+00:00".
    return from_us(seconds * 1_000_000).isoformat(timespec="seconds")[:-6]


def iso(us: int) -> str:
    """An xAPI timestamp: UTC, microseconds, 'Z'."""
    # A batch's statements share their second: format it once.
    seconds, micro = divmod(us, 1_000_000)
    return f"{_iso_second(seconds)}.{micro:06d}Z"


def _needs_arrays(context: Any) -> bool:
    if not isinstance(context, dict):
        return False
    activities = context.get("contextActivities") or {}
    return not all(isinstance(value, list) for value in activities.values())


def _arrays(context: Any) -> None:
    activities = context.get("contextActivities") if isinstance(context, dict) else None
    if activities:
        for key, value in activities.items():
            if not isinstance(value, list):
                activities[key] = [value]


def _with_arrays(statement: dict[str, Any]) -> dict[str, Any]:
    """``statement``, or a copy whose context activities are all arrays (Data 2.4.6.2)."""
    obj = statement["object"]
    sub_context = obj.get("context") if obj.get("objectType") == "SubStatement" else None
    if not (_needs_arrays(statement.get("context")) or _needs_arrays(sub_context)):
        return statement
    copied: dict[str, Any] = orjson.loads(orjson.dumps(statement))
    _arrays(copied.get("context"))
    if sub_context is not None:
        _arrays(copied["object"].get("context"))
    return copied


class Prepared(NamedTuple):
    """A valid statement ready to store, but for its stored time (see ``stamped``)."""

    id: str
    # The stored JSON from the authority on: ',"authority":…,"version":…,' and the
    # client's properties, keys sorted, then "}".
    rest: str
    # Whether the client sent a timestamp; when not, it is the stored time.
    timestamped: bool
    digest: str
    terms: Terms
    course: str = ""
    # When it happened, if the client said (its timestamp).
    time_us: int | None = None

    def stamped(self, stored_us: int) -> Record:
        """The record to store, stored at ``stored_us``.

        Stamping is kept apart so that a batch is stamped just before it is
        saved: a store then receives batches in the order of their stamps.
        """
        # Every value goes through the JSON encoder, none is spliced in as it
        # came: the stored text is JSON whatever a check upstream let through.
        stored = orjson.dumps(iso(stored_us)).decode()
        head = f'{{"id":{orjson.dumps(self.id).decode()},"stored":{stored}'
        if not self.timestamped:
            head += f',"timestamp":{stored}'
        time_us = stored_us if self.time_us is None else self.time_us
        return Record(
            self.id,
            head + self.rest,
            stored_us,
            self.digest,
            self.terms,
            course=self.course,
            time_us=time_us,
        )


#: The actors, verbs and activities of statements prepared in this process
#: found valid so far (see ``KnownValid``).
known_valid = KnownValid()


def prepare(
    statement: Any,
    *,
    version: Version,
    authority: dict[str, Any],
    path: str = "statement",
) -> Prepared:
    """Validate a statement parsed from JSON and build what will be stored of it.

    The stored statement is the one sent, with ``id`` (when absent),
    ``stored``, ``timestamp`` (when absent), ``authority`` and ``version``
    (when absent) set by the LRS and every ``contextActivities`` value an
    array.

    Raises:
        StatementError: the statement breaks a rule of ``version``.
    """
    validate_statement(statement, version, path, known_valid)
    statement_id = str(statement.get("id") or new_statement_id()).lower()
    stored_version = statement.get("version") or ("2.0.0" if version == Version.V2_0_0 else "1.0.0")
    try:
        statement_digest, text = digest_and_text(statement)
        normalized = _with_arrays(statement)
        if normalized is not statement:
            text = orjson.dumps(
                {key: value for key, value in normalized.items() if key not in SET_BY_LRS},
                option=orjson.OPT_SORT_KEYS,
            )
        authority_text = orjson.dumps(authority).decode()
    except orjson.JSONEncodeError:
        # orjson writes at most 254 levels of nesting: deeper extensions are
        # refused here rather than stored in a form that cannot be read back.
        raise StatementError(path, "is nested too deeply to store (at most 250 levels)") from None
    # The properties after "authority" and "version" are the client's: never empty
    # (actor, verb and object are required), so the text goes on with a comma.
    version_text = orjson.dumps(stored_version).decode()
    rest = f',"authority":{authority_text},"version":{version_text},{text[1:].decode()}'
    timestamp = statement.get("timestamp")
    return Prepared(
        statement_id,
        rest,
        timestamp is not None,
        statement_digest,
        terms_of(normalized, authority),
        course_of(normalized),
        None if timestamp is None else to_us(parse_timestamp(timestamp)),
    )
