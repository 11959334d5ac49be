"""Requests per second of the server against a bare Flask app, on 127.0.0.1.

Run:  .venv/bin/python benchmarks/bench_http.py [--requests 3000] [--concurrency 8]
      [--stored 100000]

Both run under the same gunicorn settings (1 worker, 4 threads, and the worker
class `lrs serve` uses, lrs.serve.BufferingWorker; `--worker gthread` measures
gunicorn's threaded worker instead): the server with memory:// storage, and
benchmarks/bare_app.py, which only parses the JSON body and answers. This
process drives each with keep-alive connections from CONCURRENCY threads, a
bounded number of requests per scenario, and reports requests/s, p50 and p99
latency, and the ratio to the bare app.
Both servers and this client share the machine's cores, so compare ratios.
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
from base64 import b64encode
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

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


def start(app, env, chdir, worker):
    port = free_port()
    process = subprocess.Popen(
        [
            GUNICORN,
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "-k",
            worker,
            "--threads",
            "4",
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
    return {
        "actor": {"mbox": f"mailto:learner{n % 50}@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": f"http://example.org/activities/a{n % 20}"},
        "result": {"score": {"scaled": 0.5}, "duration": "PT1M"},
    }


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


def load(port, method, path, body, headers, requests, concurrency):
    """Send `requests` requests from `concurrency` threads; return (req/s, p50 ms, p99 ms)."""
    latencies = []
    lock = threading.Lock()
    errors = []

    def worker(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        try:
            for _ in range(count):
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
    threads = [threading.Thread(target=worker, args=(share,)) for _ in range(concurrency)]
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
    args = parser.parse_args()

    env = {"LRS_STORAGE_URL": "memory://", "LRS_ADMIN_KEY": KEY, "LRS_ADMIN_SECRET": SECRET}
    lrs, lrs_port = start("wsgi:app", env, ROOT, args.worker)
    bare, bare_port = start("bare_app:app", {}, ROOT / "benchmarks", args.worker)
    try:
        one = "/api/v1/state?" + urlencode({"username": "ada", "block": block(0)})
        call(lrs_port, "PATCH", one, json.dumps(STATE), {**AUTH, **JSON})
        states = {block(n): STATE for n in range(100)}
        call(
            lrs_port,
            "POST",
            "/api/v1/state/set-many",
            json.dumps({"username": "ada", "states": states}),
            {**AUTH, **JSON},
        )
        many = json.dumps({"username": "ada", "blocks": list(states)})
        write = json.dumps({"attempts": 3})
        xapi = {**AUTH, **JSON, "X-Experience-API-Version": "1.0.3"}
        # Statements without ids: each POST stores new ones.
        one_statement = json.dumps(statement(0))
        batch = json.dumps([statement(n) for n in range(100)])
        print(f"storing {args.stored:,} statements for the GET scenarios...", file=sys.stderr)
        for _ in range(args.stored // 100):
            call(lrs_port, "POST", "/xAPI/statements", batch, xapi)
        stored_id = json.loads(_post(lrs_port, one_statement, xapi))[0]
        by_id = "/xAPI/statements?" + urlencode({"statementId": stored_id})
        scenarios = [
            ("single-block read", "GET", one, None, AUTH),
            ("single-block write", "PATCH", one, write, {**AUTH, **JSON}),
            ("get_many of 100 blocks", "POST", "/api/v1/state/get-many", many, {**AUTH, **JSON}),
            # Reads before writes, so that they see exactly --stored statements.
            ("GET statement by id", "GET", by_id, None, xapi),
            (f"GET ?limit=100 of {args.stored:,}", "GET", "/xAPI/statements?limit=100", None, xapi),
            ("POST 1 statement", "POST", "/xAPI/statements", one_statement, xapi),
            ("POST 100 statements", "POST", "/xAPI/statements", batch, xapi),
        ]
        print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
        print(
            f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  "
        )
        print(
            f"command: `python benchmarks/bench_http.py --requests {args.requests} "
            f"--concurrency {args.concurrency} --stored {args.stored} --worker {args.worker}`\n"
        )
        columns = ["scenario", "bare req/s", "lrs req/s", "ratio"]
        columns += ["lrs p50 ms", "lrs p99 ms", "bare p50 ms", "bare p99 ms"]
        print(f"| {' | '.join(columns)} |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, method, path, body, headers in scenarios:
            # The bare app gets the same method and body; it only parses and answers.
            load(bare_port, method, "/", body, headers, 200, args.concurrency)  # warm-up
            load(lrs_port, method, path, body, headers, 200, args.concurrency)
            base = load(bare_port, method, "/", body, headers, args.requests, args.concurrency)
            ours = load(lrs_port, method, path, body, headers, args.requests, args.concurrency)
            print(
                f"| {name} | {base[0]:,.0f} | {ours[0]:,.0f} | {ours[0] / base[0]:.0%} | "
                f"{ours[1]:.1f} | {ours[2]:.1f} | {base[1]:.1f} | {base[2]:.1f} |"
            )
            if name == "POST 100 statements":
                rate = f"{ours[0] * 100:,.0f}"
                print(f"| (statements/s in 100-statement batches) | | {rate} | | | | | |")
    finally:
        for process in (lrs, bare):
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
