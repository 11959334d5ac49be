"""What ingest costs as a SQLite store grows: `lrs import statements`, 100,000 at a time.

Run:  .venv/bin/python benchmarks/bench_growth.py [--total 1000000] [--chunk 100000]
      [--mix narrow]

First ``--chunk`` realistic statements (benchmarks/realistic.py) are imported
into an empty file: the baseline. Then, into a second file, chunk after
chunk up to ``--total``, each by the `lrs` command as an operator runs it
(NDJSON files made beforehand, so that making them is not timed). After each
chunk: the import's rate, the file's bytes per statement (and where they go,
by table, from SQLite's ``dbstat``, at the end), and the time of the first
page of 100 of a filtered query by agent, activity, verb and registration
(best of 5, in-process), beside the same queries after the first chunk.

Goals (issue 31): the rate at the end within 1.3x of the rate into an empty
file; at most 2,200 bytes per statement of about 1,100 bytes of JSON;
filtered first pages flat.
"""

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import realistic

from lrs.usecases.storage import open_storage
from lrs.xapi.agents import agent_key
from lrs.xapi.statements.base import StatementQuery

LRS = str(Path(sys.executable).with_name("lrs"))


def write_chunk(path: Path, first: int, count: int, wide: bool) -> None:
    with path.open("w") as out:
        for n in range(first, first + count):
            out.write(json.dumps(realistic.statement(n, wide=wide)) + "\n")


def fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-writer"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def imported(source: Path, database: Path) -> float:
    """Seconds `lrs import statements` took to import ``source`` into ``database``."""
    started = time.perf_counter()
    subprocess.run(
        [LRS, "import", "statements", str(source), "--storage", f"sqlite:///{database}", "--quiet"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def query_ms(database: Path, sample: dict) -> dict[str, float]:
    """The best of 5 times, in ms, of the first page of 100 of each filter, in-process."""
    filters = {
        "agent": {"agent": agent_key(sample["actor"])},
        "activity": {"activity": sample["object"]["id"]},
        "verb": {"verb": sample["verb"]["id"]},
        "registration": {"registration": sample["context"]["registration"]},
    }
    times = {}
    with open_storage(f"sqlite:///{database}") as storage:
        for name, given in filters.items():
            query = StatementQuery(limit=100, **given)
            best = float("inf")
            for _ in range(5):
                started = time.perf_counter()
                storage.statements.query(query)
                best = min(best, time.perf_counter() - started)
            times[name] = best * 1000
    return times


def by_table(database: Path, stored: int) -> list[tuple[str, float]]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        ).fetchall()
    return [(name, size / stored) for name, size in rows if size / stored >= 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--mix", choices=["narrow", "wide"], default="narrow")
    parser.add_argument("--data", default="/tmp/bench-growth")
    args = parser.parse_args()
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    wide = args.mix == "wide"
    chunks = args.total // args.chunk
    print(f"writing {chunks + 1} files of {args.chunk:,} statements...", file=sys.stderr)
    files = []
    for index in range(chunks + 1):
        path = data / f"chunk-{index}.ndjson"
        write_chunk(path, 10**8 * (index + 1), args.chunk, wide)
        files.append(path)
    empty = data / "empty.db"
    fresh(empty)
    baseline = args.chunk / imported(files[-1], empty)
    print(f"into an empty file: {baseline:,.0f} statements/s", file=sys.stderr)
    grown = data / "grown.db"
    fresh(grown)
    rows = []
    first_queries = None
    sample = json.loads(files[0].open().readline())
    for index in range(chunks):
        seconds = imported(files[index], grown)
        stored = (index + 1) * args.chunk
        size = grown.stat().st_size
        queries = query_ms(grown, sample)
        first_queries = first_queries or queries
        rows.append((stored, args.chunk / seconds, size / stored, queries))
        print(f"{stored:,}: {args.chunk / seconds:,.0f}/s", file=sys.stderr)
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/bench_growth.py --total {args.total} --chunk {args.chunk} "
        f"--mix {args.mix}`\n"
    )
    print(f"into an empty file: **{baseline:,.0f} statements/s**\n")
    print(
        "| stored | statements/s | empty / this | file bytes per statement "
        "| first page ms: agent | activity | verb | registration |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for stored, rate, per_statement, queries in rows:
        cells = " | ".join(f"{queries[name]:.1f}" for name in queries)
        print(
            f"| {stored:,} | {rate:,.0f} | {baseline / rate:.2f}x | {per_statement:,.0f} "
            f"| {cells} |"
        )
    last = rows[-1]
    print()
    print(
        f"- at {last[0]:,} stored: {last[1]:,.0f} statements/s, "
        f"**{baseline / last[1]:.2f}x** slower than into an empty file (goal: at most 1.3x)"
    )
    print(f"- **{last[2]:,.0f} bytes per statement** (goal: at most 2,200); by table:")
    for name, size in by_table(grown, last[0]):
        print(f"  - {name}: {size:,.0f}")
    slowest = max(last[3][name] / first_queries[name] for name in last[3])
    print(f"- filtered first pages: at most {slowest:.2f}x their time at {rows[0][0]:,} stored")


if __name__ == "__main__":
    main()
