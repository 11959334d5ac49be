"""From a statement as a client sent it to the record a store keeps.

The LRS sets ``id`` (when absent), ``stored``, ``authority``, ``version`` and
``timestamp`` (when absent), and returns every ``contextActivities`` value as
an array (xAPI-Data.md sections 2.4.1, 2.4.6.2, 2.4.8 to 2.4.10).
"""

import hashlib
import uuid
from typing import Any

import orjson

from lrs.clock import from_us
from lrs.xapi.statements.base import Record, terms_of
from lrs.xapi.validation import StatementError, Version, validate_statement

# Set by the LRS, so left out when two statements with one id are compared
# (section 2.3.1).
_SET_BY_LRS = ("id", "stored", "authority", "version")


def iso(us: int) -> str:
    """An xAPI timestamp: UTC, microseconds, 'Z'."""
    # isoformat is C, several times faster than strftime; drop its "+00:00".
    return from_us(us).isoformat(timespec="microseconds")[:-6] + "Z"


def digest(statement: dict[str, Any]) -> str:
    """What two statements with the same id must share to be the same statement."""
    compared = {key: value for key, value in statement.items() if key not in _SET_BY_LRS}
    return hashlib.sha256(orjson.dumps(compared, option=orjson.OPT_SORT_KEYS)).hexdigest()


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
    prepared["id"] = str(statement.get("id") or uuid.uuid4()).lower()
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
