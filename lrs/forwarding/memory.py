"""Forwarding targets in this process's memory."""

import threading
from dataclasses import replace

from lrs.forwarding.base import DeadLetter, ForwardingStore, Target


class MemoryForwardingStore(ForwardingStore):
    """Targets and dead letters in dicts; thread-safe, one process only."""

    def __init__(self) -> None:
        """No target yet."""
        self._lock = threading.Lock()
        self._targets: dict[str, Target] = {}
        self._letters: dict[tuple[str, str], DeadLetter] = {}

    def _insert(self, target: Target) -> None:
        with self._lock:
            self._targets[target.id] = target

    def _read(self, target_id: str) -> Target | None:
        with self._lock:
            return self._targets.get(target_id)

    def _list(self) -> list[Target]:
        with self._lock:
            return list(self._targets.values())

    def _write(self, target: Target, revision: int) -> bool:
        with self._lock:
            held = self._targets.get(target.id)
            if held is None or held.revision != revision:
                return False
            self._targets[target.id] = target
            return True

    def _delete(self, target_id: str) -> None:
        with self._lock:
            self._targets.pop(target_id, None)

    def _add_dead(self, letters: list[DeadLetter]) -> None:
        with self._lock:
            for letter in letters:
                self._letters[(letter.target, letter.statement_id)] = letter

    def _dead(self, target_id: str) -> list[DeadLetter]:
        with self._lock:
            return [letter for (target, _), letter in self._letters.items() if target == target_id]

    def _remove_dead(self, target_id: str, statement_ids: list[str] | None) -> int:
        with self._lock:
            gone = [
                key
                for key in self._letters
                if key[0] == target_id and (statement_ids is None or key[1] in statement_ids)
            ]
            for key in gone:
                del self._letters[key]
            return len(gone)

    def _clear_answers(self, statement_ids: list[str]) -> int:
        wanted = set(statement_ids)
        cleared = 0
        with self._lock:
            for key, letter in self._letters.items():
                if letter.statement_id in wanted and letter.answer:
                    self._letters[key] = replace(letter, answer="")
                    cleared += 1
        return cleared
