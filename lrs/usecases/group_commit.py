"""Group commit: writes that arrive while another is being written are written together next.

A thread that wants its work written hands it in. If no write is under way,
it writes at once, its own work alone. Otherwise it waits; when the write
under way ends, one of the waiting threads (the leader) takes every work
handed in meanwhile, up to a size, and writes them in one go, then hands each
thread its own outcome. Under no load nothing waits; under load a transaction
and its commit serve several requests, where each would otherwise wait its
turn for the write lock anyway, and what a write costs once (its commit,
its reads of what is stored, the pages it touches) is paid once for all.
"""

import threading
from collections.abc import Callable, Sized
from dataclasses import dataclass
from typing import Generic, TypeVar

W = TypeVar("W", bound=Sized)
R = TypeVar("R")


@dataclass(eq=False)
class _Handed(Generic[W, R]):
    work: W
    finished: bool = False
    result: R | None = None
    error: BaseException | None = None


class GroupCommit(Generic[W, R]):
    """Works handed in by several threads, written a group at a time, in the order handed in."""

    def __init__(self, most: int = 1000) -> None:
        """Bound a group to ``most`` by the works' sizes (``len``).

        The bound is a transaction's length, and so the wait of the next
        group. A work larger than it is written alone.
        """
        self.most = most
        self._written = threading.Condition(threading.Lock())
        self._waiting: list[_Handed[W, R]] = []
        self._writing = False

    def write(self, work: W, write_group: Callable[[list[W]], list[R | Exception]]) -> R:
        """Have ``work`` written, maybe with others; return its result or raise its error.

        ``write_group`` writes a group and returns one outcome per work, in
        order: a result, or the exception that work must raise. Every thread
        passes the same function (in effect: the leader's is called).
        """
        handed: _Handed[W, R] = _Handed(work)
        with self._written:
            self._waiting.append(handed)
        # A leader's group may not hold its own work (the group before it
        # was full): it then leads again, or another leader takes it.
        while True:
            with self._written:
                while self._writing and not handed.finished:
                    self._written.wait()
                if handed.finished:
                    break
                self._writing = True
                group = self._taken()
            try:
                self._write(group, write_group)
            except BaseException:
                # Stopped (an interrupt): its work, if still waiting, is not written.
                with self._written:
                    if handed in self._waiting:
                        self._waiting.remove(handed)
                raise
            finally:
                with self._written:
                    self._writing = False
                    self._written.notify_all()
        if handed.error is not None:
            raise handed.error
        return handed.result  # type: ignore[return-value]

    def _taken(self) -> list[_Handed[W, R]]:
        """The works waiting, first come first, up to ``most`` (at least one)."""
        group: list[_Handed[W, R]] = []
        size = 0
        for handed in self._waiting:
            if group and size + len(handed.work) > self.most:
                break
            group.append(handed)
            size += len(handed.work)
        del self._waiting[: len(group)]
        return group

    @staticmethod
    def _write(
        group: list[_Handed[W, R]], write_group: Callable[[list[W]], list[R | Exception]]
    ) -> None:
        try:
            outcomes = write_group([handed.work for handed in group])
            if len(outcomes) != len(group):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(group)} works")
        except BaseException as error:
            # Not one outcome per work: each is told what stopped them all.
            for handed in group:
                handed.error, handed.finished = error, True
            if not isinstance(error, Exception):
                raise
            return
        for handed, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, Exception):
                handed.error = outcome
            else:
                handed.result = outcome
            handed.finished = True
