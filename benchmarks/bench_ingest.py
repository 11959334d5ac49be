"""What storing a statement costs in-process, stage by stage, and the memory it then holds.

Run:  .venv/bin/python benchmarks/bench_ingest.py [--statements 20000] [--memory 1000000]

Each stage runs over the same 100-statement JSON bodies of realistic statements
(benchmarks/realistic.py) as the server runs it for a POST, without HTTP: the
bare parse (``json.loads``, what benchmarks/bare_app.py does), the LRS's parse,
validation, preparation of the records (validation included), the memory
store's save, the merge of activity definitions, the progress events derived
and kept (lrs.progress), and all of them together, without and with progress.
The figures are microseconds per statement, best of five, and each stage's
ratio to the bare parse measured in the same run. The garbage collector is
set up as the server sets it up (lrs.serve.tune_garbage_collector).

With ``--memory N``, it then stores N realistic statements in a memory://
store (statements and activities, as the server does) and reports the resident
memory the process gained, per statement.
"""

import argparse
import contextlib
import gc
import json
import os
import platform
import time
from datetime import UTC, datetime

import orjson
import realistic
from fresh import remove_sqlite_file

from lrs import strict_json
from lrs.clock import default_clock
from lrs.progress import MemoryProgressStore, event_of
from lrs.serve import tune_garbage_collector
from lrs.usecases.ingest import store_batch
from lrs.usecases.storage import open_storage
from lrs.xapi.activities import MemoryActivityStore, definitions_in
from lrs.xapi.prepare import prepare
from lrs.xapi.statements.memory import MemoryStatementStore
from lrs.xapi.validation import Version, validate_statement

AUTHORITY = {
    "objectType": "Agent",
    "name": "bench",
    "account": {"homePage": "http://lrs.example.org", "name": "bench"},
}
V1 = Version.V1_0_3


def bodies_of(count: int, first: int = 0) -> list[bytes]:
    """JSON bodies of 100 realistic statements each, ``count`` statements in all."""
    return [
        orjson.dumps([realistic.statement(first + start + n) for n in range(100)])
        for start in range(0, count, 100)
    ]


def store_realistic(storage, first: int, wide: bool = False) -> None:
    """Store 100 realistic statements from number ``first`` as a POST does (``store_batch``)."""
    batch = [realistic.statement(n, wide=wide) for n in range(first, first + 100)]
    batch = orjson.loads(orjson.dumps(batch))  # as parsed from a body
    prepared = [prepare(item, version=V1, authority=AUTHORITY) for item in batch]
    store_batch(storage, prepared, batch, [f"statements[{n}]" for n in range(100)])


def ingest(bodies, statements, activities, progress=None, transaction=contextlib.nullcontext):
    """What the server does with each body of a POST: parse, prepare, save, merge.

    With ``progress``, the progress records too (lrs.progress), as the server
    does; each body's writes in one ``transaction()`` (SQLite's).
    """
    for body in bodies:
        batch = strict_json.loads(body, "statements")
        drafts = [event_of(item, "", 0) for item in batch] if progress is not None else []
        with transaction():
            first_us = default_clock.now_us(len(batch))
            records = [
                prepare(item, version=V1, authority=AUTHORITY).stamped(first_us + index)
                for index, item in enumerate(batch)
            ]
            new = set(statements.save(records))
            activities.merge(definitions_in(batch))
            if progress is not None:
                events = [
                    draft._replace(statement_id=record.id)
                    for draft, record in zip(drafts, records, strict=True)
                    if draft is not None and record.id in new
                ]
                progress.record(events)


def ingest_into(url, bodies, keep_progress):
    """``ingest`` into a fresh store at ``url`` (a file is removed first)."""
    remove_sqlite_file(url)
    with open_storage(url) as storage:
        ingest(
            bodies,
            storage.statements,
            storage.activities,
            storage.progress if keep_progress else None,
            storage.transaction,
        )


def statements_of(parsed):
    return [item for batch in parsed for item in batch]


def best_us(stage, count, repeat=5):
    """The best of ``repeat`` runs of ``stage()``, in microseconds per statement."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        stage()
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


def resident_bytes():
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=20_000, help="per timed stage")
    parser.add_argument("--memory", type=int, default=0, help="statements for the memory figure")
    parser.add_argument(
        "--storage",
        help="also time the last two stages into this store, e.g. sqlite:////tmp/bench-ingest.db "
        "(a fresh one each time: its file is removed)",
    )
    args = parser.parse_args()
    tune_garbage_collector()  # as the server does
    count = args.statements - args.statements % 100
    bodies = bodies_of(count)
    parsed = [orjson.loads(body) for body in bodies]

    def prepared():
        for batch in parsed:
            for item in batch:
                prepare(item, version=V1, authority=AUTHORITY)

    def saved():
        store = MemoryStatementStore()
        for records in all_records:
            store.save(records)

    def merged():
        store = MemoryActivityStore()
        for batch in parsed:
            store.merge(definitions_in(batch))

    def events_derived():
        for batch, records in zip(parsed, all_records, strict=True):
            for item, record in zip(batch, records, strict=True):
                event_of(item, record.id, record.stored_us)

    def progress_recorded():
        store = MemoryProgressStore()
        for events in all_events:
            store.record(events)

    def everything():
        ingest(bodies, MemoryStatementStore(), MemoryActivityStore())

    def with_progress():
        ingest(bodies, MemoryStatementStore(), MemoryActivityStore(), MemoryProgressStore())

    all_records = []
    for batch in parsed:
        first_us = default_clock.now_us(len(batch))
        all_records.append(
            [
                prepare(item, version=V1, authority=AUTHORITY).stamped(first_us + index)
                for index, item in enumerate(batch)
            ]
        )

    all_events = [
        [
            event
            for item, record in zip(batch, records, strict=True)
            if (event := event_of(item, record.id, record.stored_us)) is not None
        ]
        for batch, records in zip(parsed, all_records, strict=True)
    ]

    def each(function, items):
        # Results are dropped, as a request drops its parsed body.
        for item in items:
            function(item)

    stages = [
        ("bare parse (json.loads)", lambda: each(json.loads, bodies)),
        ("parse (strict_json.loads)", lambda: each(strict_json.loads, bodies)),
        ("validate", lambda: each(lambda s: validate_statement(s, V1), statements_of(parsed))),
        ("prepare (validation included)", prepared),
        ("memory store save", saved),
        ("activity definitions merge", merged),
        ("progress: events derived", events_derived),
        ("progress: records kept (memory)", progress_recorded),
        ("all of it, as for a POST", everything),
        ("all of it, with progress kept (issue 15)", with_progress),
    ]
    if args.storage:
        stages += [
            (f"all of it, into {args.storage}", lambda: ingest_into(args.storage, bodies, False)),
            (
                f"all of it, into {args.storage}, with progress kept",
                lambda: ingest_into(args.storage, bodies, True),
            ),
        ]
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/bench_ingest.py --statements {count} --memory {args.memory}"
        + (f" --storage {args.storage}`" if args.storage else "`")
    )
    print()
    print("| stage | µs per statement | ratio to the bare parse |")
    print("|---|---:|---:|")
    bare = None
    for name, stage in stages:
        took = best_us(stage, count)
        bare = bare or took
        print(f"| {name} | {took:.1f} | {took / bare:.2f} |", flush=True)
    if args.memory:
        del all_records, parsed, bodies
        gc.collect()
        statements, activities = MemoryStatementStore(), MemoryActivityStore()
        before = resident_bytes()
        for start in range(0, args.memory, 10_000):
            ingest(bodies_of(min(10_000, args.memory - start), start), statements, activities)
        gc.collect()
        grown = resident_bytes() - before
        print()
        print(
            f"resident memory for {statements.count():,} realistic statements: "
            f"{grown / 2**20:,.0f} MiB, {grown / statements.count():,.0f} bytes per statement"
        )


if __name__ == "__main__":
    main()
