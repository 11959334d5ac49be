"""How fast progress is derived again from the statements stored (issue 15).

Run:  .venv/bin/python benchmarks/bench_progress.py [--statements 100000]
      [--storage sqlite:////tmp/bench-progress.db]

Stores realistic statements (benchmarks/realistic.py: 5,000 learners, 30,000
activities, cmi5-like sessions) without progress, then times
``lrs.progress.rebuild.rebuild``, which reads every statement back, derives
its event, and derives every (learner, content)'s sessions and summary.
Reports statements per second, best of three. The goal of issue 15: at least
20,000 statements/s on the memory store.
"""

import argparse
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import realistic

from lrs.clock import default_clock
from lrs.progress.rebuild import rebuild
from lrs.serve import tune_garbage_collector
from lrs.storage import open_storage
from lrs.xapi.prepare import prepare
from lrs.xapi.validation import Version

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.bench", "name": "bench"}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--storage", default="memory://")
    args = parser.parse_args()
    tune_garbage_collector()  # as the server does
    if args.storage.startswith("sqlite:"):
        path = Path(args.storage.split("://", 1)[1][1:].split("?")[0])
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
    storage = open_storage(args.storage)
    for start in range(0, args.statements, 1000):
        batch = [realistic.statement(n) for n in range(start, min(start + 1000, args.statements))]
        first_us = default_clock.now_us(len(batch))
        storage.statements.save(
            [
                prepare(
                    orjson.loads(orjson.dumps(item)), version=Version.V1_0_3, authority=AUTHORITY
                ).stamped(first_us + index)
                for index, item in enumerate(batch)
            ]
        )
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        keys = rebuild(storage.progress, storage.statements)
        best = min(best, time.perf_counter() - started)
    rate = args.statements / best
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/bench_progress.py --statements {args.statements} "
        f"--storage {args.storage}`\n"
    )
    print(
        f"rebuild of {args.statements:,} realistic statements ({keys:,} learner x content "
        f"summaries): {best:.2f} s, **{rate:,.0f} statements/s** (best of 3)"
    )
    storage.close()


if __name__ == "__main__":
    main()
