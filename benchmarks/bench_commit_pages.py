"""How many pages one batch of 100 realistic statements writes to SQLite's write-ahead log.

Run:  .venv/bin/python benchmarks/bench_commit_pages.py [--stored 10000] [--mix wide]

Stores ``--stored`` realistic statements (benchmarks/realistic.py) in a
fresh file through the path a POST takes (``store_batch``: statements,
activity definitions, progress), then, for ten more batches, empties the log
before each and reads how much it grew: the pages that commit wrote. The
background checkpoints are off, so that nothing else writes to the log.
What a commit writes is most of what a batch costs on SQLite beyond Python:
SQLite logs every page a transaction changed, whole.
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

from bench_ingest import store_realistic
from fresh import remove_sqlite_file

from lrs import sqlite
from lrs.usecases.storage import open_storage

# A frame of the log: a page and its 24-byte header.
FRAME = 4096 + 24


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=10_000)
    parser.add_argument("--mix", choices=["wide", "narrow"], default="wide")
    parser.add_argument("--file", default="/tmp/bench-commit-pages.db")
    args = parser.parse_args()
    url = f"sqlite:///{args.file}"
    remove_sqlite_file(url)
    # No background checkpoints: only the commits write to the log.
    sqlite.SqliteDatabase._wake_checkpointer = lambda self: None  # type: ignore[method-assign]

    def store(storage, number: int) -> None:
        store_realistic(storage, 10**7 + number * 100, wide=args.mix == "wide")

    with open_storage(url) as storage:
        connection = storage.statements._database.connection()
        connection.execute("PRAGMA wal_autocheckpoint = 0")
        for number in range(args.stored // 100):
            store(storage, number)
            if number % 20 == 0:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = []
        for number in range(10):
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            before = os.path.getsize(f"{args.file}-wal")
            store(storage, args.stored // 100 + number)
            pages.append((os.path.getsize(f"{args.file}-wal") - before) // FRAME)
        stored = storage.statements.count()
    command = f"python benchmarks/bench_commit_pages.py --stored {args.stored} --mix {args.mix}"
    print(f"command: `{command}`")
    print(
        f"{stored:,} stored: pages written by each of 10 commits of 100 statements: {pages} "
        f"(median {statistics.median(pages):,.0f}, {statistics.median(pages) * 4:,.0f} KiB)"
    )
    Path(args.file).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
