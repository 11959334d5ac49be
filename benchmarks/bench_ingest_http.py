"""Issue 31's figures: ingest over HTTP on the default store, against memory:// and a bare parse.

Run:  .venv/bin/python benchmarks/bench_ingest_http.py [--rounds 2] [--requests 600]
      [--mix wide] [--scaling]

Three servers, each started as an operator starts it, with the default workers
and threads: ``lrs serve`` on a fresh SQLite file (the default store), ``lrs
serve --storage memory://``, and benchmarks/bare_app.py (a Flask app that
only parses the body) under the same gunicorn worker class, workers and
threads as the SQLite server, and again with one worker: memory:// runs
one worker process (its store lives in that process), so its fair baseline
is the bare parse with one (both ratios are reported). This process drives
each in turn with
CONCURRENCY keep-alive clients (threads of one process that is not the
servers'), round after round, so the servers are compared under the same
noise. Each figure comes with the server's CPU time per statement (or
request): the user and system time of its whole process tree over the
scenario, read from /proc.

Statements are realistic (benchmarks/realistic.py, about 1.1 KB). In the
``wide`` mix (the default) every statement has its own registration and
session, and its learner is one of 100,000: nearly every statement names a
learner and a registration the store has not seen, the worst case for the
progress store and for anything keyed on actors. ``--mix narrow`` is
realistic.py's own mix (5,000 learners, a registration per learner and course).

``--scaling`` also measures SQLite with one worker and with two (the default
on this machine), batches only: the work before the write lock runs in
parallel across workers, so two should store more than one.
"""

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import realistic
from bench_http import (
    AUTH,
    JSON,
    KEY,
    ROOT,
    SECRET,
    _post,
    batches,
    call,
    free_port,
    load,
    start,
)

from lrs.cli import default_workers
from lrs.serve import DEFAULT_THREADS
from lrs.urls import Backend

LRS = str(Path(sys.executable).with_name("lrs"))
XAPI = {**AUTH, **JSON, "X-Experience-API-Version": "1.0.3"}
#: The bare parse with one worker process, as memory:// runs.
BARE_ONE = "bare parse, 1 worker"
#: The worker class `lrs serve` runs.
WORKER = "lrs.serve.BufferingWorker"


def _processes() -> dict[int, tuple[int, float]]:
    """Every process: its parent and its user plus system CPU seconds."""
    found = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return found


def tree_pids(root: int) -> list[int]:
    """``root`` and every process under it."""
    processes = _processes()
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(child for child, (parent, _) in processes.items() if parent == pid)
    return pids


def tree_cpu_seconds(root: int) -> float:
    """User plus system CPU seconds of ``root`` and every process under it."""
    processes = _processes()
    return sum(processes[pid][1] for pid in tree_pids(root) if pid in processes)


def wait_ready(port: int, process: subprocess.Popen) -> None:
    """Return once the server on ``port`` answers; exit if it dies or takes a minute."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on {port} exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/xAPI/about")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on {port} did not start")


def start_lrs(storage: str, data: Path, workers: int | None = None, tree: str = "") -> tuple:
    """``lrs serve`` with ``storage``, as an operator starts it (defaults unless ``workers``).

    With ``tree``, the ``lrs`` package of that source tree (another version,
    checked out beside this one) serves instead of this one.
    """
    port = free_port()
    env = {**os.environ, "LRS_ADMIN_KEY": KEY, "LRS_ADMIN_SECRET": SECRET}
    if tree:
        env["PYTHONPATH"] = tree
    command = [LRS, "serve", "--port", str(port), "--storage", storage]
    if workers:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(
        command, env=env, cwd=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_ready(port, process)
    return process, port


def measured(process, port, method, path, bodies, requests, concurrency, per_request):
    """(rate, p99 ms, server CPU µs per unit) of one scenario; units are statements when
    ``per_request`` is 100, requests when 1."""
    load(port, method, path, bodies, XAPI, max(50, requests // 10), concurrency)  # warm-up
    cpu = tree_cpu_seconds(process.pid)
    rate, _, p99 = load(port, method, path, bodies, XAPI, requests, concurrency)
    cpu = tree_cpu_seconds(process.pid) - cpu
    return rate * per_request, p99, cpu / (requests * per_request) * 1e6


class Bodies:
    """Request bodies of realistic statements, from ranges never used before."""

    def __init__(self, wide: bool) -> None:
        self.wide = wide
        self.next = 10**8

    def statement(self, n: int) -> dict:
        return realistic.statement(n, wide=self.wide)

    def fresh(self, count: int, size: int) -> list[str]:
        """``count`` bodies of ``size`` statements each (JSON arrays)."""
        made = batches(self.statement, count, size, first=self.next)
        self.next += count * size
        return made


def rounds(args, servers, bodies: Bodies, by_id: str) -> dict:
    """{(scenario, server): [(rate, p99, CPU µs) of each round]}, servers taking turns."""
    scenarios = [
        ("100-statement batches (statements/s)", "POST", "/xAPI/statements", 100),
        ("single POST (req/s)", "POST", "/xAPI/statements", 1),
        ("GET by id (req/s)", "GET", by_id, 1),
    ]
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for number in range(args.rounds):
        print(f"round {number + 1} of {args.rounds}...", file=sys.stderr)
        for scenario, method, path, size in scenarios:
            requests = args.requests if size == 1 else args.requests // 3
            for name, (process, port) in servers.items():
                sent = [None] if method == "GET" else bodies.fresh(requests, size)
                target = "/" if name.startswith("bare parse") else path
                results.setdefault((scenario, name), []).append(
                    measured(process, port, method, target, sent, requests, args.concurrency, size)
                )
    return results


def scaling(args, data: Path, bodies: Bodies) -> list[tuple[int, tuple[float, float, float]]]:
    """Batches into a fresh SQLite file by one worker, then two, twice."""
    found = []
    requests = args.requests // 3
    for count in (1, 2, 1, 2):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{data}/scaling.db{suffix}").unlink(missing_ok=True)
        process, port = start_lrs(
            f"sqlite:///{data}/scaling.db", data, workers=count, tree=args.tree
        )
        try:
            sent = bodies.fresh(requests, 100)
            rate = measured(
                process, port, "POST", "/xAPI/statements", sent, requests, args.concurrency, 100
            )
            found.append((count, rate))
        finally:
            process.terminate()
            process.wait(timeout=30)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=600, help="requests per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--mix",
        choices=["wide", "narrow"],
        default="wide",
        help="wide: 100,000 learners, a registration per statement; narrow: realistic.py's",
    )
    parser.add_argument("--stored", type=int, default=20_000, help="stored before the rounds")
    parser.add_argument("--scaling", action="store_true", help="also 1 and 2 SQLite workers")
    parser.add_argument("--data", default="/tmp/bench-ingest-http", help="the servers' folder")
    parser.add_argument(
        "--tree", default="", help="serve with the lrs package of this source tree (a before)"
    )
    args = parser.parse_args()
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    workers, threads = default_workers(Backend.sqlite), DEFAULT_THREADS
    for suffix in ("", "-wal", "-shm"):
        Path(f"{data}/lrs.db{suffix}").unlink(missing_ok=True)
    bodies = Bodies(args.mix == "wide")
    # The bare parse under the SQLite server's worker class, workers and threads.
    bare = start("bare_app:app", {}, ROOT / "benchmarks", WORKER, threads, workers)
    servers = {"bare parse": bare}
    try:
        # And with one worker, as memory:// must run (its store is one process's).
        servers[BARE_ONE] = start("bare_app:app", {}, ROOT / "benchmarks", WORKER, threads, 1)
        servers["memory://"] = start_lrs("memory://", data, tree=args.tree)
        servers["SQLite default"] = start_lrs(f"sqlite:///{data}/lrs.db", data, tree=args.tree)
        stored_id = str(uuid.uuid4())
        print(f"storing {args.stored:,} statements in each store...", file=sys.stderr)
        for name, (_, port) in servers.items():
            if not name.startswith("bare parse"):
                for body in bodies.fresh(args.stored // 100, 100):
                    call(port, "POST", "/xAPI/statements", body, XAPI)
                _post(port, json.dumps({**bodies.statement(0), "id": stored_id}), XAPI)
        by_id = "/xAPI/statements?" + urlencode({"statementId": stored_id})
        results = rounds(args, servers, bodies, by_id)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
    scaled = scaling(args, data, bodies) if args.scaling else []
    report(args, workers, threads, results, scaled, data)


def report(args, workers, threads, results, scaling, data) -> None:
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/bench_ingest_http.py --rounds {args.rounds} --requests "
        f"{args.requests} --concurrency {args.concurrency} --mix {args.mix} --stored "
        f"{args.stored}{' --scaling' if args.scaling else ''}"
        f"{f' --tree {args.tree}' if args.tree else ''}`  "
    )
    print(
        f"servers: {workers} workers, {threads} threads (SQLite and bare); memory:// 1 worker, "
        "beside the bare parse with 1 worker\n"
    )
    print(
        "| scenario | round | bare parse | bare parse, 1 worker | memory:// | SQLite default "
        "| memory / bare | memory / bare, 1 worker | SQLite / bare | SQLite / memory |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    scenario_names = list(dict.fromkeys(scenario for scenario, _ in results))
    for scenario in scenario_names:
        for round_ in range(args.rounds):
            bare, bare_one, memory, sqlite = (
                results[(scenario, name)][round_]
                for name in ("bare parse", BARE_ONE, "memory://", "SQLite default")
            )
            cells = [
                f"{rate:,.0f} ({cpu:,.0f} µs, p99 {p99:,.0f} ms)"
                for rate, p99, cpu in (bare, bare_one, memory, sqlite)
            ]
            print(
                f"| {scenario} | {round_ + 1} | {' | '.join(cells)} | {memory[0] / bare[0]:.0%} "
                f"| {memory[0] / bare_one[0]:.0%} | {sqlite[0] / bare[0]:.0%} "
                f"| {sqlite[0] / memory[0]:.0%} |"
            )
    print("\nEach cell: rate (server CPU per statement or request, p99 latency).")
    if scaling:
        print("\n| SQLite workers | statements/s | CPU µs per statement | p99 ms |")
        print("|---:|---:|---:|---:|")
        for count, (rate, p99, cpu) in scaling:
            print(f"| {count} | {rate:,.0f} | {cpu:,.0f} | {p99:,.0f} |")
        ones = [rate for count, (rate, _, _) in scaling if count == 1]
        twos = [rate for count, (rate, _, _) in scaling if count == 2]
        print(f"\ntwo workers / one: {statistics.mean(twos) / statistics.mean(ones):.2f}x")
    size = Path(f"{data}/lrs.db").stat().st_size
    print(f"\nSQLite file after the run: {size / 1e6:,.1f} MB")


if __name__ == "__main__":
    main()
