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

With ``--live N``, two real servers of this project (``lrs serve`` on SQLite,
each in a fresh folder) are started: into the first, one client posts N
realistic statements in batches of 100 (the server's own ingest rate for one
client, the baseline); to the second, the sender drains the same N from the
backlog. The goal: the drain at least at the server's own rate.
"""

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
LRS = str(Path(sys.executable).with_name("lrs"))
KEY, SECRET = "bench-key", "bench-secret-" + "0" * 24


def serve(folder):
    """A real ``lrs serve`` on SQLite in ``folder``; its process and URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LRS_")}
    env.update(LRS_DATA_DIR=folder, LRS_ADMIN_KEY=KEY, LRS_ADMIN_SECRET=SECRET)
    process = subprocess.Popen(
        [LRS, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/health", timeout=0.5).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def live(storage, count):
    """(statements/s one client posts into a server, statements/s the sender drains into one)."""
    statements = [realistic(n) for n in range(count)]
    headers = {"X-Experience-API-Version": "1.0.3"}
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        process, url = serve(first)
        try:
            with httpx.Client(auth=(KEY, SECRET), timeout=60) as client:
                started = time.perf_counter()
                for start in range(0, count, BATCH):
                    answer = client.post(
                        f"{url}/xAPI/statements",
                        json=statements[start : start + BATCH],
                        headers=headers,
                    )
                    assert answer.status_code == 200, answer.text
                direct = count / (time.perf_counter() - started)
        finally:
            process.terminate()
            process.wait(20)
        process, url = serve(second)
        try:
            target = add_target(storage, f"{url}/xAPI", f"{KEY}:{SECRET}", from_start=True)
            sender = Sender(storage)
            started = time.perf_counter()
            drained = 0
            while moved := sender.run_once(target.id):
                drained += moved
            forwarded = drained / (time.perf_counter() - started)
            storage.forwarding.remove(target.id)
        finally:
            process.terminate()
            process.wait(20)
    return direct, forwarded


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
    parser.add_argument("--live", type=int, default=0, help="statements to real servers")
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
        if args.live:
            # The backlog's first statements, anew, to real servers.
            live_storage = open_storage("memory://")
            ingest(live_storage, 0, args.live)
            direct, forwarded = live(live_storage, args.live)
            live_storage.close()
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
    if args.live:
        share = forwarded / direct
        print(f"| one client posting to `lrs serve` (SQLite) | {direct:,.0f} statements/s |")
        print(
            f"| forwarded to `lrs serve` (SQLite) | {forwarded:,.0f} statements/s ({share:.0%}) |"
        )


if __name__ == "__main__":
    main()
