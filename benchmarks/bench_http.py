"""Requests per second of the server against a bare Flask app, on 127.0.0.1.

Run:  .venv/bin/python benchmarks/bench_http.py [--requests 3000] [--concurrency 8]
      [--stored 100000] [--only realistic]

Both run under the same gunicorn settings (1 worker, the threads `lrs serve`
starts by default, and the worker class it uses, lrs.serve.BufferingWorker;
`--worker gthread` measures gunicorn's threaded worker instead): the server
with memory:// storage, and benchmarks/bare_app.py, which only parses the JSON
body and answers. This process drives each with keep-alive connections from
CONCURRENCY threads, a bounded number of requests per scenario, and reports
requests/s, p50 and p99 latency, and the ratio to the bare app.

Statements come in two kinds: small ones (actor, verb, object, a short result)
and realistic ones (benchmarks/realistic.py: cmi5-like, about 1.2 KB, every
field present, objects among 30,000 activities with definitions). POSTs cycle
through distinct bodies, so the activity definitions they carry vary as they
would.
Both servers and this client share the machine's cores, so compare ratios.

With ``--against STORAGE`` (say ``--storage sqlite:////tmp/b.db --against
memory://``), a second server with that storage runs the same scenarios in
the same run, and a last column gives the ratio of the first to it.
"""

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from base64 import b64encode
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import realistic
from fresh import remove_sqlite_file

from lrs.serve import MEMORY_THREADS

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
KEY, SECRET = "bench-admin-key", "bench-admin-secret-0123456789abcdefghij"
AUTH = {"Authorization": "Basic " + b64encode(f"{KEY}:{SECRET}".encode()).decode()}
JSON = {"Content-Type": "application/json"}
STATE = {"attempts": 2, "correct_map": {"q1": {"correctness": "correct"}}, "done": True}


def block(n):
    return f"block-v1:Org+Bench+2026+type@problem+block@p{n}"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(app, env, chdir, worker, threads, workers=1):
    port = free_port()
    process = subprocess.Popen(
        [
            GUNICORN,
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "-k",
            worker,
            "--threads",
            str(threads),
            "--chdir",
            str(chdir),
            "--log-level",
            "warning",
            "--no-control-socket",
            app,
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health" if app == "wsgi:app" else "/")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{app} did not start")


def statement(n):
    """A small statement: actor, verb, object and a short result."""
    return {
        "actor": {"mbox": f"mailto:learner{n % 50}@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": f"http://example.org/activities/a{n % 20}"},
        "result": {"score": {"scaled": 0.5}, "duration": "PT1M"},
    }


def batches(make, count, size, first=0):
    """``count`` distinct JSON bodies of ``size`` statements each (one statement when 0)."""
    if size == 0:
        return [json.dumps(make(first + n)) for n in range(count)]
    return [json.dumps([make(first + n * size + k) for k in range(size)]) for n in range(count)]


def _post(port, body, headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/xAPI/statements", body=body, headers=headers)
    return connection.getresponse().read()


def call(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    assert response.status < 300, (method, path, response.status)


def load(port, method, path, bodies, headers, requests, concurrency):
    """Send `requests` requests from `concurrency` threads; return (req/s, p50 ms, p99 ms).

    The threads take turns through ``bodies``, a list of request bodies.
    """
    latencies = []
    lock = threading.Lock()
    errors = []

    def worker(first, count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        try:
            for n in range(first, first + count):
                body = bodies[n % len(bodies)]
                started = time.perf_counter()
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status >= 300:
                    errors.append(response.status)
                mine.append(time.perf_counter() - started)
        finally:
            connection.close()
        with lock:
            latencies.extend(mine)

    share = requests // concurrency
    threads = [threading.Thread(target=worker, args=(n * share, share)) for n in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{method} {path}: {len(errors)} failed requests, e.g. {errors[0]}")
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p99 * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--stored", type=int, default=100_000, help="statements stored before the GET scenarios"
    )
    parser.add_argument(
        "--worker",
        default="lrs.serve.BufferingWorker",
        help="gunicorn worker class for both servers (gthread: gunicorn's threaded worker)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=MEMORY_THREADS,
        help="threads of both servers (default: those of lrs serve with memory://)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes of the server (memory:// needs 1; the bare app keeps 1)",
    )
    parser.add_argument(
        "--storage",
        default="memory://",
        help="the server's storage URL (a sqlite:/// file is removed first)",
    )
    parser.add_argument(
        "--only",
        choices=["state", "small", "realistic"],
        action="append",
        help="run only these groups of scenarios (repeatable)",
    )
    parser.add_argument(
        "--against",
        help="the storage URL of a second server to compare with, in the same run (memory://)",
    )
    args = parser.parse_args()
    groups = set(args.only or ["state", "small", "realistic"])

    def lrs_server(storage, workers):
        remove_sqlite_file(storage)  # a fresh file each run
        env = {"LRS_STORAGE_URL": storage, "LRS_ADMIN_KEY": KEY, "LRS_ADMIN_SECRET": SECRET}
        return start("wsgi:app", env, ROOT, args.worker, args.threads, workers)

    lrs, lrs_port = lrs_server(args.storage, args.workers)
    bare, bare_port = start("bare_app:app", {}, ROOT / "benchmarks", args.worker, args.threads)
    processes = [lrs, bare]
    # The lrs servers measured: the one asked for, then the one it is compared with.
    ports = [lrs_port]
    if args.against:
        other, other_port = lrs_server(args.against, 1)
        processes.append(other)
        ports.append(other_port)
    try:
        scenarios = []
        if "state" in groups:
            scenarios += state_scenarios(lrs_port)
        xapi = {**AUTH, **JSON, "X-Experience-API-Version": "1.0.3"}
        # Statements without ids: each POST stores new ones.
        kinds = [("small", statement, ""), ("realistic", realistic.statement, "realistic ")]
        for kind, make, label in kinds:
            if kind not in groups:
                continue
            print(f"storing {args.stored:,} {kind} statements...", file=sys.stderr)
            # One id, so that each server has the statement the GETs ask for.
            stored_id = str(uuid.uuid4())
            for port in ports:
                for body in batches(make, args.stored // 100, 100, first=10**7):
                    call(port, "POST", "/xAPI/statements", body, xapi)
                _post(port, json.dumps({**make(0), "id": stored_id}), xapi)
            by_id = "/xAPI/statements?" + urlencode({"statementId": stored_id})
            # Distinct bodies, so that POSTs carry definitions of many activities.
            singles = batches(make, 1000, 0)
            hundreds = batches(make, 300 if kind == "realistic" else 10, 100)
            scenarios += [
                # Reads before writes, so that they see exactly --stored statements.
                (f"GET {label}statement by id", "GET", by_id, [None], xapi),
                (f"POST 1 {label}statement", "POST", "/xAPI/statements", singles, xapi),
                (f"POST 100 {label}statements", "POST", "/xAPI/statements", hundreds, xapi),
            ]
            if kind == "small":
                page = f"GET ?limit=100 of {args.stored:,}"
                scenarios.insert(-2, (page, "GET", "/xAPI/statements?limit=100", [None], xapi))
        print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
        print(
            f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  "
        )
        command = (
            f"python benchmarks/bench_http.py --requests {args.requests} "
            f"--concurrency {args.concurrency} --stored {args.stored} --worker {args.worker} "
            f"--threads {args.threads} --workers {args.workers} --storage {args.storage}"
            + (f" --against {args.against}" if args.against else "")
            + "".join(f" --only {group}" for group in args.only or ())
        )
        print(f"command: `{command}`")
        print()
        columns = ["scenario", "bare req/s", "lrs req/s", "ratio"]
        columns += ["lrs p50 ms", "lrs p99 ms", "bare p50 ms", "bare p99 ms"]
        if args.against:
            columns += [f"{args.against} req/s", f"ratio to {args.against}"]
        print(f"| {' | '.join(columns)} |")
        print("|---|" + "---:|" * (len(columns) - 1))
        for name, method, path, bodies, headers in scenarios:
            # The bare app gets the same method and bodies; it only parses and answers.
            load(bare_port, method, "/", bodies, headers, 200, args.concurrency)  # warm-up
            base = load(bare_port, method, "/", bodies, headers, args.requests, args.concurrency)
            rates = []
            for port in ports:
                load(port, method, path, bodies, headers, 200, args.concurrency)
                rates.append(
                    load(port, method, path, bodies, headers, args.requests, args.concurrency)
                )
            ours = rates[0]
            row = (
                f"| {name} | {base[0]:,.0f} | {ours[0]:,.0f} | {ours[0] / base[0]:.0%} | "
                f"{ours[1]:.1f} | {ours[2]:.1f} | {base[1]:.1f} | {base[2]:.1f} |"
            )
            if args.against:
                row += f" {rates[1][0]:,.0f} | {ours[0] / rates[1][0]:.0%} |"
            print(row, flush=True)
            if name.startswith("POST 100"):
                cells = [f"{base[0] * 100:,.0f}", f"{ours[0] * 100:,.0f}"] + [""] * 5
                if args.against:
                    cells += [f"{rates[1][0] * 100:,.0f}", ""]
                print(f"| (statements/s in those batches) | {' | '.join(cells)} |", flush=True)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)


def state_scenarios(port):
    """The learner-state scenarios, after storing the blocks they read."""
    one = "/api/v1/state?" + urlencode({"username": "ada", "block": block(0)})
    call(port, "PATCH", one, json.dumps(STATE), {**AUTH, **JSON})
    states = {block(n): STATE for n in range(100)}
    call(
        port,
        "POST",
        "/api/v1/state/set-many",
        json.dumps({"username": "ada", "states": states}),
        {**AUTH, **JSON},
    )
    many = json.dumps({"username": "ada", "blocks": list(states)})
    write = json.dumps({"attempts": 3})
    return [
        ("single-block read", "GET", one, [None], AUTH),
        ("single-block write", "PATCH", one, [write], {**AUTH, **JSON}),
        ("get_many of 100 blocks", "POST", "/api/v1/state/get-many", [many], {**AUTH, **JSON}),
    ]


if __name__ == "__main__":
    main()
