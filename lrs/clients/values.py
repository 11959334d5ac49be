"""Encoding of learner-state values: each field's value is stored as JSON text.

Storing JSON text rather than native documents is what lets any JSON value
round-trip exactly on every backend: MongoDB would otherwise reject or rewrite
keys containing ``.``, ``$`` or NUL inside nested objects, and integers beyond
64 bits. It also means a value is validated, and copied, once, on write.
"""

import math
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

# Refuse datetimes and dataclasses instead of silently turning them into
# strings or objects that would come back as a different type.
_DUMPS_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

EncodedState = dict[str, str]
"""A block's state as stored: field name -> JSON text of its value."""


def _refuse(value: object) -> Any:
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _check_finite(value: object) -> None:
    # orjson writes NaN and infinities as null; JSON has no such numbers, so
    # accepting them would silently change the learner's data.
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{value!r} is not a JSON number")
    elif isinstance(value, dict):
        for item in value.values():
            _check_finite(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_finite(item)


def encode_value(value: object) -> str:
    """Return the JSON text of ``value``.

    Raises:
        TypeError: ``value`` is not made of JSON values (dicts with string keys,
            lists, strings, finite numbers within 64 bits, booleans, None).
    """
    try:
        data = orjson.dumps(value, default=_refuse, option=_DUMPS_OPTIONS)
    except orjson.JSONEncodeError as exc:
        raise TypeError(str(exc)) from None
    if b"null" in data:
        # Only values that produced a null can hide a NaN: skip the walk otherwise.
        _check_finite(value)
    return data.decode()


def encode_state(block_id: str, state: object) -> EncodedState:
    """Encode every field of one block's new state.

    Args:
        block_id: the block's canonical id, named in error messages.
        state: a mapping of field name to JSON value.

    Raises:
        TypeError: ``state`` is not a mapping, a field name is not a string, or
            a value is not JSON-serialisable; the message names block and field.
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"state of block {block_id!r} must be a mapping of field names to values, "
            f"not {type(state).__name__}"
        )
    encoded: EncodedState = {}
    for field, value in state.items():
        if not isinstance(field, str):
            raise TypeError(
                f"block {block_id!r}: field name {field!r} must be a string, "
                f"not {type(field).__name__}"
            )
        try:
            encoded[field] = encode_value(value)
        except TypeError as exc:
            raise TypeError(
                f"block {block_id!r}: value of field {field!r} is not JSON-serialisable: {exc}"
            ) from None
    return encoded


def decode_state(encoded: Mapping[str, str], fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Decode a stored state, keeping only ``fields`` when given."""
    loads = orjson.loads
    if fields is None:
        return {field: loads(text) for field, text in encoded.items()}
    return {field: loads(encoded[field]) for field in fields if field in encoded}
