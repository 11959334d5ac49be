"""Group commit on SQLite: concurrent single statements with their writes grouped, and each alone.

Run:  .venv/bin/python benchmarks/bench_group_commit.py [--requests 3000] [--threads 4]

In one process, as in one server worker: ``--threads`` threads (the server's
threads per worker by default) each parse, prepare and store single realistic
statements (wide mix: nearly every one names a new learner and registration)
the way a POST does (``prepare``, ``store_batch``), into a SQLite file that
already holds ``--stored`` statements. Two ways take turns, three times:
writes grouped (``lrs.usecases.group_commit``, what the server does), and
each request written alone (the group commit bypassed: one transaction per
request, as before it). Reported: statements stored a second, the process's
CPU time per statement, and how many requests each grouped write carried.
HTTP, Flask and authentication are left out (bench_ingest_http.py has them):
the figures are what group commit changes.
"""

import argparse
import collections
import json
import os
import platform
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import realistic
from bench_ingest import AUTHORITY, store_realistic

from lrs.serve import DEFAULT_THREADS, tune_garbage_collector
from lrs.usecases import ingest
from lrs.usecases.ingest import store_batch
from lrs.usecases.storage import open_storage
from lrs.xapi.prepare import prepare
from lrs.xapi.validation import Version


def run(storage, bodies: list[bytes], threads: int) -> tuple[float, float]:
    """(statements a second, CPU µs a statement) of storing ``bodies`` from ``threads`` threads."""

    def post(part: list[bytes]) -> None:
        for body in part:
            batch = [orjson.loads(body)]
            prepared = [prepare(batch[0], version=Version.V1_0_3, authority=AUTHORITY)]
            store_batch(storage, prepared, batch, ["statement"])

    parts = [bodies[at::threads] for at in range(threads)]
    workers = [threading.Thread(target=post, args=(part,)) for part in parts]
    cpu, wall = time.process_time(), time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if storage.statements.count() < len(bodies):
        raise SystemExit("statements went missing")
    return len(bodies) / wall, cpu / len(bodies) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="statements per turn")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--stored", type=int, default=20_000)
    parser.add_argument("--file", default="/tmp/bench-group-commit.db")
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm", "-writer"):
        Path(f"{args.file}{suffix}").unlink(missing_ok=True)
    storage = open_storage(f"sqlite:///{args.file}")
    for first in range(0, args.stored, 100):
        store_realistic(storage, first, wide=True)
    tune_garbage_collector()
    sizes: collections.Counter[int] = collections.Counter()
    grouped_write = ingest._write_group

    def counted(storage, group):
        if storage.writes.write is grouping:
            sizes[len(group)] += 1
        return grouped_write(storage, group)

    def alone(work, write_group):
        # As before group commit: each request its own transaction.
        (outcome,) = write_group([work])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    grouping = storage.writes.write
    ingest._write_group = counted
    next_statement = 10**8
    results: dict[str, list[tuple[float, float]]] = {"grouped": [], "each alone": []}
    for _ in range(3):
        for way in results:
            storage.writes.write = grouping if way == "grouped" else alone
            bodies = [
                orjson.dumps(realistic.statement(n, wide=True))
                for n in range(next_statement, next_statement + args.requests)
            ]
            next_statement += args.requests
            print(f"{way}...", file=sys.stderr)
            results[way].append(run(storage, bodies, args.threads))
    storage.close()
    report(args, results, sizes)


def report(args, results, sizes) -> None:
    command = (
        f"python benchmarks/bench_group_commit.py --requests {args.requests} "
        f"--threads {args.threads} --stored {args.stored}"
    )
    print(f"command: `{command}`")
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_version()}, "
        f"{os.cpu_count()} cores"
    )
    print()
    print("| writes | statements/s | CPU µs a statement |")
    print("|---|---|---|")
    for way, figures in results.items():
        rates = "; ".join(f"{rate:,.0f}" for rate, _ in figures)
        cpus = "; ".join(f"{cpu:,.0f}" for _, cpu in figures)
        print(f"| {way} | {rates} | {cpus} |")
    total = sum(sizes.values())
    carried = ", ".join(
        f"{size}: {count * size / sum(s * c for s, c in sizes.items()):.0%}"
        for size, count in sorted(sizes.items())
    )
    print()
    print(
        f"Requests by how many requests their write carried ({total:,} grouped writes): {carried}"
    )
    print(json.dumps({way: figures for way, figures in results.items()}), file=sys.stderr)


if __name__ == "__main__":
    main()
