"""A pull from another LRS ends, whatever the other LRS does: bounded pages, time, size, origin."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.imports.remote import Bounds, RemoteError, RemoteLRS
from lrs.testing import statement


class Hostile(BaseHTTPRequestHandler):
    """An 'LRS' whose statements resource misbehaves as its path says."""

    seen: list = []  # (path, Authorization header) of every request

    def log_message(self, *args):
        pass

    def do_GET(self):
        Hostile.seen.append((self.path, self.headers.get("Authorization")))
        kind = self.path.split("/")[1]
        page = int(self.path.rpartition("page=")[2]) if "page=" in self.path else 0
        if kind == "slow":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            for _ in range(100):  # a byte now and then, never the whole page
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)
            return
        if kind == "big":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                self.wfile.write(b'{"statements": [' + b" " * 10_000_000)
            except OSError:
                pass
            return
        more = {
            "loop": f"/loop/xAPI/statements?page={page}",  # itself, again
            "endless": f"/endless/xAPI/statements?page={page + 1}",
            "away": f"http://localhost:{self.server.server_port}/stolen/xAPI/statements",
        }[kind]
        body = json.dumps({"statements": [statement(page)], "more": more}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def hostile():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def pull(url, **bounds):
    remote = RemoteLRS(url, ("key", "secret"))
    try:
        return list(remote.pages(bounds=Bounds(**bounds)))
    finally:
        remote.close()


def test_a_more_link_to_itself_stops_at_once(hostile):
    with pytest.raises(RemoteError, match="read already"):
        pull(f"{hostile}/loop/xAPI")


def test_more_links_without_end_stop_at_the_page_bound(hostile):
    started = len(Hostile.seen)
    with pytest.raises(RemoteError, match="after 5 pages"):
        pull(f"{hostile}/endless/xAPI", pages=5)
    assert len(Hostile.seen) - started == 5


def test_a_page_larger_than_the_bound_is_not_read_whole(hostile):
    with pytest.raises(RemoteError, match="more than 65,536 bytes"):
        pull(f"{hostile}/big/xAPI", page_bytes=65536)


def test_a_source_that_sends_a_byte_now_and_then_meets_the_deadline(hostile):
    started = time.monotonic()
    with pytest.raises(RemoteError, match="took longer than"):
        pull(f"{hostile}/slow/xAPI", seconds=1.0)
    assert time.monotonic() - started < 5


def test_credentials_go_to_the_source_only(hostile):
    with pytest.raises(RemoteError, match="another site"):
        pull(f"{hostile}/away/xAPI")
    assert not any(path.startswith("/stolen") for path, _ in Hostile.seen)
    assert all(auth and auth.startswith("Basic ") for path, auth in Hostile.seen)


def test_the_command_stops_with_a_clear_message(hostile, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "import",
            "statements",
            "--from-lrs",
            f"{hostile}/endless/xAPI",
            "--auth",
            "key:secret",
            "--max-pages",
            "3",
            "--quiet",
            "--storage",
            f"sqlite:///{tmp_path}/lrs.db",
        ],
    )
    assert result.exit_code == 1
    assert "stopped after 3 pages" in result.output and "--max-pages" in result.output
    assert "Traceback" not in result.output


def test_bad_bounds_are_usage_errors(tmp_path):
    for option, value in (("--max-pages", "0"), ("--time-limit", "-1"), ("--max-page-bytes", "x")):
        result = CliRunner().invoke(
            main,
            [
                "import",
                "statements",
                "--from-lrs",
                "http://127.0.0.1:9/xAPI",
                "--auth",
                "k:s",
                option,
                value,
                "--storage",
                f"sqlite:///{tmp_path}/lrs.db",
            ],
        )
        assert result.exit_code == 2, (option, result.output)
        assert option in result.output
