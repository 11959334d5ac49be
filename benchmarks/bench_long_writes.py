"""How long a purge and an erasure hold SQLite's write lock at a time (issue 26).

Run:  .venv/bin/python benchmarks/bench_long_writes.py [--statements 20000]
      [--storage sqlite:////tmp/bench-writes.db]

Stores realistic statements (``realistic.py``) stored 60 days ago, one in
five by one learner (an account agent of a user with an e-mail), with their
progress. Then, in the same run, the longest time this process held the write
lock (``SqliteDatabase.longest_write_us``) during:

- the baseline: POSTs of 100 realistic statements stored as a POST stores
  them (``store_batch``), 20 of them;
- the erasure of the learner with ``--delete-statements`` (their statements
  rewritten, then deleted, progress derived again);
- a purge of everything older than 30 days.

Another process's writer waits at most about that long per write (the busy
timeout is 5 s); between writes the purge and the erasure leave the lock free
(``yield_to_writers``), which adds to their total time.
"""

import argparse
import os
import platform
import time
from datetime import UTC, datetime, timedelta

import realistic
from fresh import remove_sqlite_file

from lrs.clock import to_us
from lrs.progress import event_of
from lrs.usecases.erasure import erase_learner
from lrs.usecases.ingest import store_batch
from lrs.usecases.purge import purge_statements
from lrs.usecases.storage import open_storage
from lrs.xapi.agents import AccountAgents
from lrs.xapi.prepare import prepare
from lrs.xapi.validation import Version

HOMEPAGE = "https://lms.example.org"
AUTHORITY = {"objectType": "Agent", "account": {"homePage": HOMEPAGE, "name": "bench"}}
LEARNER = "erased-learner"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=20_000)
    parser.add_argument("--storage", default="sqlite:////tmp/bench-writes.db")
    args = parser.parse_args()
    remove_sqlite_file(args.storage)
    accounts = AccountAgents(HOMEPAGE)
    storage = open_storage(args.storage)
    database = storage.statements._database  # type: ignore[attr-defined]
    storage.enrollments.create_user(LEARNER, {"email": "erased@example.org"}, actor="bench")
    old_us = to_us(datetime.now(UTC) - timedelta(days=60))
    for start in range(0, args.statements, 1000):
        batch = []
        for n in range(start, min(start + 1000, args.statements)):
            statement = realistic.statement(n)
            if n % 5 == 0:
                statement["actor"] = {"objectType": "Agent", **accounts.agent(LEARNER)}
            batch.append(statement)
        records = [
            prepare(item, version=Version.V1_0_3, authority=AUTHORITY).stamped(old_us + n)
            for n, item in zip(range(start, start + len(batch)), batch, strict=True)
        ]
        with storage.transaction():
            storage.statements.save(records)
            events = [event_of(item, r.id, 0) for item, r in zip(batch, records, strict=True)]
            storage.progress.record([event for event in events if event is not None])

    database.longest_write_us = 0
    for start in range(args.statements, args.statements + 2000, 100):
        batch = [realistic.statement(n) for n in range(start, start + 100)]
        prepared = [prepare(item, version=Version.V1_0_3, authority=AUTHORITY) for item in batch]
        store_batch(storage, prepared, batch, ["statement"] * len(batch))
    post = database.longest_write_us

    database.longest_write_us = 0
    started = time.perf_counter()
    erased = erase_learner(
        storage, accounts, LEARNER, reason="bench", credential="bench", delete_statements=True
    )
    erasure_s, erasure_write = time.perf_counter() - started, database.longest_write_us

    database.longest_write_us = 0
    started = time.perf_counter()
    purged = purge_statements(storage, 30, credential="bench")
    purge_s, purge_write = time.perf_counter() - started, database.longest_write_us
    storage.close()
    remove_sqlite_file(args.storage)

    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/bench_long_writes.py --statements {args.statements} "
        f"--storage {args.storage}`\n"
    )
    print("| work | statements | total seconds | longest write (s) | ratio to a POST's |")
    print("|---|---:|---:|---:|---:|")
    print(f"| baseline: POSTs of 100 realistic statements | 2,000 | | {post / 1e6:.3f} | 100% |")
    print(
        f"| erasure, statements deleted | {erased.counts['statements_deleted']:,} | "
        f"{erasure_s:.1f} | {erasure_write / 1e6:.3f} | {erasure_write / post:.0%} |"
    )
    print(
        f"| purge, older than 30 days | {purged.counts['statements']:,} | {purge_s:.1f} | "
        f"{purge_write / 1e6:.3f} | {purge_write / post:.0%} |"
    )


if __name__ == "__main__":
    main()
