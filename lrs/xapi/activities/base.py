"""Canonical activity definitions, merged from the statements the LRS stores.

The Activities resource (xAPI-Communication.md section 2.5) returns the full
Activity Object the LRS holds for an id. Each stored statement contributes
the definitions it carries (its object, its context activities, and the same
in a SubStatement). They merge property by property: a later statement's
property replaces an earlier one, except that language maps (``name``,
``description``) and ``extensions`` merge key by key, so two statements that
describe an activity in two languages give both (xAPI-Data.md 2.4.4.1).
"""

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

import orjson

from lrs.closeable import Closeable
from lrs.strict_json import right_sized
from lrs.xapi.syntax import context_activities

_MERGED_BY_KEY = ("name", "description", "extensions")


def _activities(statement: dict[str, Any]) -> list[dict[str, Any]]:
    obj = statement.get("object", {})
    object_type = obj.get("objectType", "Activity")
    found = [obj] if object_type == "Activity" else []
    found += context_activities(statement.get("context"))
    if object_type == "SubStatement":
        found += _activities(obj)
    return found


def definitions_in(statements: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The activity definitions a batch of (valid) statements carries, merged per id."""
    found: dict[str, dict[str, Any]] = {}
    for statement in statements:
        for activity in _activities(statement):
            definition = activity.get("definition")
            if definition:
                identifier = activity["id"]
                before = found.get(identifier)
                # Most repeats of an activity in a batch repeat its definition too.
                if before != definition:
                    found[identifier] = merge_definitions(before, definition)
    return found


def merge_definitions(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``old`` updated with ``new``: language maps and extensions merge key by key."""
    if not old:
        return dict(new)
    result = {**old, **new}
    for key in _MERGED_BY_KEY:
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            result[key] = {**old[key], **new[key]}
    return result


def merged_text(stored: str | bytes | None, definition: dict[str, Any]) -> bytes | None:
    """The JSON text of ``definition`` merged into a stored one; ``None`` if it changes nothing.

    Args:
        stored: the JSON text of the definition a store holds, if any.
        definition: the incoming definition.

    The text is ``right_sized``: a store in memory keeps it.
    """
    text = orjson.dumps(definition)
    if stored is None:
        return right_sized(text)  # a new activity: its definition as it came
    if text == (stored.encode() if isinstance(stored, str) else stored):
        return None  # the definition held already, word for word: the usual case
    old = orjson.loads(stored)
    new = merge_definitions(old, definition)
    return None if new == old else right_sized(orjson.dumps(new))


def activity_object(activity_id: str, definition: dict[str, Any] | None) -> dict[str, Any]:
    """The Activity Object for an id: its definition if the LRS holds one."""
    found: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        found["definition"] = definition
    return found


class ActivityStore(Closeable, ABC):
    """Keeps the canonical definition of each activity."""

    @abstractmethod
    def get(self, activity_id: str) -> dict[str, Any] | None:
        """Return the activity's canonical definition, or ``None``."""

    def get_many(self, activity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The canonical definitions of those of these activities that have one, by id.

        One read for a report's hundreds of activities, where ``get`` would
        make one for each.
        """
        wanted = sorted(set(activity_ids))
        return self._get_many(wanted) if wanted else {}

    @abstractmethod
    def _get_many(self, activity_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored definitions of these activities (distinct ids), by id."""

    def merge(self, definitions: dict[str, dict[str, Any]]) -> None:
        """Merge definitions into the canonical ones (see ``merge_definitions``)."""
        if definitions:
            self._merge([(key, definitions[key]) for key in sorted(definitions)])

    @abstractmethod
    def _merge(self, definitions: list[tuple[str, dict[str, Any]]]) -> None:
        """Merge each definition into the stored one (``merged_text``), each merge whole."""
