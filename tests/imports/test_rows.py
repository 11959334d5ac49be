"""Users and enrollments from CSV or NDJSON files, through one bulk machinery."""

import json

from click.testing import CliRunner

from lrs.cli import main
from lrs.enrollments import MemoryEnrollmentStore
from lrs.enrollments.bulk import USER_COLUMNS, bulk_users, parse_rows
from lrs.exceptions import InvalidInput
from lrs.usecases.storage import open_storage


def cli(*args):
    return CliRunner().invoke(main, list(args))


def test_users_are_created_brought_up_to_date_and_then_unchanged():
    store = MemoryEnrollmentStore()
    store.create_user("bob", {"email": "bob@example.org"}, actor="test")
    rows = parse_rows(
        b"username,email,is_staff,profile\r\n"
        b'ada,ada@example.org,true,"{""home"": ""Ockham""}"\r\n'
        b"bob,robert@example.org,false,\r\n"
        b"cy,not-an-email,,\r\n"
        b"dee,,maybe,\r\n",
        USER_COLUMNS,
    )
    results = bulk_users(store, rows, actor="cli:test")
    assert [(result.username, result.result) for result in results] == [
        ("ada", "created"),
        ("bob", "updated"),
        ("cy", "error"),
        ("dee", "error"),
    ]
    assert "invalid email" in results[2].reason and "true or false" in results[3].reason
    ada = store.get_user("ada")
    assert ada.is_staff and ada.profile == {"home": "Ockham"}
    assert store.get_user("bob").email == "robert@example.org"
    again = bulk_users(store, rows[:2], actor="cli:test")
    assert [result.result for result in again] == ["unchanged", "unchanged"]
    assert len(store.history("bob")) == 2  # created, then one update


def test_a_dry_run_of_users_writes_nothing_and_follows_the_file():
    store = MemoryEnrollmentStore()
    rows = [{"username": "ada"}, {"username": "ada", "full_name": "Ada"}, {"username": "ada"}]
    results = bulk_users(store, rows, actor="cli:test", dry_run=True)
    assert [result.result for result in results] == ["created", "updated", "unchanged"]
    assert list(store.list_users()) == []


def test_ndjson_rows_and_their_errors():
    rows = parse_rows(b'{"username": "ada", "is_active": false}\n\n{"username": "bob"}\n')
    assert rows == [{"username": "ada", "is_active": False}, {"username": "bob"}]
    for data, message in [
        (b'{"username": "ada"}\n[1]\n', "line 2 is not a JSON object"),
        (b'{"username": "ada"}\n{oops\n', "line 2 is not JSON"),
        (b"username,colour\nada,red\n", "unknown CSV columns: colour"),
    ]:
        try:
            parse_rows(data, USER_COLUMNS)
        except InvalidInput as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"{data!r} was read")


def test_the_commands_import_users_then_enrollments(tmp_path):
    url = f"sqlite:///{tmp_path}/lrs.db"
    users = tmp_path / "users.ndjson"
    users.write_text(
        "\n".join(json.dumps(row) for row in [{"username": "ada"}, {"username": "b b"}]) + "\n"
    )
    result = cli("import", "users", str(users), "--storage", url, "--dry-run")
    assert "dry run: 1 created, 1 error" in result.output
    result = cli("import", "users", str(users), "--storage", url)
    assert result.exit_code == 1
    assert "2\tb b\terror" in result.output
    enrollments = tmp_path / "enrollments.csv"
    enrollments.write_text("username,course_key\nada,course-v1:Org+CS101+2026\n")
    result = cli("import", "enrollments", str(enrollments), "--storage", url)
    assert result.exit_code == 0, result.output
    assert "1\tada\tcourse-v1:Org+CS101+2026\tcreated" in result.output
    result = cli("enrollments", "import", str(enrollments), "--storage", url)
    assert "1 unchanged" in result.output
    with open_storage(url) as stores:
        assert [user.username for user in stores.enrollments.list_users()] == ["ada"]
