"""How fast a forwarding backlog drains, and what a target costs ingest (issue 30).

Run:  .venv/bin/python benchmarks/bench_forwarding.py [--statements 100000]
      [--storage sqlite:////tmp/bench-forwarding.db]

A backlog of realistic statements (``realistic.py``, about 1.2 KB each) is
stored, then a target that acknowledges every request at once (an in-process
transport: no network, no server) is added from the start and the sender
drains the backlog; timed: statements per second, against the goal of
20,000/s. Then, in the same run, ingest of batches of 100 through the use
case every door calls (``store_batch``), with a target and without: there is
no outbox write, so the two should be within noise (the goal: at most 10%
slower with one).
"""

import argparse
import os
import platform
import statistics
import time

import httpx
from fresh import remove_sqlite_file
from realistic import statement as realistic

from lrs.testing import AUTHORITY
from lrs.usecases.forwarding import Sender, add_target
from lrs.usecases.ingest import store_batch
from lrs.usecases.storage import open_storage
from lrs.xapi.prepare import prepare
from lrs.xapi.validation import Version

BATCH = 100


def ingest(storage, first, count):
    """Store ``count`` realistic statements from number ``first``, a batch at a time; seconds."""
    started = time.perf_counter()
    for start in range(first, first + count, BATCH):
        batch = [realistic(n) for n in range(start, min(start + BATCH, first + count))]
        prepared = [prepare(item, version=Version.V1_0_3, authority=AUTHORITY) for item in batch]
        store_batch(storage, prepared, batch, [f"[{i}]" for i in range(len(batch))])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--storage", default="sqlite:////tmp/bench-forwarding.db")
    parser.add_argument("--ingest", type=int, default=5_000, help="statements per ingest round")
    args = parser.parse_args()
    remove_sqlite_file(args.storage)
    storage = open_storage(args.storage)
    acknowledged = httpx.MockTransport(lambda request: httpx.Response(200, json=[]))
    try:
        seeded = ingest(storage, 0, args.statements)
        target = add_target(storage, "http://target.test/xAPI", "k:s", from_start=True, check=False)
        sender = Sender(storage, transport=acknowledged)
        started = time.perf_counter()
        drained = 0
        while moved := sender.run_once(target.id):
            drained += moved
        drain_seconds = time.perf_counter() - started
        assert drained == args.statements, drained
        # Ingest with the target (and its sender idle) and without, alternating.
        with_target, without = [], []
        first = args.statements
        for round_ in range(4):
            if round_ % 2:
                storage.forwarding.remove(target.id)
                without.append(args.ingest / ingest(storage, first, args.ingest))
                target = add_target(storage, "http://t.test/xAPI", "k:s", check=False)
            else:
                with_target.append(args.ingest / ingest(storage, first, args.ingest))
            first += args.ingest
    finally:
        storage.close()
        remove_sqlite_file(args.storage)
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    print(
        f"command: `python benchmarks/bench_forwarding.py --statements {args.statements} "
        f"--storage {args.storage}` (seeding took {seeded:.0f} s)\n"
    )
    print("| figure | value |\n|---|---:|")
    rate = drained / drain_seconds
    print(f"| backlog drained to an acknowledging target | {rate:,.0f} statements/s |")
    with_rate, without_rate = statistics.median(with_target), statistics.median(without)
    ratio = with_rate / without_rate
    print(f"| ingest without a target (batches of {BATCH}) | {without_rate:,.0f} statements/s |")
    print(f"| ingest with one target | {with_rate:,.0f} statements/s ({ratio:.0%}) |")


if __name__ == "__main__":
    main()
