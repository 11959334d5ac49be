"""Encoding of learner state as JSON text, the form every store keeps it in.

Storing JSON text rather than native documents is what lets any JSON value
round-trip exactly on every backend: MongoDB would otherwise reject or rewrite
keys containing ``.``, ``$`` or NUL inside nested objects. It also means a value
is validated, and copied, once, on write: what a caller later does to its own
objects never reaches the store.

A whole state is one JSON object (memory backend, history); the MongoDB backend
keeps one JSON text per field, so that it can update fields one by one.
"""

import hashlib
import math
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from lrs.exceptions import InvalidValue

# Refuse datetimes and dataclasses instead of silently turning them into
# strings or objects that would come back as a different type.
_DUMPS_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

EncodedFields = dict[str, str]
"""A block's state as field name -> JSON text of its value."""

#: The deepest a block's state may nest, the state object itself counting as
#: one level: what orjson writes (the Mongo backend keeps one text per field,
#: so each field is checked one level down, against the same limit).
MAX_DEPTH = 254


def _refuse(value: object) -> Any:
    raise InvalidValue(f"{type(value).__name__} is not a JSON value")


def _check_finite(value: object) -> None:
    # orjson writes NaN and infinities as null; JSON has no such numbers, so
    # accepting them would silently change the learner's data.
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue(f"{value!r} is not a JSON number")
    elif isinstance(value, dict):
        for item in value.values():
            _check_finite(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_finite(item)


def _dumps(value: object) -> bytes:
    try:
        data = orjson.dumps(value, default=_refuse, option=_DUMPS_OPTIONS)
    except orjson.JSONEncodeError as exc:
        if "Recursion" in str(exc):
            raise InvalidValue(f"nested more than {MAX_DEPTH} levels deep") from None
        raise InvalidValue(str(exc)) from None
    if b"null" in data:
        # Only values that produced a null can hide a NaN: skip the walk otherwise.
        _check_finite(value)
    return data


def to_json(value: object) -> bytes:
    """Encode a value as strict JSON: no datetimes, sets, NaN or nesting orjson cannot write.

    Raises:
        InvalidValue: ``value`` is not JSON (a ``TypeError``).
    """
    return _dumps(value)


def _check_mapping(block_id: str, state: object) -> Mapping[Any, Any]:
    if type(state) is dict:  # the usual case, without the slower ABC check
        return state
    if not isinstance(state, Mapping):
        raise InvalidValue(
            f"state of block {block_id!r} must be a mapping of field names to values, "
            f"not {type(state).__name__}"
        )
    return state


def _field_error(block_id: str, field: object, exc: TypeError) -> InvalidValue:
    if not isinstance(field, str):
        return InvalidValue(
            f"block {block_id!r}: field name {field!r} must be a string, not {type(field).__name__}"
        )
    return InvalidValue(
        f"block {block_id!r}: value of field {field!r} is not JSON-serialisable: {exc}"
    )


def encode_fields(block_id: str, state: object) -> EncodedFields:
    """Encode each field of one block's new state on its own.

    Args:
        block_id: the block's canonical id, named in error messages.
        state: a mapping of field name to JSON value.

    Raises:
        InvalidValue: (a ``TypeError``) ``state`` is not a mapping, a field name is not a string, or
            a value is not JSON (dicts with string keys, lists, strings, finite
            numbers within 64 bits, booleans, None); the message names the
            block and the field.
    """
    encoded: EncodedFields = {}
    for field, value in _check_mapping(block_id, state).items():
        try:
            if not isinstance(field, str):
                raise InvalidValue("field names are strings")
            # Inside a list, the value is as deep as it is inside the state:
            # a field is accepted only if the whole state could be written.
            encoded[field] = _dumps([value])[1:-1].decode()
        except TypeError as exc:
            raise _field_error(block_id, field, exc) from None
    return encoded


def encode_state(block_id: str, state: object) -> str:
    """Encode one block's whole state as one JSON object.

    Raises:
        InvalidValue: as ``encode_fields`` does, naming the block and the field.
    """
    mapping = _check_mapping(block_id, state)
    try:
        # orjson writes dicts (and their subclasses) natively, other mappings not.
        return _dumps(mapping if isinstance(mapping, dict) else dict(mapping)).decode()
    except TypeError as exc:
        encode_fields(block_id, mapping)  # raises, naming the culprit field
        raise InvalidValue(f"block {block_id!r}: state is not JSON-serialisable: {exc}") from None


def overlay(text: str, new_text: str) -> str:
    """Return the state ``text`` with the fields of the state ``new_text`` laid over it."""
    return orjson.dumps({**orjson.loads(text), **orjson.loads(new_text)}).decode()


def join_fields(fields: Mapping[str, str]) -> str:
    """Return the JSON object whose fields have the given JSON texts."""
    members = (f"{orjson.dumps(name).decode()}:{text}" for name, text in fields.items())
    return "{" + ",".join(members) + "}"


def decode_state(text: str, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Decode a stored state, keeping only ``fields`` when given."""
    state: dict[str, Any] = orjson.loads(text)
    if fields is None:
        return state
    return {field: state[field] for field in fields if field in state}


def decode_fields(
    encoded: Mapping[str, str], fields: Iterable[str] | None = None
) -> dict[str, Any]:
    """Decode a state kept one JSON text per field, keeping only ``fields`` when given."""
    loads = orjson.loads
    if fields is None:
        return {field: loads(text) for field, text in encoded.items()}
    return {field: loads(encoded[field]) for field in fields if field in encoded}


def state_json(state: Mapping[str, Any]) -> bytes:
    """A state as one JSON document, keys sorted: what the xAPI door serves, and what is hashed."""
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS)


def state_etag(state: Mapping[str, Any] | None) -> str | None:
    """The ETag of a block's state (``None`` for none), the same through both doors.

    The SHA-1 of ``state_json`` in lower-case hex: xAPI-Communication.md 3.1
    asks for the SHA-1 of the document's content, and the State resource
    serves a block as ``state_json``.
    """
    if state is None:
        return None
    return hashlib.sha1(state_json(state), usedforsecurity=False).hexdigest()


class BlockChange:
    """What one write does to one block: remove fields (``None``: all), then lay fields over it.

    The fields to lay over are one JSON object text, validated when the change
    is made (``encode_state``): a change reaches a store already checked. A
    change with fields to lay over is always a write (its time becomes the
    block's ``updated``); one that only removes is a write only if it removes
    something.
    """

    __slots__ = ("_fields", "remove", "text")

    def __init__(self, text: str | None, remove: frozenset[str] | None = frozenset()) -> None:
        """Lay the fields of the JSON object ``text`` over the block, after removing ``remove``."""
        self.text = text or None  # no fields: None
        self.remove = remove
        self._fields: EncodedFields | None = None

    @classmethod
    def setting(cls, block_id: str, state: object) -> "BlockChange":
        """Lay the fields of ``state`` over the block's (``set``; an xAPI POST).

        Raises:
            InvalidValue: as ``encode_state`` does.
        """
        text = encode_state(block_id, state)
        return cls(text if state else None)

    @classmethod
    def replacing(cls, block_id: str, state: object) -> "BlockChange":
        """Make ``state`` the block's whole state, in one write (an empty one deletes it).

        Raises:
            InvalidValue: as ``encode_state`` does.
        """
        text = encode_state(block_id, state)
        return cls(text if state else None, None)

    @classmethod
    def deleting(cls, fields: Iterable[str] | None = None) -> "BlockChange":
        """Delete ``fields`` of the block, or all of them (the block)."""
        return cls(None, None if fields is None else frozenset(fields))

    def merged_with(self, later: "BlockChange") -> "BlockChange":
        """The overlay of this change, then ``later``'s (two key objects of one block)."""
        if not self.text or not later.text:
            return BlockChange(self.text or later.text)
        return BlockChange(overlay(self.text, later.text))

    @property
    def overlay(self) -> EncodedFields:
        """The fields to lay over, one JSON text each (for a store that keeps them so)."""
        if self._fields is None:
            values = orjson.loads(self.text) if self.text else {}
            self._fields = {name: orjson.dumps(value).decode() for name, value in values.items()}
        return self._fields

    def apply(self, fields: EncodedFields) -> EncodedFields:
        """The fields a block has after this change."""
        if self.remove is None:
            return dict(self.overlay)
        if self.remove:
            fields = {name: text for name, text in fields.items() if name not in self.remove}
        return {**fields, **self.overlay} if self.text else fields

    def apply_to_text(self, text: str | None) -> str | None:
        """The state a block has after this change, as one JSON text (``None``: no fields)."""
        remove = self.remove
        if remove is None or text is None:
            return self.text
        if remove:
            state = orjson.loads(text)
            for name in remove:
                state.pop(name, None)
            text = orjson.dumps(state).decode() if state else None
        if self.text is None:
            return text
        return self.text if text is None else overlay(text, self.text)

    def changes(self, fields: Mapping[str, Any] | None) -> bool:
        """Whether applying this change to a block with ``fields`` is a write."""
        if self.text:
            return True
        if not fields:
            return False
        return self.remove is None or not self.remove.isdisjoint(fields)
