"""A real `lrs forward` killed with SIGKILL mid-stream, then started again: nothing lost or doubled.

10,000 statements wait at the source; a live target (this project, on
SQLite, on loopback) takes them. The first sender process is killed while
it sends; a second one takes the target over once the first one's lease has
run out (a short lease here), and finishes. The target then holds each
statement once, with its id.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lrs.testing import AUTHORITY, statement
from lrs.usecases.forwarding import add_target
from lrs.usecases.ingest import store_batch
from lrs.usecases.storage import open_storage
from lrs.xapi.prepare import prepare
from lrs.xapi.statements.base import StatementQuery
from lrs.xapi.validation import Version
from tests.support import ADMIN, LiveServer, make_app

pytestmark = pytest.mark.slow

LRS = str(Path(sys.executable).with_name("lrs"))
COUNT = 10_000


def seed(storage):
    for start in range(0, COUNT, 500):
        batch = [statement(n) for n in range(start, start + 500)]
        prepared = [prepare(item, version=Version.V1_0_3, authority=AUTHORITY) for item in batch]
        store_batch(storage, prepared, batch, ["[0]"] * len(batch))


def wait_for(count_of, at_least, seconds):
    deadline = time.monotonic() + seconds
    while count_of() < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    return count_of()


def test_a_sender_killed_mid_stream_loses_nothing_and_sends_nothing_twice(tmp_path):
    url = f"sqlite:///{tmp_path / 'source.db'}"
    source = open_storage(url)
    seed(source)
    target = LiveServer()
    target.storage = open_storage(f"sqlite:///{tmp_path / 'target.db'}")
    target.app = make_app(target.storage)
    try:
        add_target(source, f"{target.url}/xAPI", ":".join(ADMIN), from_start=True)
        source.close()
        command = [LRS, "forward", "--lease-seconds", "2", "--storage", url]
        first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        arrived = wait_for(target.storage.statements.count, 2_000, 60)
        first.send_signal(signal.SIGKILL)  # mid-stream, between any two steps
        first.wait(10)
        assert 2_000 <= arrived < COUNT, arrived
        second = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_for(target.storage.statements.count, COUNT, 120) == COUNT
            time.sleep(1.0)  # were anything sent twice, it would show by now
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
        held = target.storage.statements.query(StatementQuery(limit=COUNT + 10))
        assert len(held) == COUNT == len({record.id for record in held})
        assert {record.id for record in held} == {statement(n)["id"] for n in range(COUNT)}
        again = open_storage(url)
        (status,) = again.forwarding.targets()
        assert status.delivered >= COUNT  # a batch the first sent and did not record goes again
        again.close()
    finally:
        target.stop()
        target.storage.close()
