"""`lrs serve` (what `make run` runs), as a newcomer would use it."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from lrs.usecases.storage import open_storage

# Each test starts real server processes.
pytestmark = pytest.mark.slow

LRS = str(Path(sys.executable).with_name("lrs"))
AUTOMATION = {
    "LRS_ADMIN_KEY": "automation-key",
    "LRS_ADMIN_SECRET": "automation-secret-" + "0" * 20,
}
AUTOMATION_AUTH = (AUTOMATION["LRS_ADMIN_KEY"], AUTOMATION["LRS_ADMIN_SECRET"])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    def __init__(self, *args, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("LRS_")}
        environment.update(env or {})
        self.process = subprocess.Popen(
            [LRS, "serve", "--port", str(self.port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
        )
        self.output = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=0.5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"the server did not start:\n{self.output}")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.output, _ = self.process.communicate(timeout=20)
        return self.output


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(*args, env=None):
        # The default SQLite file goes in this test's own folder.
        env = {"LRS_DATA_DIR": str(tmp_path / "data"), **(env or {})}
        started.append(Served(*args, env=env))
        return started[-1]

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()


def test_first_start_prints_a_working_admin_credential(serve):
    server = serve("--workers", "3", "--storage", "memory://")
    output = server.stop()
    key = re.search(r"key: +(\S+)", output).group(1)
    secret = re.search(r"secret: +(\S+)", output).group(1)
    assert "curl -u" in output
    assert "running 1 worker" in output
    # The credential lived in that process's memory: start again to use one.
    server = serve("--storage", "memory://", env={"LRS_ADMIN_KEY": key, "LRS_ADMIN_SECRET": secret})
    me = httpx.get(f"{server.url}/api/v1/me", auth=(key, secret))
    assert me.status_code == 200
    assert me.json()["role"] == "admin"


def test_printed_curl_example_works(serve):
    server = serve()
    # What it printed before start-up completed is waiting in the pipe.
    output = ""
    while "block=" not in output:
        line = server.process.stdout.readline()
        assert line, f"no curl example in:\n{output}"
        output += line
    command = output[output.index("curl") :].replace("\\\n", " ").strip().split("\n")[0]
    key, secret = re.search(r"curl -u '([^:]+):([^']+)'", command).groups()
    url = re.search(r"'(http://[^']+)'", command).group(1)
    response = httpx.patch(url, json={"answer": 42}, auth=(key, secret))
    assert response.status_code == 200
    assert response.json()["block"] == "block-v1:Org+Demo+2026+type@problem+block@p1"


def test_admin_key_from_environment_prints_nothing(serve):
    server = serve(env=AUTOMATION)
    assert httpx.get(f"{server.url}/api/v1/me", auth=AUTOMATION_AUTH).status_code == 200
    assert httpx.get(f"{server.url}/api/v1/me").status_code == 401
    assert "secret" not in server.stop()


def test_unknown_storage_is_a_clear_error():
    result = subprocess.run(
        [LRS, "serve", "--storage", "redis://x"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "unknown storage URL scheme" in result.stderr


def test_start_up_says_where_data_is_stored_and_whether_it_survives(serve, tmp_path):
    output = serve().stop()
    assert f"Storage: SQLite file {tmp_path / 'data' / 'lrs.db'} (survives restarts)" in output
    output = serve("--storage", "memory://").stop()
    assert "Storage: memory://" in output
    assert "lost when the server stops" in output


def test_by_default_everything_survives_a_restart(serve, tmp_path):
    server = serve()
    output = ""
    while "secret:" not in output:
        line = server.process.stdout.readline()
        assert line, output
        output += line
    key = re.search(r"key: +(\S+)", output).group(1)
    secret = re.search(r"secret: +(\S+)", output).group(1)
    statement = {
        "actor": {"mbox": "mailto:ada@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "http://example.org/a"},
    }
    xapi = {"X-Experience-API-Version": "1.0.3"}
    posted = httpx.post(
        f"{server.url}/xAPI/statements", json=statement, headers=xapi, auth=(key, secret)
    )
    assert posted.status_code == 200
    assert server.stop()
    assert (tmp_path / "data" / "lrs.db").exists()

    again = serve()
    found = httpx.get(
        f"{again.url}/xAPI/statements",
        params={"statementId": posted.json()[0]},
        headers=xapi,
        auth=(key, secret),
    )
    assert found.status_code == 200
    assert found.json()["verb"] == statement["verb"]
    # The admin credential printed at the first start is not printed again.
    assert "secret:" not in again.stop()


def test_test_only_storage_is_refused():
    result = subprocess.run(
        [LRS, "serve", "--storage", "mongomock://"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "mongomock:// is for tests" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_short_admin_secret_is_refused_at_start_up(tmp_path):
    env = {
        **os.environ,
        "LRS_ADMIN_KEY": "automation-key",
        "LRS_ADMIN_SECRET": "short-secret",
        "LRS_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [LRS, "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert result.returncode == 1
    assert "at least 32 characters" in result.stderr
    assert "Traceback" not in result.stderr


def _children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_dead_worker_stops_a_memory_server_instead_of_serving_it_empty(serve):
    server = serve("--storage", "memory://", env=AUTOMATION)
    me = httpx.patch(
        f"{server.url}/api/v1/state",
        params={"username": "ada", "block": "b1"},
        json={"a": 1},
        auth=AUTOMATION_AUTH,
    )
    assert me.status_code == 200
    (worker,) = _children(server.process.pid)
    os.kill(worker, signal.SIGKILL)  # as the out-of-memory killer would
    output, _ = server.process.communicate(timeout=20)
    assert server.process.returncode == 1
    assert "memory://" in output and "stopping" in output


class TestSlowClients:
    """Trickling clients neither hold up others nor stay connected (bounded, on 127.0.0.1)."""

    CONNECTIONS = 64

    def _slow_connections(self, server, first_bytes):
        connections = []
        for _ in range(self.CONNECTIONS):
            connection = socket.create_connection(("127.0.0.1", server.port))
            connection.sendall(first_bytes)
            connections.append(connection)
        return connections

    @staticmethod
    def _trickle_and_measure(server, connections, seconds):
        """Send one byte on every slow connection each half second; time normal requests."""
        latencies, closed = [], set()
        deadline = time.monotonic() + seconds
        with httpx.Client(timeout=20) as client:
            while time.monotonic() < deadline:
                for index, connection in enumerate(connections):
                    if index in closed:
                        continue
                    try:
                        connection.sendall(b"a")
                    except OSError:
                        closed.add(index)
                started = time.monotonic()
                assert client.get(f"{server.url}/health").status_code == 200
                latencies.append(time.monotonic() - started)
                time.sleep(0.5)
        return latencies, closed

    @staticmethod
    def _all_closed(connections):
        for connection in connections:
            connection.settimeout(5)
            try:
                assert connection.recv(1024) == b""
            except ConnectionResetError:
                pass
            connection.close()

    def test_trickled_headers_hold_up_no_one_and_are_cut_off(self, serve):
        server = serve("--threads", "4", "--header-timeout", "3")
        connections = self._slow_connections(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: ")
        latencies, _ = self._trickle_and_measure(server, connections, 6)
        assert len(latencies) >= 5
        assert max(latencies) < 1.0
        self._all_closed(connections)

    def test_trickled_bodies_hold_up_no_one_and_are_cut_off(self, serve):
        server = serve("--threads", "4", "--body-timeout", "3")
        head = (
            b"PUT /api/v1/state?username=u&block=b HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        )
        connections = self._slow_connections(server, head)
        latencies, _ = self._trickle_and_measure(server, connections, 6)
        assert max(latencies) < 1.0
        self._all_closed(connections)

    def test_slow_export_readers_hold_up_no_one(self, serve):
        """Eight downloads of a 50 MB export that nobody reads take no thread from others.

        Larger than waitress's output buffer (16 MB), past which a streamed
        response would hold its thread until the client read it.
        """
        import base64

        server = serve("--workers", "1", "--threads", "4", env=AUTOMATION)
        auth = base64.b64encode(":".join(AUTOMATION_AUTH).encode()).decode()
        with httpx.Client(base_url=server.url, auth=AUTOMATION_AUTH, timeout=30) as client:
            for start in range(0, 3000, 100):
                batch = [
                    {
                        "actor": {"mbox": f"mailto:learner{n}@example.org", "name": "x" * 200},
                        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                        "object": {"id": f"http://example.org/a{n}"},
                        "result": {"response": "y" * 8000},
                    }
                    for n in range(start, start + 100)
                ]
                answer = client.post(
                    "/xAPI/statements", json=batch, headers={"X-Experience-API-Version": "1.0.3"}
                )
                assert answer.status_code == 200, answer.text
            readers = []
            for _ in range(8):
                connection = socket.create_connection(("127.0.0.1", server.port))
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                connection.sendall(
                    b"GET /api/v1/exports/statements?format=csv HTTP/1.1\r\nHost: x\r\n"
                    + f"Authorization: Basic {auth}\r\n\r\n".encode()
                )
                readers.append(connection)
            time.sleep(3)  # the exports are written; their readers read nothing
            latencies = []
            for _ in range(20):
                started = time.monotonic()
                answer = client.get(
                    "/xAPI/statements",
                    params={"limit": "1"},
                    headers={"X-Experience-API-Version": "1.0.3"},
                )
                latencies.append(time.monotonic() - started)
                assert answer.status_code == 200
            assert max(latencies) < 1.0, latencies
            statuses = []
            for connection in readers:
                connection.settimeout(10)
                statuses.append(connection.recv(64).split(b" ")[1])
                connection.close()
            # Written by at most LRS_EXPORTS_AT_ONCE at a time; the others were told to retry.
            assert set(statuses) <= {b"200", b"503"} and b"200" in statuses, statuses


def test_a_chunked_body_over_the_limit_is_413_from_the_real_server(serve):
    server = serve(env={**AUTOMATION, "LRS_MAX_BODY_BYTES": "100000"})

    def chunks():
        for _ in range(40):
            yield b"x" * 10_000

    response = httpx.put(
        f"{server.url}/api/v1/state",
        params={"username": "ada", "block": "b1"},
        content=chunks(),
        headers={"Content-Type": "application/json"},
        auth=AUTOMATION_AUTH,
    )
    assert response.status_code == 413
    assert response.json()["code"] == 413


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_killed_server_keeps_every_acknowledged_batch_and_no_half_batch(serve, tmp_path):
    server = serve("--workers", "2", env=AUTOMATION)
    xapi = {"X-Experience-API-Version": "1.0.3"}
    attempted, acknowledged = [], []
    stop = threading.Event()

    def post_batches(client):
        with httpx.Client(auth=AUTOMATION_AUTH, timeout=5, headers=xapi) as http:
            while not stop.is_set():
                ids = [str(uuid.uuid4()) for _ in range(20)]
                batch = [
                    {
                        "id": statement_id,
                        "actor": {"mbox": f"mailto:client{client}@example.org"},
                        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                        "object": {"id": f"http://example.org/activities/{client}"},
                    }
                    for statement_id in ids
                ]
                attempted.append(ids)
                try:
                    response = http.post(f"{server.url}/xAPI/statements", json=batch)
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    acknowledged.append(ids)

    clients = [threading.Thread(target=post_batches, args=(n,)) for n in range(8)]
    for client in clients:
        client.start()
    time.sleep(2)
    # The master and its workers, all at once, as a power cut to the process would.
    processes = [server.process.pid, *_children(server.process.pid)]
    for pid in processes:
        os.kill(pid, signal.SIGKILL)
    stop.set()
    for client in clients:
        client.join(timeout=20)
    server.process.communicate(timeout=20)
    assert len(acknowledged) > 10, "too few batches to say anything"

    with open_storage(f"sqlite:///{tmp_path / 'data' / 'lrs.db'}") as stores:
        for ids in attempted:
            found = sum(stores.statements.get(statement_id) is not None for statement_id in ids)
            assert found in (0, len(ids)), "a batch was stored in part"
        for ids in acknowledged:
            assert stores.statements.get(ids[0]) is not None, "an acknowledged batch is lost"
    # And the restarted server serves them.
    again = serve(env=AUTOMATION)
    found = httpx.get(
        f"{again.url}/xAPI/statements",
        params={"statementId": acknowledged[-1][-1]},
        headers=xapi,
        auth=AUTOMATION_AUTH,
    )
    assert found.status_code == 200


def _old_statements(count, days_ago, learners):
    """NDJSON of ``count`` statements stored ``days_ago`` days ago, about 1 KB each."""
    stored = datetime.now(UTC) - timedelta(days=days_ago)
    lines = []
    for n in range(count):
        lines.append(
            json.dumps(
                {
                    "id": str(uuid.UUID(int=n + 1)),
                    "actor": {
                        "mbox": f"mailto:learner{n % learners}@example.org",
                        "name": "L" * 50,
                    },
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                    "object": {"id": f"http://example.org/course/a{n % 300}"},
                    "result": {"completion": True, "duration": "PT5M", "response": "r" * 600},
                    "timestamp": (stored + timedelta(seconds=n)).isoformat(),
                    "stored": (stored + timedelta(seconds=n)).isoformat(),
                    "authority": {"mbox": "mailto:old-lrs@example.org"},
                }
            )
        )
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("removal", ["purge", "erasure"])
def test_posts_during_a_purge_or_an_erasure_never_wait_past_the_busy_timeout(
    serve, tmp_path, removal
):
    """Two workers take posts while another process removes thousands of statements."""
    url = f"sqlite:///{tmp_path}/data/lrs.db"
    source = tmp_path / "old.ndjson"
    # An erasure's statements are one learner's.
    source.write_text(_old_statements(3000, 60, 200 if removal == "purge" else 1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LRS_")}
    imported = subprocess.run(
        [
            LRS,
            "import",
            "statements",
            str(source),
            "--preserve-stored",
            "--quiet",
            "--storage",
            url,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    if removal == "erasure":
        created = subprocess.run(
            [
                LRS,
                "users",
                "create",
                "learner0",
                "--email",
                "learner0@example.org",
                "--storage",
                url,
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        assert created.returncode == 0, created.stdout + created.stderr
    server = serve("--workers", "2", "--threads", "4", env=AUTOMATION)
    statuses = []
    stop = threading.Event()

    def post():
        n = 0
        with httpx.Client(base_url=server.url, auth=AUTOMATION_AUTH, timeout=30) as client:
            while not stop.is_set():
                n += 1
                batch = [
                    {
                        "actor": {"mbox": f"mailto:new{n % 50}@example.org"},
                        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                        "object": {"id": f"http://example.org/course/a{n % 300}"},
                    }
                    for _ in range(10)
                ]
                answer = client.post(
                    "/xAPI/statements", json=batch, headers={"X-Experience-API-Version": "1.0.3"}
                )
                statuses.append(answer.status_code)

    posters = [threading.Thread(target=post) for _ in range(4)]
    for poster in posters:
        poster.start()
    time.sleep(1)
    if removal == "purge":
        command = [LRS, "purge", "statements", "--older-than", "30", "--quiet"]
    else:
        command = [LRS, "learners", "erase", "learner0", "--reason", "test", "--delete-statements"]
    removed = subprocess.run([*command, "--storage", url], capture_output=True, text=True, env=env)
    time.sleep(1)
    stop.set()
    for poster in posters:
        poster.join()
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}


def test_the_server_forwards_what_it_stores_to_a_target(serve, tmp_path):
    # A target added while the server is down; the server's workers send to it.
    from tests.support import ADMIN, LiveServer, make_app

    target = LiveServer()
    target.app = make_app(ACCOUNT_HOMEPAGE="https://target.test")
    try:
        url = f"sqlite:///{tmp_path / 'data' / 'lrs.db'}"
        (tmp_path / "data").mkdir()
        open_storage(url).close()
        added = subprocess.run(
            [LRS, "forwarding", "add", f"{target.url}/xAPI", "--auth", ":".join(ADMIN)]
            + ["--storage", url],
            capture_output=True,
            text=True,
        )
        assert added.returncode == 0, added.stderr
        server = serve(env=AUTOMATION)
        statements = [
            {
                "id": str(uuid.UUID(int=n + 1)),
                "actor": {"mbox": f"mailto:learner{n}@example.org"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {"id": "http://example.org/a"},
            }
            for n in range(20)
        ]
        xapi = {"X-Experience-API-Version": "1.0.3"}
        posted = httpx.post(
            f"{server.url}/xAPI/statements", json=statements, headers=xapi, auth=AUTOMATION_AUTH
        )
        assert posted.status_code == 200
        store = target.app.extensions["lrs"].statements
        deadline = time.monotonic() + 20
        while store.count() < 20 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert store.count() == 20  # each once, though every worker runs a sender
        server.stop()
    finally:
        target.stop()
