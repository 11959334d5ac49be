"""How long erasing a learner takes (issue 16).

Run:  .venv/bin/python benchmarks/bench_erasure.py [--statements 1000000] [--share 0.1]
      [--storage sqlite:////tmp/bench-erasure.db]

Stores realistic statements (benchmarks/realistic.py), one in ten (``--share``)
by the learner to erase (an account agent of a user with an e-mail), with
their progress kept as the server keeps it; then times, in the same run:

- the baseline: reading every statement of the learner once, a page of
  1,000 at a time, through the statement query by agent;
- the erasure (``lrs.usecases.erasure.erase_learner``): every statement of the
  learner rewritten under a pseudonym and indexed again, their progress
  derived again, documents, state, credentials and user data handled.

The goal of issue 16: 100,000 statements of one learner among 1,000,000
erased "in seconds, not minutes" on the memory store.
"""

import argparse
import os
import platform
import time
from datetime import UTC, datetime

import realistic
from fresh import remove_sqlite_file

from lrs.clock import default_clock
from lrs.progress import event_of
from lrs.serve import tune_garbage_collector
from lrs.usecases.erasure import erase_learner
from lrs.usecases.storage import open_storage
from lrs.xapi.agents import AccountAgents
from lrs.xapi.prepare import prepare
from lrs.xapi.statements.base import StatementQuery
from lrs.xapi.validation import Version

HOMEPAGE = "https://lms.example.org"
AUTHORITY = {"objectType": "Agent", "account": {"homePage": HOMEPAGE, "name": "bench"}}
LEARNER = "erased-learner"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.1, help="the learner's share of them")
    parser.add_argument("--storage", default="memory://")
    args = parser.parse_args()
    tune_garbage_collector()
    remove_sqlite_file(args.storage)
    every = max(1, round(1 / args.share))
    accounts = AccountAgents(HOMEPAGE)
    storage = open_storage(args.storage)
    storage.enrollments.create_user(
        LEARNER, {"email": "erased@example.org", "full_name": "Erased Learner"}, actor="bench"
    )
    started = time.perf_counter()
    for start in range(0, args.statements, 1000):
        batch = []
        for n in range(start, min(start + 1000, args.statements)):
            statement = realistic.statement(n)
            if n % every == 0:
                statement["actor"] = {"objectType": "Agent", **accounts.agent(LEARNER)}
            batch.append(statement)
        first_us = default_clock.now_us(len(batch))
        records = [
            prepare(item, version=Version.V1_0_3, authority=AUTHORITY).stamped(first_us + index)
            for index, item in enumerate(batch)
        ]
        with storage.transaction():
            storage.statements.save(records)
            events = [
                event_of(item, record.id, 0) for item, record in zip(batch, records, strict=True)
            ]
            storage.progress.record([event for event in events if event is not None])
    stored = time.perf_counter() - started
    key = accounts.key(LEARNER)

    def read_all() -> int:
        count, after = 0, None
        while True:
            page = storage.statements.query(
                StatementQuery(agent=key, ascending=True, limit=1000, after=after)
            )
            count += len(page)
            if len(page) < 1000:
                return count
            after = (page[-1].stored_us, page[-1].id)

    started = time.perf_counter()
    theirs = read_all()
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    erasure = erase_learner(storage, accounts, LEARNER, reason="benchmark", credential="bench")
    took = time.perf_counter() - started
    storage.close()
    remove_sqlite_file(args.storage)
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/bench_erasure.py --statements {args.statements} "
        f"--share {args.share} --storage {args.storage}`  "
    )
    print(f"{args.statements:,} statements stored in {stored:.0f} s; the learner's: {theirs:,}\n")
    print("| step | seconds | ratio to the baseline |")
    print("|---|---:|---:|")
    print(f"| baseline: read the learner's statements once | {baseline:.2f} | 1.0 |")
    print(f"| erase the learner | {took:.2f} | {took / baseline:.1f} |")
    print()
    print("counts: " + ", ".join(f"{name} {count:,}" for name, count in erasure.counts.items()))


if __name__ == "__main__":
    main()
