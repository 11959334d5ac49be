import json
import os

from click.testing import CliRunner

from lrs import __version__
from lrs.cli import default_workers, main
from lrs.clients import connect
from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS
from lrs.testing import COURSE, block, user
from lrs.urls import Backend
from lrs.usecases.storage import open_storage
from lrs.xapi.statements.sqlite_bodies import Bodies


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env)


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_prune_applies_keep_last():
    url = "mongomock://localhost/cli_prune_test"
    client = connect(url)
    for n in range(4):
        client.set(user(0), block(0), {"n": n})
    result = run("history", "prune", "--history-url", url, "--keep-last", "1")
    assert result.exit_code == 0, result.output
    assert "removed 3 history entries" in result.output
    assert [entry.state for entry in client.get_history(user(0), block(0))] == [{"n": 3}]


def test_prune_reads_the_url_from_the_environment():
    url = "mongomock://localhost/cli_env_test"
    connect(url).set(user(0), block(0), {"n": 1})
    result = run("history", "prune", "--max-age-days", "1", env={"LRS_STORAGE_URL": url})
    assert result.exit_code == 0, result.output
    assert "removed 0 history entries" in result.output


def test_prune_keeps_an_audit_record_beside_the_erasures(tmp_path):
    url = f"sqlite:///{tmp_path}/lrs.db"
    with open_storage(url) as storage:
        for n in range(3):
            storage.state.set(user(0), block(0), {"n": n})
    result = run("history", "prune", "--history-url", url, "--keep-last", "1")
    assert result.exit_code == 0, result.output
    listed = run("learners", "erasures", "--storage", url)
    assert "history-prune, finished; history_entries 2" in listed.output
    assert "the newest 1 of each block" in listed.output


def test_prune_needs_a_limit():
    result = run("history", "prune", "--history-url", "mongomock://")
    assert result.exit_code == 2
    assert "--keep-last" in result.output


def test_prune_refuses_bad_limits_and_urls():
    assert (
        run("history", "prune", "--history-url", "mongomock://", "--keep-last", "0").exit_code == 2
    )
    result = run("history", "prune", "--history-url", "redis://x", "--keep-last", "1")
    assert result.exit_code == 1
    assert "unknown history URL scheme" in result.output
    result = run("history", "prune", "--history-url", "memory://", "--keep-last", "1")
    assert result.exit_code == 2
    assert "memory://" in result.output


def test_credentials_create_list_revoke():
    url = "mongomock://localhost/cli_credentials_test"
    result = run("credentials", "create", "--role", "service", "--name", "lms", "--storage", url)
    assert result.exit_code == 0, result.output
    key = result.output.split("key:")[1].split()[0]
    secret = result.output.split("secret:")[1].split()[0]
    stores = open_storage(url)
    assert stores.credentials.authenticate(key, secret).name == "lms"
    listed = run("credentials", "list", "--storage", url)
    assert key in listed.output and "active" in listed.output
    assert run("credentials", "revoke", key, "--storage", url).exit_code == 0
    assert stores.credentials.authenticate(key, secret) is None
    assert key not in run("credentials", "list", "--storage", url).output
    assert "revoked" in run("credentials", "list", "--all", "--storage", url).output


def test_credentials_refuse_bad_input():
    url = "mongomock://localhost/cli_credentials_bad"
    result = run("credentials", "create", "--role", "learner", "--storage", url)
    assert result.exit_code == 1
    assert "username" in result.output
    assert run("credentials", "create", "--role", "root", "--storage", url).exit_code == 2
    result = run("credentials", "revoke", "no-such-key-1", "--storage", url)
    assert result.exit_code == 1
    assert "no credential" in result.output
    result = run("credentials", "list", "--storage", "memory://")
    assert result.exit_code == 2
    assert "memory://" in result.output


def test_users_and_enrollments(tmp_path):
    url = "mongomock://localhost/cli_enrollments_test"
    assert (
        run("users", "create", "ada", "--email", "ada@example.org", "--storage", url).exit_code == 0
    )
    assert run("users", "create", "sam", "--staff", "--storage", url).exit_code == 0
    listed = run("users", "list", "--staff", "--storage", url)
    assert listed.output.split() == ["sam", "-", "-", "staff", "active"]
    result = run("enrollments", "enroll", "ada", COURSE, "--mode", "verified", "--storage", url)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("created: ada")
    again = run("enrollments", "enroll", "ada", COURSE, "--storage", url)
    assert again.output.startswith("unchanged")
    gone = run("enrollments", "unenroll", "ada", COURSE, "--reason", "refund", "--storage", url)
    assert gone.exit_code == 0
    store = open_storage(url).enrollments
    assert not store.get_enrollment("ada", COURSE).is_active
    assert store.history("ada", COURSE)[0].reason == "refund"
    assert store.history("ada", COURSE)[0].actor.startswith("cli:")
    csv = tmp_path / "enrollments.csv"
    csv.write_text(f"username,course_key,role\nsam,{COURSE},\nada,{COURSE},\nnobody,{COURSE},\n")
    dry = run("enrollments", "import", str(csv), "--dry-run", "--storage", url)
    assert dry.exit_code == 1  # one row fails
    assert "dry run: 1 created, 1 error, 1 reactivated" in dry.output
    assert list(store.list_enrollments(username="sam")) == []
    done = run("enrollments", "import", str(csv), "--storage", url)
    assert "1 created, 1 error, 1 reactivated" in done.output
    rows = run("enrollments", "list", "--course-key", COURSE, "--storage", url).output.splitlines()
    assert [row.split("\t")[1:] for row in rows] == [
        ["ada", "verified", "learner", "active"],
        ["sam", "audit", "staff", "active"],
    ]


def test_enrollment_commands_refuse_bad_input(tmp_path):
    url = "mongomock://localhost/cli_enrollments_bad"
    assert run("users", "create", "with space", "--storage", url).exit_code == 1
    assert run("enrollments", "enroll", "nobody", COURSE, "--storage", url).exit_code == 1
    assert (
        run("enrollments", "enroll", "ada", COURSE, "--mode", "gold", "--storage", url).exit_code
        == 2
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("name,course\nada,x\n")
    result = run("enrollments", "import", str(bad), "--storage", url)
    assert result.exit_code == 1 and "unknown CSV columns" in result.output
    result = run("users", "list", "--storage", "memory://")
    assert result.exit_code == 2 and "memory://" in result.output


def _served(monkeypatch, *args, env=None):
    """What ``lrs serve`` hands the server, without starting one."""
    calls = []
    monkeypatch.setattr("lrs.serve.serve", lambda load_app, **options: calls.append(options))
    environment = {"LRS_ADMIN_KEY": "", "LRS_ADMIN_SECRET": "", **(env or {})}
    result = run("serve", *args, env=environment)
    assert result.exit_code == 0, result.output
    (options,) = calls
    return {**options, "output": result.output}


def test_a_memory_server_runs_two_threads_unless_told(monkeypatch):
    assert _served(monkeypatch, "--storage", "memory://")["threads"] == 2
    assert _served(monkeypatch, "--storage", "memory://", "--threads", "6")["threads"] == 6


def test_by_default_the_server_keeps_everything_in_a_sqlite_file(monkeypatch, tmp_path):
    data = tmp_path / "data"
    options = _served(monkeypatch, env={"LRS_DATA_DIR": str(data), "LRS_STORAGE_URL": ""})
    assert f"Storage: SQLite file {data / 'lrs.db'} (survives restarts)" in options["output"]
    assert (data / "lrs.db").exists()
    assert options["threads"] == 4
    assert options["workers"] == os.cpu_count()  # one per core on SQLite
    # The admin credential it printed is in the file.
    with open_storage(f"sqlite:///{data}/lrs.db") as stores:
        assert stores.credentials.count() == 1


def test_a_mongodb_server_runs_two_workers_per_core():
    assert default_workers(Backend.mongodb) == 2 * os.cpu_count()


def test_a_file_that_is_not_a_database_stops_start_up_with_its_path(tmp_path):
    (tmp_path / "lrs.db").write_text("not a database")
    result = run("serve", "--storage", f"sqlite:///{tmp_path}/lrs.db")
    assert result.exit_code == 1
    assert str(tmp_path / "lrs.db") in result.output
    assert (tmp_path / "lrs.db").read_text() == "not a database"


def test_backup_copies_the_sqlite_file_and_check_counts_it(tmp_path):
    url = f"sqlite:///{tmp_path}/lrs.db"
    with open_storage(url) as stores:
        stores.credentials.create("service", name="moodle")
        stores.state.set(user(0), block(0), {"a": 1})
    copy = tmp_path / "copy.db"
    result = run("backup", "--storage", url, "--to", str(copy))
    assert result.exit_code == 0, result.output
    with open_storage(f"sqlite:///{copy}") as stores:
        assert stores.credentials.count() == 1
        assert stores.state.get(user(0), block(0)).state == {"a": 1}
    # A second backup over the first is refused: nothing is overwritten.
    again = run("backup", "--storage", url, "--to", str(copy))
    assert again.exit_code == 1
    assert "exists already" in again.output

    result = run("check", "--storage", f"sqlite:///{copy}")
    assert result.exit_code == 0, result.output
    assert "credentials: 1" in result.output
    assert "state: 1" in result.output
    assert "history: 1" in result.output
    assert "integrity check: ok" in result.output


def test_check_finds_a_damaged_file(tmp_path):
    url = f"sqlite:///{tmp_path}/lrs.db"
    with open_storage(url) as stores:
        for n in range(200):
            stores.state.set(user(n), block(n), {"n": "x" * 200})
    path = tmp_path / "lrs.db"
    data = bytearray(path.read_bytes())
    page = 4096
    # Scribble over the start of every page after the first (the schema's).
    for start in range(page, len(data), page):
        data[start : start + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))
    result = run("check", "--storage", url)
    assert result.exit_code == 1
    assert "integrity check failed" in result.output or "malformed" in result.output


def _store_with_newline_ids(tmp_path):
    """A file as an LRS before whole-string patterns left it: ids that end in a newline.

    ``single`` has only the malformed copy; ``twice`` is stored under its UUID and
    again under the UUID and a newline, with other content.
    """

    from lrs.api import create_app
    from tests.support import ADMIN, basic

    url = f"sqlite:///{tmp_path}/lrs.db"
    single, twice, spare = (f"00000000-0000-4000-8000-00000000000{n}" for n in range(3))
    app = create_app(
        {"TESTING": True, "ADMIN_KEY": ADMIN[0], "ADMIN_SECRET": ADMIN[1]},
        storage=open_storage(url),
    )
    headers = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}
    for n, statement_id in enumerate((single, twice, spare)):
        sent = {
            "id": statement_id,
            "actor": {"account": {"homePage": "http://localhost", "name": user(n)}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": f"http://example.org/a{n}"},
        }
        assert (
            app.test_client().post("/xAPI/statements", json=sent, headers=headers).status_code
            == 200
        )
    app.extensions["lrs"].close()
    database = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)
    bodies = Bodies(database.connection)
    with database.transaction() as connection:
        for old, new in ((single, single), (spare, twice)):
            body = connection.execute(
                "SELECT body FROM statements WHERE id = ?", (old,)
            ).fetchone()[0]
            termsets, text = bodies.unpack(body)
            # What the splice did: the id's newline raw inside the JSON text.
            text = text.replace(f'"id":"{old}"', f'"id":"{new}\n"')
            connection.execute(
                "UPDATE statements SET id = ?, body = ? WHERE id = ?",
                (new + "\n", bodies.pack(termsets, text), old),
            )
    database.close()
    return url, single, twice


def test_check_lists_statements_with_newline_ids_and_repair_mends_them(tmp_path):
    url, single, twice = _store_with_newline_ids(tmp_path)
    result = run("check", "--storage", url)
    assert result.exit_code == 1, result.output
    assert "integrity check: ok" in result.output
    assert f"statements '{single}\\n': its id is not a UUID" in result.output
    assert f"statements '{twice}\\n': its id is not a UUID" in result.output
    assert "lrs check --repair" in result.output

    result = run("check", "--storage", url, "--repair")
    assert result.exit_code == 0, result.output
    assert "1 stored again, 1 second copies removed, 0 left" in result.output
    assert "records: ok" in result.output
    with open_storage(url) as stores:
        assert stores.statements.count() == 2
        mended = stores.statements.get(single)
        assert mended is not None and json.loads(mended.text)["id"] == single
        assert stores.statements.get(twice).text.count("a2") == 0  # the first copy is kept
        assert [s.content for s in stores.progress.summaries(learner=mended.terms.agents[0])] == [
            "http://example.org/a0"
        ]
    assert run("check", "--storage", url).exit_code == 0


def test_check_lists_users_and_enrollments_with_newlines(tmp_path):
    import sqlite3

    url = f"sqlite:///{tmp_path}/lrs.db"
    with open_storage(url) as stores:
        stores.enrollments.create_user("ada", {"email": "ada@example.org"}, actor="test")
        stores.enrollments.enroll("ada", COURSE, actor="test")
    with sqlite3.connect(tmp_path / "lrs.db") as connection:
        connection.execute("UPDATE users SET email = email || char(10)")
        connection.execute("UPDATE enrollments SET course_key = course_key || char(10)")
    result = run("check", "--storage", url)
    assert result.exit_code == 1
    assert "users ada: the e-mail 'ada@example.org\\n' is not an address" in result.output
    assert "enrollments ada" in result.output and "the course key is not one" in result.output


def test_backup_and_check_need_a_sqlite_store():
    result = run("check", "--storage", "memory://")
    assert result.exit_code == 1
    assert "SQLite file" in result.output


def test_commands_that_only_read_never_create_a_store(tmp_path):
    url = f"sqlite:///{tmp_path}/elsewhere/lrs.db"
    for command in (
        ["check"],
        ["credentials", "list"],
        ["users", "list"],
        ["enrollments", "list"],
        ["learners", "erasures"],
        ["progress", "report", "--course-key", COURSE],
        ["export", "users"],
        ["assignments", "list"],
    ):
        result = run(*command, "--storage", url)
        assert result.exit_code == 1, (command, result.output)
        assert f"there is no LRS data at {tmp_path}/elsewhere/lrs.db" in result.output, command
        assert not (tmp_path / "elsewhere").exists(), command


def test_a_command_names_the_file_it_read(tmp_path):
    url = f"sqlite:///{tmp_path}/lrs.db"
    with open_storage(url) as stores:
        stores.credentials.create("admin", name="ops")
    result = run("credentials", "list", "--storage", url)
    assert result.exit_code == 0
    assert f"Storage: SQLite file {tmp_path}/lrs.db" in result.stderr
    assert "ops" in result.stdout and "Storage" not in result.stdout


def test_the_data_folder_is_found_from_a_folder_below_it(tmp_path, monkeypatch):
    from lrs.settings import default_storage_url

    project = tmp_path / "project"
    (project / "lrs-data").mkdir(parents=True)
    (project / "lrs-data" / "lrs.db").write_bytes(b"")
    below = project / "courses" / "2026"
    below.mkdir(parents=True)
    assert default_storage_url("lrs-data", below) == f"sqlite:///{project}/lrs-data/lrs.db"
    # Nowhere above: the working directory's own (which lrs serve creates).
    empty = tmp_path / "other"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert default_storage_url("lrs-data") == f"sqlite:///{empty}/lrs-data/lrs.db"
    assert default_storage_url("/srv/lrs-data") == "sqlite:////srv/lrs-data/lrs.db"


def test_a_credential_for_an_unknown_user_is_refused_unless_meant(tmp_path):
    url = f"sqlite:///{tmp_path}/lrs.db"
    refused = run("credentials", "create", "--role", "coach", "--username", "zed", "--storage", url)
    assert refused.exit_code == 1 and "no user 'zed'" in refused.output
    with open_storage(url) as stores:
        assert stores.credentials.count() == 0
    meant = run(
        "credentials", "create", "--role", "coach", "--username", "zed",
        "--allow-unknown-user", "--storage", url,
    )  # fmt: skip
    assert meant.exit_code == 0 and "role:   coach" in meant.output
    assert run("users", "create", "amy", "--storage", url).exit_code == 0
    known = run("credentials", "create", "--role", "learner", "--username", "amy", "--storage", url)
    assert known.exit_code == 0
