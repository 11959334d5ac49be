"""`lrs serve` (what `make run` runs), as a newcomer would use it."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

LRS = str(Path(sys.executable).with_name("lrs"))


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
def serve():
    started = []

    def start(*args, env=None):
        started.append(Served(*args, env=env))
        return started[-1]

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()


def test_first_start_prints_a_working_admin_credential(serve):
    server = serve("--workers", "3")
    output = server.stop()
    key = re.search(r"key: +(\S+)", output).group(1)
    secret = re.search(r"secret: +(\S+)", output).group(1)
    assert "curl -u" in output
    assert "running 1 worker" in output
    # The credential lived in that process's memory: start again to use one.
    server = serve(env={"LRS_ADMIN_KEY": key, "LRS_ADMIN_SECRET": secret})
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
    env = {"LRS_ADMIN_KEY": "automation-key", "LRS_ADMIN_SECRET": "automation-secret-0123"}
    server = serve(env=env)
    assert (
        httpx.get(
            f"{server.url}/api/v1/me", auth=("automation-key", "automation-secret-0123")
        ).status_code
        == 200
    )
    assert httpx.get(f"{server.url}/api/v1/me").status_code == 401
    assert "secret" not in server.stop()


def test_unknown_storage_is_a_clear_error():
    result = subprocess.run(
        [LRS, "serve", "--storage", "redis://x"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "unknown storage URL scheme" in result.stderr
