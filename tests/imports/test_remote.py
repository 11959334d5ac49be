"""Statements moved between two live servers of this project on 127.0.0.1, over xAPI."""

import json

import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.imports import remote
from lrs.imports.remote import RemoteError, RemoteLRS, RemoteTarget
from lrs.imports.sources import Item
from lrs.imports.statements import import_statements
from lrs.testing import AUTHORITY, statement
from lrs.usecases.storage import open_storage
from lrs.xapi.statements.base import StatementQuery
from tests.support import ADMIN, LiveServer, basic, make_app

AUTH = ":".join(ADMIN)
XAPI = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}


class Server:
    """A live server on a SQLite file, that can be stopped and started again on its port."""

    def __init__(self, path):
        self.path = path
        self.port = 0
        self.live = None
        self.start()

    def start(self):
        self.storage = open_storage(f"sqlite:///{self.path}")
        self.live = LiveServer(self.port)
        self.live.app = make_app(self.storage)
        self.port = self.live.server.server_port

    def stop(self):
        self.live.stop()
        self.storage.close()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}/xAPI"

    def ids(self):
        found = self.storage.statements.query(StatementQuery(ascending=True, limit=10**6))
        return [record.id for record in found]


@pytest.fixture
def source(tmp_path):
    server = Server(tmp_path / "source.db")
    yield server
    server.stop()


@pytest.fixture
def target(tmp_path):
    server = Server(tmp_path / "target.db")
    yield server
    server.stop()


def fill(server, count):
    client = server.live.app.test_client()
    batch = [statement(n, timestamp=f"2026-04-01T08:{n % 60:02d}:00Z") for n in range(count)]
    response = client.post("/xAPI/statements", json=batch, headers=XAPI)
    assert response.status_code == 200, response.json
    return [item["id"] for item in batch]


def test_a_migration_cut_short_by_the_source_stopping_is_finished_by_running_it_again(
    source, target, monkeypatch
):
    monkeypatch.setattr(remote, "PAGE", 10)
    sent = fill(source, 45)
    pulled = RemoteLRS(source.endpoint, ADMIN)
    pushed = RemoteLRS(target.endpoint, ADMIN)
    batches = []

    def stop_after_the_first_batch(count):
        batches.append(count)
        if len(batches) == 1:
            source.stop()

    with pytest.raises(RemoteError, match="cannot be reached"):
        import_statements(
            pulled.pages(),
            RemoteTarget(pushed),
            AUTHORITY,
            batch_size=15,
            on_batch=stop_after_the_first_batch,
        )
    pulled.close()
    pushed.close()
    halfway = len(target.ids())
    assert halfway == 15
    source.start()
    args = ["import", "statements", "--from-lrs", source.endpoint, "--auth", AUTH]
    result = CliRunner().invoke(main, [*args, "--to", target.endpoint])
    assert result.exit_code == 0, result.output
    # The other LRS does not say which it held already: all count as stored.
    assert f"stored {len(sent)}, skipped 0" in result.output
    assert sorted(target.ids()) == sorted(sent)  # each once
    # Into this LRS's own store, a re-run after a cut says what it skipped.
    here = target.path.with_name("here.db")
    first = CliRunner().invoke(main, [*args, "--storage", f"sqlite:///{here}"])
    assert f"stored {len(sent)}, skipped 0" in first.output
    again = CliRunner().invoke(main, [*args, "--storage", f"sqlite:///{here}"])
    assert f"stored 0, skipped {len(sent)}" in again.output


def test_a_migration_from_one_server_to_another_sends_each_statement_once(
    source, target, monkeypatch
):
    monkeypatch.setattr(remote, "PAGE", 7)
    sent = fill(source, 30)
    # The target holds one of them already, and one other id with other content.
    fill(target, 1)
    conflicting = statement(40, verb="http://adlnet.gov/expapi/verbs/failed")
    response = target.live.app.test_client().post(
        "/xAPI/statements", json=conflicting, headers=XAPI
    )
    assert response.status_code == 200
    source_client = source.live.app.test_client()
    response = source_client.post("/xAPI/statements", json=statement(40), headers=XAPI)
    assert response.status_code == 200
    args = ["import", "statements", "--from-lrs", source.endpoint, "--auth", AUTH]
    result = CliRunner().invoke(main, [*args, "--to", target.endpoint])
    assert result.exit_code == 1
    assert f"conflict: statement {statement(40)['id']} is stored with other content" in (
        result.output
    )
    assert sorted(target.ids()) == sorted([*sent, statement(40)["id"]])
    again = CliRunner().invoke(main, [*args, "--to", target.endpoint, "--to-auth", AUTH])
    assert "conflicts 1" in again.output
    assert len(target.ids()) == len(sent) + 1


def test_a_file_sent_to_another_lrs_is_checked_first_and_the_dry_run_sends_nothing(
    target, tmp_path
):
    path = tmp_path / "s.ndjson"
    lines = [json.dumps(statement(n)) for n in range(3)] + [json.dumps(statement(9, verb="x"))]
    path.write_text("\n".join(lines) + "\n")
    base = ["import", "statements", str(path), "--to", target.endpoint, "--auth", AUTH]
    dry = CliRunner().invoke(main, [*base, "--dry-run"])
    assert "dry run: would store 3" in dry.output and "line 4: invalid" in dry.output
    assert target.ids() == []
    result = CliRunner().invoke(main, base)
    assert result.exit_code == 1
    assert sorted(target.ids()) == sorted(statement(n)["id"] for n in range(3))


def test_a_target_that_refuses_the_credentials_stops_the_import(target):
    sender = RemoteTarget(RemoteLRS(target.endpoint, ("wrong", "secret")))
    items = [Item("line 1", statement(0))]
    with pytest.raises(RemoteError, match="refused the credentials"):
        import_statements(items, sender, AUTHORITY)
    sender.remote.close()
