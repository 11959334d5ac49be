"""From a statement as a client sent it to the record a store keeps.

The LRS sets ``id`` (when absent), ``stored``, ``authority``, ``version`` and
``timestamp`` (when absent), and returns every ``contextActivities`` value as
an array (xAPI-Data.md sections 2.4.1, 2.4.6.2, 2.4.8 to 2.4.10).
"""

import functools
import hashlib
import os
import re
import threading
from typing import Any

import orjson

from lrs.clock import from_us
from lrs.xapi.statements.base import Record, terms_of
from lrs.xapi.validation import StatementError, Version, validate_statement

# Set by the LRS, so left out when two statements with one id are compared
# (section 2.3.1).
_SET_BY_LRS = ("id", "stored", "authority", "version")


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


def digest(statement: dict[str, Any]) -> str:
    """What two statements with the same id must share to be the same statement.

    Data 2.3.1: the properties the LRS sets are left out, and durations are
    compared to 0.01 s (2.0.0 requires it; applied under 1.0.3 too).
    """
    compared = {key: value for key, value in statement.items() if key not in _SET_BY_LRS}
    _with_centiseconds(compared)
    obj = compared.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        compared["object"] = dict(obj)
        _with_centiseconds(compared["object"])
    return hashlib.sha256(orjson.dumps(compared, option=orjson.OPT_SORT_KEYS)).hexdigest()


# The seconds of an ISO 8601 duration, with a fraction.
_SECONDS = re.compile(r"(?<=[T\dHM])(\d+)[.,](\d+)S$")


def centiseconds(duration: str) -> str:
    """A duration with its seconds cut to hundredths: ``PT1.234S`` and ``PT1.23S`` compare equal."""

    def cut(match: re.Match[str]) -> str:
        fraction = match.group(2)[:2].rstrip("0")
        return f"{match.group(1)}.{fraction}S" if fraction else f"{match.group(1)}S"

    return _SECONDS.sub(cut, duration)


def _with_centiseconds(statement: dict[str, Any]) -> None:
    result = statement.get("result")
    if isinstance(result, dict) and isinstance(result.get("duration"), str):
        statement["result"] = {**result, "duration": centiseconds(result["duration"])}


def _arrays(context: Any) -> None:
    activities = context.get("contextActivities") if isinstance(context, dict) else None
    if activities:
        for key, value in activities.items():
            if not isinstance(value, list):
                activities[key] = [value]


def prepare(
    statement: Any,
    *,
    version: Version,
    authority: dict[str, Any],
    stored_us: int,
    path: str = "statement",
) -> Record:
    """Validate a statement and build the record to store.

    Raises:
        StatementError: the statement breaks a rule of ``version``.
    """
    validate_statement(statement, version, path)
    prepared = dict(statement)
    prepared["id"] = str(statement.get("id") or new_statement_id()).lower()
    stored = iso(stored_us)
    prepared["stored"] = stored
    prepared.setdefault("timestamp", stored)
    prepared["authority"] = authority
    prepared.setdefault("version", "2.0.0" if version == Version.V2_0_0 else "1.0.0")
    if "context" in prepared:
        prepared["context"] = orjson.loads(orjson.dumps(prepared["context"]))
        _arrays(prepared["context"])
    if prepared["object"].get("objectType") == "SubStatement" and "context" in prepared["object"]:
        prepared["object"] = orjson.loads(orjson.dumps(prepared["object"]))
        _arrays(prepared["object"]["context"])
    try:
        text = orjson.dumps(prepared).decode()
        statement_digest = digest(statement)
    except orjson.JSONEncodeError:
        # orjson writes at most 254 levels of nesting: deeper extensions are
        # refused here rather than stored in a form that cannot be read back.
        raise StatementError(path, "is nested too deeply to store (at most 250 levels)") from None
    return Record(prepared["id"], text, stored_us, statement_digest, terms_of(prepared))
