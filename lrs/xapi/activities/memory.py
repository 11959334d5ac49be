"""Canonical activity definitions in this process's memory."""

import threading
from typing import Any

import orjson

from lrs.xapi.activities.base import ActivityStore, merged_text


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

    def _get_many(self, activity_ids: list[str]) -> dict[str, dict[str, Any]]:
        found = {activity_id: self._definitions.get(activity_id) for activity_id in activity_ids}
        return {key: orjson.loads(text) for key, text in found.items() if text is not None}

    def _merge(self, definitions: list[tuple[str, dict[str, Any]]]) -> None:
        with self._lock:
            for activity_id, definition in definitions:
                new = merged_text(self._definitions.get(activity_id), definition)
                if new is not None:
                    self._definitions[activity_id] = new
