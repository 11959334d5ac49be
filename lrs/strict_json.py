"""Parsing JSON without changing any value: integers beyond 64 bits are refused.

orjson reads an integer outside ``[-2**63, 2**64 - 1]`` as a float, silently
rounding it (``18446744073709551616`` comes back as ``1.8446744073709552e+19``).
An LRS must store what it was sent, so such an integer is refused instead, with
the path of the value in the message.

Such an integer has at least 19 digits in a row. Looking for a run of 19
digits is a scan in C over the text (``bytes.translate`` then ``in``); only a
text that has one, in a number or inside a string, is parsed a second time by
the standard library, which keeps integers exactly, to find out.
"""

import json
from typing import Any

import orjson

from lrs.exceptions import InvalidInput

_LOWEST, _HIGHEST = -(2**63), 2**64 - 1
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19


class JSONError(InvalidInput):
    """Not JSON, or JSON holding a value that cannot be kept exactly (also a ``ValueError``)."""


class InexactNumber(JSONError):
    """The JSON holds an integer that would not be kept exactly (beyond 64 bits)."""


def loads(data: bytes | str, name: str = "") -> Any:
    """Parse JSON text, refusing integers that would not come back as sent.

    Args:
        data: the text.
        name: what the text is, the start of the paths in messages.

    Raises:
        JSONError: the text is not JSON (the message says where).
        InexactNumber: it holds an integer beyond 64 bits (the message names
            its path).
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise JSONError(str(exc)) from None
    raw = data.encode() if isinstance(data, str) else data
    if _LONG_RUN in raw.translate(_DIGITS_TO_ZERO):
        _check_integers(raw, name)
    return value


def _check_integers(raw: bytes, name: str) -> None:
    try:
        found = _integer_beyond_64_bits(json.loads(raw), name)
    except RecursionError:
        raise JSONError("the JSON is nested too deeply") from None
    if found is not None:
        path, number = found
        raise InexactNumber(
            f"{path or 'the value'}: the integer {number} is beyond 64 bits and would not be "
            "kept exactly; send it as a string"
        )


def _integer_beyond_64_bits(value: Any, path: str) -> tuple[str, int] | None:
    if type(value) is int and not _LOWEST <= value <= _HIGHEST:
        return path, value
    if isinstance(value, dict):
        items: Any = ((f"{path}.{key}" if path else str(key), item) for key, item in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    else:
        return None
    for item_path, item in items:
        found = _integer_beyond_64_bits(item, item_path)
        if found is not None:
            return found
    return None


def dumps(value: Any, option: int = 0) -> bytes:
    """Write JSON text, however deep: orjson, or the standard library past its depth limit.

    orjson writes at most 254 levels; a stored value near that depth, wrapped
    in a request or response body, may pass it.

    Args:
        value: what to write.
        option: orjson's options.
    """
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def right_sized(text: bytes) -> bytes:
    """A copy of ``text`` in an allocation of its own size, for JSON text kept in memory.

    orjson (3.12 and later) returns bytes that keep the whole buffer they were
    written into: 4 KB for the shortest text, and the next power of two past
    that. Kept by the thousand (a cache of texts found valid, the memory
    store's activity definitions), each then holds ten times its size.
    """
    return bytes(memoryview(text))
