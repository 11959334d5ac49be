"""What two statements with one id must share to be the same statement (xAPI-Data.md 2.3.1).

The properties the LRS sets are left out, key order does not count, and
durations are compared to 0.01 s (2.0.0 requires it; applied under 1.0.3 too).
Used where a statement is prepared (``lrs.xapi.prepare``) and where a stored
one is rewritten (``StatementStore.erase_agents``).
"""

import hashlib
import re
from typing import Any

import orjson

#: Set by the LRS, so left out when two statements with one id are compared.
SET_BY_LRS = frozenset({"id", "stored", "authority", "version"})


def digest(statement: dict[str, Any]) -> str:
    """What two statements with the same id must share to be the same statement.

    Data 2.3.1: the properties the LRS sets are left out, and durations are
    compared to 0.01 s (2.0.0 requires it; applied under 1.0.3 too).
    """
    return digest_and_text(statement)[0]


def digest_and_text(statement: dict[str, Any]) -> tuple[str, bytes]:
    """The digest of ``statement``, and the text it is taken of.

    The text is the statement's JSON without the properties the LRS sets, keys
    sorted (so that key order does not count). When no duration needs cutting
    to hundredths, the usual case, that text is also the client's part of the
    stored statement: one serialization serves both.
    """
    compared = statement
    if not statement.keys().isdisjoint(SET_BY_LRS):
        compared = {key: value for key, value in statement.items() if key not in SET_BY_LRS}
    text = orjson.dumps(compared, option=orjson.OPT_SORT_KEYS)
    cut = _with_centiseconds(compared)
    obj = compared.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        cut_object = _with_centiseconds(obj)
        if cut_object is not obj:
            cut = {**cut, "object": cut_object}
    compared_text = text if cut is compared else orjson.dumps(cut, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(compared_text).hexdigest(), text


# The seconds of an ISO 8601 duration, with a fraction.
_SECONDS = re.compile(r"(?<=[T\dHM])(\d+)[.,](\d+)S\Z")


def centiseconds(duration: str) -> str:
    """A duration with its seconds cut to hundredths: ``PT1.234S`` and ``PT1.23S`` compare equal."""

    def cut(match: re.Match[str]) -> str:
        fraction = match.group(2)[:2].rstrip("0")
        return f"{match.group(1)}.{fraction}S" if fraction else f"{match.group(1)}S"

    return _SECONDS.sub(cut, duration)


def _with_centiseconds(statement: dict[str, Any]) -> dict[str, Any]:
    """``statement`` itself, or a copy with its result's duration cut to hundredths."""
    result = statement.get("result")
    if not isinstance(result, dict):
        return statement
    duration = result.get("duration")
    if not isinstance(duration, str):
        return statement
    cut = centiseconds(duration)
    if cut == duration:
        return statement
    return {**statement, "result": {**result, "duration": cut}}
