"""Throughput of the learner-state client: get_many, set_many and get_history.

Run:  .venv/bin/python benchmarks/bench_state_client.py   (or `make bench`)

For 1, 10, 100 and 1000 blocks it measures calls per second on the memory,
SQLite (a file in a temporary folder) and mongomock backends, and in the same
run on a minimal dict-based reference client (no validation, shallow copies):
the floor any Python client pays. The
ratio memory / reference is the figure to watch, and for SQLite its ratio to
memory; absolute times depend on the machine. It also counts the store round
trips of each call on Mongo, and the SQL statements of each call on SQLite.

get_history(N) reads one block whose history holds N entries.
"""

import argparse
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mongomock

from lrs.clients import MemoryUserStateClient, MongoUserStateClient, Scope, UserState
from lrs.clients.sqlite import SqliteUserStateClient
from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS

SIZES = (1, 10, 100, 1000)
STATE = {"attempts": 2, "correct_map": {"q1": {"correctness": "correct"}}, "done": True}


class DictReferenceClient:
    """The least a client can do: a dict of dicts, with copies on the way out."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], tuple[dict[str, Any], datetime]] = {}
        self.history: dict[tuple[str, str, str], list[tuple[dict[str, Any], datetime]]] = {}

    def get_many(
        self, username: str, block_keys: Iterable[Any], scope: Scope = Scope.user_state
    ) -> Iterator[UserState]:
        for key in block_keys:
            found = self.records.get((username, scope, str(key)))
            if found is not None:
                yield UserState(username, key, dict(found[0]), found[1], scope)

    def set_many(
        self,
        username: str,
        block_keys_to_state: Mapping[Any, Mapping[str, Any]],
        scope: Scope = Scope.user_state,
    ) -> None:
        now = datetime.now(UTC)
        for key, state in block_keys_to_state.items():
            identity = (username, scope, str(key))
            old = self.records.get(identity)
            new = {**old[0], **state} if old else dict(state)
            self.records[identity] = (new, now)
            self.history.setdefault(identity, []).append((new, now))

    def get_history(
        self, username: str, block_key: Any, scope: Scope = Scope.user_state
    ) -> Iterator[UserState]:
        for state, when in reversed(self.history[(username, scope, str(block_key))]):
            yield UserState(username, block_key, dict(state), when, scope)


class Counting:
    """Counts the method calls made on a collection: one call, one round trip."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return attribute(*args, **kwargs)

        return counted


def fmt(calls_per_second: float) -> str:
    return f"{calls_per_second:,.0f}" if calls_per_second >= 100 else f"{calls_per_second:.3g}"


def block(n: int) -> str:
    return f"block-v1:Org+Bench+2026+type@problem+block@p{n}"


def rate(call: Callable[[], Any], budget: float) -> float:
    """Calls per second: the best of 5 rounds, each at least budget/5 seconds."""
    results = []
    for _ in range(5):
        count, start = 0, time.perf_counter()
        while True:
            call()
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= budget / 5:
                break
        results.append(count / elapsed)
    return max(results)


def measure(client: Any, size: int, budget: float) -> dict[str, float]:
    keys = [block(n) for n in range(size)]
    mapping = dict.fromkeys(keys, STATE)
    client.set_many("bench", mapping)
    history_key = f"history-{size}"
    for n in range(size):
        client.set_many("bench", {history_key: {"n": n}})
    # get_history before set_many, whose loop grows the history it would read.
    return {
        "get_many": rate(lambda: list(client.get_many("bench", keys)), budget),
        "get_history": rate(lambda: list(client.get_history("bench", history_key)), budget),
        "set_many": rate(lambda: client.set_many("bench", mapping), budget),
    }


def counted(client: Any, size: int, count: Callable[[], int]) -> dict[str, int]:
    """What ``count()`` grows by during each call on ``size`` blocks (writes first)."""
    keys = [block(n) for n in range(size)]
    counts = {}
    for name, call in [
        ("set_many", lambda: client.set_many("bench", dict.fromkeys(keys, STATE))),
        ("get_many", lambda: list(client.get_many("bench", keys))),
        ("get_history", lambda: list(client.get_history("bench", keys[0]))),
    ]:
        before = count()
        call()
        counts[name] = count() - before
    return counts


def round_trips(size: int) -> dict[str, int]:
    client = MongoUserStateClient(mongomock.MongoClient(tz_aware=True), "bench")
    state, history = Counting(client._collection), Counting(client.history._collection)
    client._collection, client.history._collection = state, history  # type: ignore[assignment]
    return counted(client, size, lambda: state.calls + history.calls)


def sqlite_client(folder: str, size: int) -> SqliteUserStateClient:
    database = SqliteDatabase(Path(folder) / f"bench-{size}.db", MIGRATIONS)
    return SqliteUserStateClient(database, owns=True)


def sql_statements(folder: str, size: int) -> dict[str, int]:
    """The SQL statements each call runs on SQLite (each one step of the engine)."""
    client = sqlite_client(folder, -size)
    run: list[str] = []
    client._database.connection().set_trace_callback(run.append)
    counts = counted(
        client, size, lambda: sum(1 for sql in run if sql not in ("BEGIN IMMEDIATE", "COMMIT"))
    )
    client.close()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per measurement")
    parser.add_argument(
        "--mongo-budget", type=float, default=0.5, help="seconds per mongomock measurement"
    )
    args = parser.parse_args()

    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.platform()}  ")
    print(f"command: `{' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}`\n")
    print("calls/s (best of 5 rounds); ratio = memory / dict reference\n")
    print(
        "| op | blocks | reference | memory | ratio | sqlite | sqlite / memory | sql statements "
        "| mongomock | mongo round trips |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios = {}
    sqlite_ratios = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in SIZES:
            reference = measure(DictReferenceClient(), size, args.budget)
            memory = measure(MemoryUserStateClient(), size, args.budget)
            on_sqlite = sqlite_client(folder, size)
            sqlite = measure(on_sqlite, size, args.budget)
            on_sqlite.close()
            statements = sql_statements(folder, size)
            mongo = measure(
                MongoUserStateClient(mongomock.MongoClient(tz_aware=True), "bench"),
                size,
                args.mongo_budget,
            )
            trips = round_trips(size)
            for op in ("get_many", "set_many", "get_history"):
                ratio = reference[op] / memory[op]
                ratios[(op, size)] = ratio
                sqlite_ratios[(op, size)] = memory[op] / sqlite[op]
                print(
                    f"| {op} | {size} | {fmt(reference[op])} | {fmt(memory[op])} | "
                    f"{ratio:.2f}x | {fmt(sqlite[op])} | {memory[op] / sqlite[op]:.2f}x | "
                    f"{statements[op]} | {fmt(mongo[op])} | {trips[op]} |"
                )
    print()
    goal = ratios[("get_many", 1000)]
    verdict = "meets" if goal <= 3 else "misses"
    print(
        f"memory get_many of 1000 blocks takes {goal:.2f}x the reference's time "
        f"({verdict} the 3x goal); median ratio over all rows "
        f"{statistics.median(ratios.values()):.2f}x  "
    )
    on_sqlite_goal = sqlite_ratios[("get_many", 1000)]
    verdict = "meets" if on_sqlite_goal <= 5 else "misses"
    print(
        f"sqlite get_many of 1000 blocks takes {on_sqlite_goal:.2f}x the memory client's time "
        f"({verdict} the 5x goal of issue 14)"
    )


if __name__ == "__main__":
    main()
