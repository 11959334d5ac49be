"""A soak of the default store: mixed traffic at half its measured peak, for half an hour.

Run:  .venv/bin/python benchmarks/soak.py [--minutes 30] [--peak-seconds 60]

``lrs serve`` starts as an operator starts it (defaults: SQLite in a fresh
file, one worker per core). First the peak of the mix is measured: clients
send it back to back for ``--peak-seconds``. Then the same mix is sent at
half that rate for ``--minutes``, on a schedule (a request's latency counts
from when it was due, so a server that falls behind is seen to), and a
coach's course report is asked for once a minute. The mix, by requests:

- 30% POST of 100 realistic statements (benchmarks/realistic.py: 5,000
  learners, 30,000 activities in 40 courses),
- 30% POST of one realistic statement,
- 15% learner-state writes (PATCH /api/v1/state, 2,000 learners x 50 blocks),
- 20% GETs with filters (agent, activity, verb or registration, with a
  since; limits of 10 to 100),
- 5% GET of a statement by id.

Every 10 seconds it reads the server's resident memory (the process tree),
the write-ahead log's size and the file's. It reports, as Markdown: requests
and errors by kind, p50 and p99 latency in the first and the last window
(five minutes each, or a third of a shorter run), resident memory at the end
of the first window (the warm-up) and at the end, the largest write-ahead
log, and the file's bytes per statement stored.

The goals (issue 31): no 5xx; the last window's p99 within 1.5x of the
first's; resident memory at the end within 10% of the warm-up's; the log
bounded; the bytes per statement reported.
"""

import argparse
import http.client
import json
import os
import platform
import queue
import random
import sqlite3
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import realistic
from bench_http import AUTH, JSON
from bench_ingest_http import XAPI, start_lrs, tree_pids

MIX = [("batch", 30), ("single", 30), ("state", 15), ("filtered", 20), ("by id", 5)]
CLIENTS = 16


class Traffic:
    """Request bodies and paths for the mix, new statements each time."""

    def __init__(self) -> None:
        self._next = 10**8
        self._lock = threading.Lock()
        self.ids: list[str] = []
        self._random = random.Random(31)

    def _numbers(self, count: int) -> range:
        with self._lock:
            first = self._next
            self._next += count
        return range(first, first + count)

    def request(self, kind: str) -> tuple[str, str, bytes | None, dict[str, str]]:
        """(method, path, body, headers) of a request of this kind."""
        pick = self._random
        if kind == "batch":
            body = [realistic.statement(n) for n in self._numbers(100)]
            return "POST", "/xAPI/statements", json.dumps(body).encode(), XAPI
        if kind == "single":
            (n,) = self._numbers(1)
            return "POST", "/xAPI/statements", json.dumps(realistic.statement(n)).encode(), XAPI
        if kind == "state":
            query = urlencode(
                {
                    "username": f"learner-{pick.randrange(2000)}",
                    "block": f"block-v1:Org+Soak+2026+type@problem+block@p{pick.randrange(50)}",
                }
            )
            body = json.dumps({"attempts": pick.randrange(5), "done": pick.random() < 0.5})
            return "PATCH", f"/api/v1/state?{query}", body.encode(), {**AUTH, **JSON}
        if kind == "by id" and self.ids:
            statement_id = pick.choice(self.ids)
            return "GET", "/xAPI/statements?" + urlencode({"statementId": statement_id}), None, XAPI
        sample = realistic.statement(pick.randrange(10**8, max(self._next, 10**8 + 1)))
        since = (datetime.now(UTC) - timedelta(minutes=pick.choice([5, 60, 600]))).isoformat()
        which = pick.randrange(4)
        if which == 0:
            filters = {"agent": json.dumps(sample["actor"])}
        elif which == 1:
            filters = {"activity": sample["object"]["id"]}
        elif which == 2:
            filters = {"verb": sample["verb"]["id"]}
        else:
            filters = {"registration": sample["context"]["registration"]}
        query = urlencode({**filters, "since": since, "limit": pick.choice([10, 50, 100])})
        return "GET", f"/xAPI/statements?{query}", None, XAPI


class Client:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt:
                    return 0, b""  # a connection error
        return 0, b""


def kinds_forever(seed: int):
    pick = random.Random(seed)
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    while True:
        yield pick.choices(names, weights)[0]


def peak(port: int, traffic: Traffic, seconds: float) -> float:
    """Requests per second of the mix sent back to back by CLIENTS clients."""
    done = [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def run(seed: int) -> None:
        client = Client(port)
        for kind in kinds_forever(seed):
            if time.monotonic() >= end:
                return
            status, body = client.send(*traffic.request(kind))
            remember(traffic, kind, status, body)
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.monotonic() - started)


def remember(traffic: Traffic, kind: str, status: int, body: bytes) -> None:
    if kind == "single" and status == 200 and len(traffic.ids) < 10_000:
        traffic.ids.extend(json.loads(body))


def soak(port, traffic, rate, minutes, course, samples, pids_of):
    """Send the mix at ``rate`` requests/s; return [(due, kind, latency s, status)]."""
    due_queue: queue.Queue = queue.Queue()
    results: list[tuple[float, str, float, int]] = []
    lock = threading.Lock()
    started = time.monotonic()
    end = started + minutes * 60

    def work() -> None:
        client = Client(port)
        while True:
            item = due_queue.get()
            if item is None:
                return
            due, kind, request = item
            status, body = client.send(*request)
            latency = time.monotonic() - due
            remember(traffic, kind, status, body)
            with lock:
                results.append((due - started, kind, latency, status))

    workers = [threading.Thread(target=work) for _ in range(CLIENTS * 2)]
    for worker in workers:
        worker.start()
    report_path = f"/api/v1/progress/courses/{quote(course, safe='')}/report"
    next_report = started
    next_sample = started
    kinds = kinds_forever(7)
    due = started
    while due < end:
        now = time.monotonic()
        if now >= next_sample:
            samples.append(sample(now - started, pids_of()))
            next_sample += 10
        if now >= next_report:
            due_queue.put((now, "course report", ("GET", report_path, None, AUTH)))
            next_report += 60
        if due > now:
            time.sleep(min(due - now, 0.05))
            continue
        kind = next(kinds)
        due_queue.put((due, kind, traffic.request(kind)))
        due += 1 / rate
    for _ in workers:
        due_queue.put(None)
    for worker in workers:
        worker.join()
    return results


DATA = Path("/tmp/bench-soak")


def sample(at: float, pids: list[int]) -> tuple[float, int, int, int, int]:
    """(seconds, resident bytes of the server, write-ahead log bytes, file bytes, and of
    the resident bytes the anonymous ones: the heap, not pages of mapped files)."""
    resident = anonymous = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        resident += int(line.split()[1]) * 1024
                    elif line.startswith("RssAnon:"):
                        anonymous += int(line.split()[1]) * 1024
        except OSError:
            pass
    wal = DATA / "lrs.db-wal"
    return (
        at,
        resident,
        wal.stat().st_size if wal.exists() else 0,
        (DATA / "lrs.db").stat().st_size,
        anonymous,
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def print_windows(minutes: float, window: float, results, samples) -> None:
    """p99, resident memory, log and file size, window by window."""
    print()
    print(
        "| window (min) | requests | p99 ms | p99 ms, course reports aside | resident MiB "
        "| of it anonymous | log MiB | file MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for start in range(0, int(minutes * 60), int(window)):
        part = [r for r in results if start <= r[0] < start + window]
        others = [r[2] * 1000 for r in part if r[1] != "course report"]
        at = [s for s in samples if s[0] <= start + window][-1]
        print(
            f"| {start / 60:.0f}-{(start + window) / 60:.0f} | {len(part):,} "
            f"| {percentile([r[2] * 1000 for r in part], 0.99):,.0f} "
            f"| {percentile(others, 0.99):,.0f} | {at[1] / 2**20:,.0f} | {at[4] / 2**20:,.0f} "
            f"| {at[2] / 2**20:,.1f} "
            f"| {at[3] / 2**20:,.0f} |"
        )


def report(args, peak_rate, rate, results, samples, stored) -> bool:
    window = min(300.0, args.minutes * 60 / 3)
    last_start = args.minutes * 60 - window
    first = [r for r in results if r[0] < window]
    last = [r for r in results if r[0] >= last_start]
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/soak.py --minutes {args.minutes} "
        f"--peak-seconds {args.peak_seconds}`  "
    )
    print(
        f"peak of the mix: {peak_rate:,.0f} requests/s; soaked at {rate:,.0f} requests/s "
        f"for {args.minutes} minutes; windows of {window / 60:.1f} minutes\n"
    )
    print(
        "| kind | requests | 5xx | other errors | p50 first (ms) | p99 first | p50 last "
        "| p99 last |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    kinds = [name for name, _ in MIX] + ["course report"]
    server_errors = 0
    for kind in kinds + ["all"]:
        mine = [r for r in results if kind in ("all", r[1])]
        errors = sum(1 for r in mine if r[3] >= 500 or r[3] == 0)
        others = sum(1 for r in mine if 300 <= r[3] < 500)
        if kind != "all":
            server_errors += errors
        cells = []
        for part in (first, last):
            latencies = [r[2] * 1000 for r in part if kind in ("all", r[1])]
            cells += [f"{percentile(latencies, 0.5):,.0f}", f"{percentile(latencies, 0.99):,.0f}"]
        print(f"| {kind} | {len(mine):,} | {errors} | {others} | {' | '.join(cells)} |")
    print_windows(args.minutes, window, results, samples)
    p99_first = percentile([r[2] for r in first], 0.99)
    p99_last = percentile([r[2] for r in last], 0.99)
    warm = [s for s in samples if s[0] <= window]
    warm_rss = warm[-1][1] if warm else samples[0][1]
    end_rss = samples[-1][1]
    largest_wal = max(s[2] for s in samples)
    file_bytes = samples[-1][3]
    print()
    print(
        f"- p99 of every request: first window {p99_first * 1000:,.0f} ms, last "
        f"{p99_last * 1000:,.0f} ms: **{p99_last / p99_first:.2f}x** (goal: at most 1.5x)"
    )
    print(
        f"- resident memory of the server: {warm_rss / 2**20:,.0f} MiB after the warm-up, "
        f"{end_rss / 2**20:,.0f} MiB at the end (**{end_rss / warm_rss - 1:+.1%}**; goal: "
        f"within 10%), largest {max(s[1] for s in samples) / 2**20:,.0f} MiB; anonymous "
        f"{warm[-1][4] / 2**20 if warm else 0:,.0f} then {samples[-1][4] / 2**20:,.0f} MiB"
    )
    print(f"- write-ahead log: at most {largest_wal / 2**20:,.1f} MiB")
    print(
        f"- statements stored: {stored:,}; file {file_bytes / 2**20:,.1f} MiB, "
        f"**{file_bytes / max(stored, 1):,.0f} bytes per statement**"
    )
    print(f"- server errors (5xx or no answer): **{server_errors}**")
    memory = statistics.mean(s[1] for s in samples[-3:]) / 2**20
    print(f"- resident memory, mean of the last three samples: {memory:,.0f} MiB")
    return server_errors == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--peak-seconds", type=float, default=60)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-writer"):
        Path(f"{DATA}/lrs.db{suffix}").unlink(missing_ok=True)
    process, port = start_lrs(f"sqlite:///{DATA}/lrs.db", DATA)
    traffic = Traffic()
    try:
        print(f"measuring the peak for {args.peak_seconds:.0f} s...", file=sys.stderr)
        peak_rate = peak(port, traffic, args.peak_seconds)
        rate = peak_rate / 2
        print(f"peak {peak_rate:,.0f} requests/s; soaking at {rate:,.0f}...", file=sys.stderr)
        course = "https://courses.example.org/course-3"
        samples: list[tuple[float, int, int, int]] = []
        results = soak(
            port, traffic, rate, args.minutes, course, samples, lambda: tree_pids(process.pid)
        )
        samples.append(sample(args.minutes * 60, tree_pids(process.pid)))
    finally:
        process.terminate()
        process.wait(timeout=60)
    with sqlite3.connect(DATA / "lrs.db") as connection:
        (stored,) = connection.execute("SELECT count(*) FROM statements").fetchone()
    ok = report(args, peak_rate, rate, results, samples, stored)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
