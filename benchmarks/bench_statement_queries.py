"""Filtered statement queries as the store grows.

Run:  .venv/bin/python benchmarks/bench_statement_queries.py [--sizes 10000 100000 1000000]
      [--storage sqlite:////tmp/bench-queries.db]

Fills a statement store (memory://, or the store of ``--storage``: a
sqlite:/// file is removed first) with statements from 1,000 learners, 200
activities and 10 verbs, prepared as the server prepares them, and times a
page of 100 for several filters at each size. A flat row means the query
costs the same whatever the store holds; the ratios divide by the time at the
smallest size whose page is full (a sparse filter finds fewer than 100
statements in a small store), measured in the same run.
"""

import argparse
import platform
import sys
import time
from datetime import UTC, datetime

from fresh import remove_sqlite_file

from lrs.clock import default_clock
from lrs.usecases.storage import open_storage
from lrs.xapi.prepare import prepare
from lrs.xapi.statements.base import StatementQuery
from lrs.xapi.validation import Version

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.bench", "name": "bench"}}
VERBS = [f"http://example.org/verbs/v{n}" for n in range(10)]


def statement(n):
    return {
        "actor": {"mbox": f"mailto:learner{n % 1000}@example.org"},
        "verb": {"id": VERBS[n % 10]},
        "object": {"id": f"http://example.org/activities/a{n % 200}"},
        "context": {"registration": f"00000000-0000-4000-8000-{n % 5000:012d}"},
    }


def fill(store, start, stop):
    batch = []
    for n in range(start, stop):
        record = prepare(statement(n), version=Version.V1_0_3, authority=AUTHORITY).stamped(
            default_clock.now_us()
        )
        batch.append(record)
        if len(batch) == 1000:
            store.save(batch)
            batch = []
    if batch:
        store.save(batch)


def per_query_ms(store, query, repeat=200):
    """Milliseconds per query (best of 5), and the statements a query finds."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat // 5):
            found = store.query(query)
        best = min(best, (time.perf_counter() - started) / (repeat // 5))
    assert found, query
    return best * 1000, len(found)


QUERIES = {
    "no filter": StatementQuery(limit=100),
    "verb (1 in 10)": StatementQuery(verb=VERBS[3], limit=100),
    "agent (1 in 1,000)": StatementQuery(agent="mbox:mailto:learner7@example.org", limit=100),
    "activity (1 in 200)": StatementQuery(activity="http://example.org/activities/a42", limit=100),
    "agent + verb": StatementQuery(
        agent="mbox:mailto:learner7@example.org", verb=VERBS[7], limit=100
    ),
    "registration (1 in 5,000)": StatementQuery(
        registration="00000000-0000-4000-8000-000000000042", limit=100
    ),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--storage", default="memory://")
    args = parser.parse_args()
    remove_sqlite_file(args.storage)
    storage = open_storage(args.storage)
    store = storage.statements
    timings = {}
    stored = 0
    for size in sorted(args.sizes):
        print(f"filling to {size:,}...", file=sys.stderr)
        fill(store, stored, size)
        stored = size
        timings[size] = {name: per_query_ms(store, query) for name, query in QUERIES.items()}
    sizes = sorted(timings)
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}  ")
    command = (
        f"python benchmarks/bench_statement_queries.py --sizes {' '.join(map(str, sizes))} "
        f"--storage {args.storage}"
    )
    print(f"command: `{command}`\n")
    print(
        "ms per page of 100 (best of 5); in brackets, the ratio to the smallest store whose "
        "page is full (a page of fewer statements, marked with their number, costs less)\n"
    )
    print("| filter | " + " | ".join(f"{size:,} statements" for size in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for name, query in QUERIES.items():
        full = [size for size in sizes if timings[size][name][1] == query.limit]
        base = timings[full[0]][name][0] if full else None
        cells = []
        for size in sizes:
            took, found = timings[size][name]
            cell = f"{took:.3f}"
            if found < query.limit:
                cell += f" ({found} found)"
            elif base is not None:
                cell += f" ({took / base:.2f}x)"
            cells.append(cell)
        print(f"| {name} | " + " | ".join(cells) + " |")
    storage.close()


if __name__ == "__main__":
    main()
