"""How fast statements are exported and imported (issue 17).

Run:  .venv/bin/python benchmarks/bench_transfer.py [--statements 1000000]
      [--csv 200000] [--imported 30000] [--storage memory://]

Realistic statements (benchmarks/realistic.py, about 1.2 KB each, every field
present) are stored, then, in the same run:

- export: the baseline is reading every statement from the store a page of
  1,000 at a time (what any export must do); then ``lrs.exports`` writes them
  as NDJSON, then the first ``--csv`` of them as CSV (to /dev/null: the
  LRS's cost, not the disk's). Resident memory is sampled after every chunk
  written; its growth over the export is reported.
- import: the baseline is the HTTP batch ingest rate of a server on the same
  kind of store (gunicorn, as `lrs serve` runs it, POSTs of 100 statements
  from 8 connections, as benchmarks/bench_http.py does); then
  ``lrs import statements`` of the same statements, from an NDJSON file,
  into a fresh store of that kind.

Goals of issue 17: export of 1,000,000 statements as NDJSON at 50,000/s or
more from the memory store with under 100 MB of resident memory growth;
import at 60% or more of the HTTP batch ingest rate of the same store.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime

import orjson
import realistic
from bench_http import AUTH, JSON, ROOT, load, start
from fresh import remove_sqlite_file

from lrs.clock import default_clock
from lrs.imports.sources import read_statements
from lrs.imports.statements import LocalTarget, import_statements
from lrs.serve import MEMORY_THREADS, tune_garbage_collector
from lrs.usecases.export_kinds import Filters
from lrs.usecases.exports import start_export
from lrs.usecases.storage import open_storage
from lrs.xapi.agents import AccountAgents
from lrs.xapi.prepare import prepare
from lrs.xapi.statements.base import StatementQuery
from lrs.xapi.validation import Version

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.example.org", "name": "b"}}


def resident_bytes():
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def fill(storage, count):
    """Store ``count`` realistic statements, 1,000 a batch, as a POST would prepare them."""
    for start_at in range(0, count, 1000):
        first_us = default_clock.now_us(1000)
        records = [
            prepare(realistic.statement(n), version=Version.V1_0_3, authority=AUTHORITY).stamped(
                first_us + n - start_at
            )
            for n in range(start_at, min(count, start_at + 1000))
        ]
        storage.statements.save(records)
        if start_at % 100_000 == 0:
            print(f"  stored {start_at:,}", file=sys.stderr, flush=True)


def read_all(storage):
    """Every statement, a page at a time: the least any export does."""
    query = StatementQuery(ascending=True, limit=1000, with_voided=True)
    count = 0
    while True:
        records = storage.statements.query(query)
        count += len(records)
        if len(records) < 1000:
            return count
        query = StatementQuery(
            ascending=True,
            limit=1000,
            with_voided=True,
            after=(records[-1].stored_us, records[-1].id),
        )


def exported(storage, export_format, limit_us=None):
    """Export every statement (up to a stored time) to /dev/null; (rows, seconds, growth)."""
    accounts = AccountAgents("http://lrs.example.org")
    before = resident_bytes()
    peak = before
    started = time.perf_counter()
    export = start_export(
        storage, accounts, "statements", export_format, Filters(until_us=limit_us), credential="b"
    )
    with open(os.devnull, "wb") as sink:
        for chunk in export.chunks:
            sink.write(chunk)
            peak = max(peak, resident_bytes())
    return export.counted.rows, time.perf_counter() - started, peak - before


def http_batch_rate(storage_url, path, concurrency=8):
    """Statements/s of POSTs of 100 to a server on ``storage_url`` (bench_http's way)."""
    remove_sqlite_file(storage_url)
    env = {
        "LRS_STORAGE_URL": storage_url,
        "LRS_ADMIN_KEY": "bench-admin-key",
        "LRS_ADMIN_SECRET": "bench-admin-secret-0123456789abcdefghij",
    }
    threads = MEMORY_THREADS if storage_url.startswith("memory") else 4
    process, port = start("wsgi:app", env, ROOT, "lrs.serve.BufferingWorker", threads)
    try:
        with open(path, "rb") as source:
            statements = [orjson.loads(line) for line in source]
        bodies = [orjson.dumps(statements[n : n + 100]) for n in range(0, len(statements), 100)]
        headers = {**AUTH, **JSON, "X-Experience-API-Version": "1.0.3"}
        load(port, "POST", "/xAPI/statements", bodies[:20], headers, 20, 4)  # warm-up
        # Each body once more: the first 20 were stored by the warm-up.
        rate, _, _ = load(
            port, "POST", "/xAPI/statements", bodies[20:], headers, len(bodies) - 20, concurrency
        )
        return rate * 100
    finally:
        process.terminate()
        process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1_000_000, help="stored, exported")
    parser.add_argument("--csv", type=int, default=200_000, help="of them exported as CSV")
    parser.add_argument("--imported", type=int, default=30_000, help="imported, and POSTed")
    parser.add_argument("--storage", default="memory://", help="the store (a file is removed)")
    args = parser.parse_args()
    tune_garbage_collector()
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/bench_transfer.py --statements {args.statements} "
        f"--csv {args.csv} --imported {args.imported} --storage {args.storage}`\n"
    )
    print("| stage | statements | seconds | statements/s | ratio to baseline | memory growth |")
    print("|---|---:|---:|---:|---:|---:|")
    remove_sqlite_file(args.storage)
    with open_storage(args.storage) as storage:
        print(f"storing {args.statements:,} realistic statements...", file=sys.stderr)
        fill(storage, args.statements)
        started = time.perf_counter()
        count = read_all(storage)
        base = time.perf_counter() - started
        print(
            f"| export baseline: read every statement | {count:,} | {base:.1f} | "
            f"{count / base:,.0f} | 100% | |"
        )
        rows, seconds, growth = exported(storage, "ndjson")
        print(
            f"| export NDJSON | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} | "
            f"{base / seconds:.0%} | {growth / 2**20:.0f} MB |",
            flush=True,
        )
        first = StatementQuery(ascending=True, limit=min(args.csv, count), with_voided=True)
        csv_until = storage.statements.query(first)[-1].stored_us
        rows, seconds, growth = exported(storage, "csv", csv_until)
        print(
            f"| export CSV | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} | "
            f"{base * rows / count / seconds:.0%} | {growth / 2**20:.0f} MB |",
            flush=True,
        )
    remove_sqlite_file(args.storage)
    with tempfile.NamedTemporaryFile(suffix=".ndjson", delete=False) as source:
        for n in range(args.imported):
            item = realistic.statement(10**7 + n)
            source.write(orjson.dumps(item) + b"\n")
        path = source.name
    try:
        print("POSTing to a server...", file=sys.stderr)
        http_rate = http_batch_rate(args.storage, path)
        print(
            f"| import baseline: HTTP POSTs of 100 | {args.imported:,} | "
            f"{args.imported / http_rate:.1f} | {http_rate:,.0f} | 100% | |"
        )
        remove_sqlite_file(args.storage)
        with open_storage(args.storage) as storage, open(path, "rb") as stream:
            started = time.perf_counter()
            summary = import_statements(read_statements(stream), LocalTarget(storage), AUTHORITY)
            seconds = time.perf_counter() - started
        assert summary.stored == args.imported and not summary.failed, summary
        rate = summary.stored / seconds
        print(
            f"| lrs import statements | {summary.stored:,} | {seconds:.1f} | {rate:,.0f} | "
            f"{rate / http_rate:.0%} | |"
        )
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
