"""Canonical activity definitions in this process's memory."""

import threading
from typing import Any

import orjson

from lrs.xapi.activities.base import ActivityStore, merge_definitions


class MemoryActivityStore(ActivityStore):
    """Definitions in a dict, as JSON text (so readers get their own copies)."""

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._definitions: dict[str, bytes] = {}

    def get(self, activity_id: str) -> dict[str, Any] | None:
        """Return the activity's canonical definition, or ``None``."""
        text = self._definitions.get(activity_id)
        return None if text is None else orjson.loads(text)

    def merge(self, definitions: dict[str, dict[str, Any]]) -> None:
        """Merge definitions into the canonical ones."""
        with self._lock:
            for activity_id, definition in definitions.items():
                text = self._definitions.get(activity_id)
                if text is not None and orjson.dumps(definition) == text:
                    # The definition the LRS holds already, word for word: the usual case.
                    continue
                old = None if text is None else orjson.loads(text)
                new = merge_definitions(old, definition)
                if new != old:
                    self._definitions[activity_id] = orjson.dumps(new)
