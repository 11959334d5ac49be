"""Importing statements from files: checked as POST checks them, idempotent, a batch at a time."""

import io
import json
import uuid

import orjson
import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.imports.sources import UnreadableFile, read_statements
from lrs.imports.statements import ImportSummary, LocalTarget, import_statements
from lrs.testing import AUTHORITY, statement
from lrs.usecases.storage import open_storage
from lrs.xapi.statements.base import StatementQuery
from tests.support import BACKENDS, storage_for

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


@pytest.fixture(params=BACKENDS)
def storage(request, tmp_path):
    stores = storage_for(request.param, tmp_path)
    if stores is None:
        stores = open_storage("memory://")
    yield stores
    stores.close()


def ndjson(*statements):
    return io.BytesIO(b"".join(orjson.dumps(item) + b"\n" for item in statements))


def run(storage, source, **options):
    return import_statements(read_statements(source), LocalTarget(storage), AUTHORITY, **options)


def stored_ids(storage):
    found = storage.statements.query(StatementQuery(ascending=True, with_voided=True, limit=10**6))
    return [record.id for record in found]


def test_a_file_is_stored_and_a_second_run_skips_everything(storage):
    source = [statement(n, timestamp=f"2026-03-01T10:{n:02d}:00Z") for n in range(12)]
    summary = run(storage, ndjson(*source), batch_size=5)
    assert (summary.read, summary.stored, summary.skipped) == (12, 12, 0)
    assert not summary.failed
    assert sorted(stored_ids(storage)) == sorted(item["id"] for item in source)
    # Progress is kept as over HTTP: one summary per (learner, activity).
    assert len(storage.progress.summaries()) == 1
    again = run(storage, ndjson(*source))
    assert (again.stored, again.skipped) == (0, 12)
    assert storage.statements.count() == 12


def test_conflicts_and_invalid_statements_are_reported_and_the_rest_go_on(storage):
    run(storage, ndjson(statement(0)))
    other = statement(0, verb="http://adlnet.gov/expapi/verbs/failed")
    bad_verb = statement(2, verb="not an iri")
    source = io.BytesIO(
        b"\n".join(
            [
                orjson.dumps(other),
                orjson.dumps(statement(1)),
                b"{not json",
                orjson.dumps(bad_verb),
                b"",
                orjson.dumps([1, 2]),
                orjson.dumps(statement(3)),
            ]
        )
    )
    summary = run(storage, source, batch_size=2)
    assert summary.conflicts == [("line 1", statement(0)["id"])]
    assert [where for where, _ in summary.invalid] == ["line 3", "line 4", "line 6"]
    assert "not JSON" in summary.invalid[0][1]
    assert "verb.id" in summary.invalid[1][1]
    assert summary.stored == 2 and summary.failed
    assert sorted(stored_ids(storage)) == sorted([statement(n)["id"] for n in (0, 1, 3)])
    record = storage.statements.get(statement(0)["id"])
    assert record is not None and "completed" in record.text  # the conflict changed nothing


def test_a_dry_run_counts_and_writes_nothing(storage):
    run(storage, ndjson(statement(0)))
    before = stored_ids(storage)
    summaries = storage.progress.summaries()
    summary = run(
        storage,
        ndjson(statement(0), statement(1), statement(0, verb="http://x.org/v"), {"actor": 1}),
        dry_run=True,
    )
    assert (summary.stored, summary.skipped, len(summary.conflicts)) == (1, 1, 1)
    assert [where for where, _ in summary.invalid] == ["line 4"]
    assert stored_ids(storage) == before
    assert storage.progress.summaries() == summaries


def test_a_statement_without_an_id_is_stored_once_however_often_imported(storage):
    anonymous = {key: value for key, value in statement(0).items() if key != "id"}
    first = run(storage, ndjson(anonymous, anonymous))
    assert (first.stored, first.skipped) == (1, 1)
    second = run(storage, ndjson(anonymous))
    assert (second.stored, second.skipped) == (0, 1)
    assert storage.statements.count() == 1


def test_voided_statements_come_back_voided_and_a_file_repeating_an_id_is_checked(storage):
    reference = {"objectType": "StatementRef", "id": statement(0)["id"]}
    voiding = statement(1, verb=VOIDED, object=reference)
    summary = run(storage, ndjson(statement(0), voiding, statement(0)))
    assert (summary.stored, summary.skipped) == (2, 1)
    target = storage.statements.get(statement(0)["id"])
    assert target is not None and target.voided


def test_a_batch_whose_voiding_breaks_a_rule_is_stored_statement_by_statement(storage):
    run(storage, ndjson(statement(0)))
    first = statement(
        1, verb=VOIDED, object={"objectType": "StatementRef", "id": statement(0)["id"]}
    )
    run(storage, ndjson(first))
    second = statement(
        2, verb=VOIDED, object={"objectType": "StatementRef", "id": statement(1)["id"]}
    )
    summary = run(storage, ndjson(statement(3), second, statement(4)))
    assert summary.stored == 2
    assert [where for where, _ in summary.invalid] == ["line 2"]
    assert "cannot be voided" in summary.invalid[0][1]
    assert storage.statements.get(statement(2)["id"]) is None


def test_preserve_stored_keeps_the_source_stored_time_and_authority(storage):
    source_authority = {"objectType": "Agent", "mbox": "mailto:old-lrs@example.org"}
    item = statement(0, stored="2019-05-01T12:00:00.123Z", authority=source_authority)
    plain = statement(1, stored="2019-05-01T12:00:01Z")
    summary = run(storage, ndjson(item, plain, statement(2)), preserve_stored=True)
    assert summary.stored == 3
    kept = json.loads(storage.statements.get(item["id"]).text)
    assert kept["stored"] == "2019-05-01T12:00:00.123000Z"
    assert kept["authority"] == source_authority
    assert json.loads(storage.statements.get(plain["id"]).text)["authority"] == AUTHORITY
    newest = storage.statements.query(StatementQuery(limit=1))
    assert newest[0].id == statement(2)["id"]  # stored now: after the kept times
    bad = run(storage, ndjson(statement(5, stored="yesterday")), preserve_stored=True)
    assert "stored must be" in bad.invalid[0][1]


def test_a_json_array_and_a_statement_result_are_read_too():
    items = [statement(n) for n in range(3)]
    array = list(read_statements(io.BytesIO(json.dumps(items, indent=2).encode())))
    assert [item.where for item in array] == ["statements[0]", "statements[1]", "statements[2]"]
    assert [item.statement for item in array] == items
    result = json.dumps({"statements": items, "more": "/xAPI/statements?more=abc"}, indent=1)
    assert [item.statement for item in read_statements(io.BytesIO(result.encode()))] == items
    one = list(read_statements(io.BytesIO(json.dumps(items[0], indent=2).encode())))
    assert [item.statement for item in one] == items[:1]
    assert list(read_statements(io.BytesIO(b"\n\n"))) == []
    lines = list(read_statements(io.BytesIO(b"\n\n" + orjson.dumps(items[0]) + b"\n")))
    assert [item.where for item in lines] == ["line 3"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"[1, 2", "not JSON"),
        (b'{"statements": 3}', "not an array"),
        (b'{\n  "actor": {\n', "not JSON"),
    ],
)
def test_a_file_that_is_not_statements_is_refused_whole(data, message):
    with pytest.raises(UnreadableFile, match=message):
        list(read_statements(io.BytesIO(data)))


def cli(*args, **kwargs):
    return CliRunner().invoke(main, list(args), **kwargs)


def test_the_command_imports_reports_and_exits_non_zero_on_problems(tmp_path):
    url = f"sqlite:///{tmp_path}/lrs.db"
    path = tmp_path / "statements.ndjson"
    path.write_bytes(ndjson(statement(0), statement(1)).getvalue() + b"nope\n")
    result = cli("import", "statements", str(path), "--storage", url, "--dry-run")
    assert result.exit_code == 1
    assert "line 3: invalid: not JSON" in result.output
    assert "dry run: would store 2, skipped 0" in result.output
    result = cli("import", "statements", str(path), "--storage", url)
    assert (
        "stored 2, skipped 0 (stored already), conflicts 0, invalid 1 (of 3 read)" in result.output
    )
    path.write_bytes(ndjson(statement(0), statement(2)).getvalue())
    result = cli("import", "statements", "-", "--storage", url, input=path.read_bytes())
    assert result.exit_code == 0, result.output
    assert "stored 1, skipped 1" in result.output
    with open_storage(url) as stores:
        authority = json.loads(stores.statements.get(statement(2)["id"]).text)["authority"]
    assert authority["account"]["name"] == "lrs-import"


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give a file, or --from-lrs"),
        (["FILE", "--since", "2026-01-01"], "--since is for --from-lrs"),
        (["FILE", "--to", "http://127.0.0.1:9/xAPI"], "needs --auth"),
        (["FILE", "--to", "http://x/xAPI", "--auth", "k:s", "--preserve-stored"], "not --to"),
        (["--from-lrs", "http://127.0.0.1:9/xAPI", "--auth", "k:s", "--since", "soon"], "soon"),
    ],
)
def test_the_command_refuses_bad_options(tmp_path, args, message):
    path = tmp_path / "s.ndjson"
    path.write_bytes(ndjson(statement(0)).getvalue())
    args = [str(path) if arg == "FILE" else arg for arg in args]
    result = cli("import", "statements", *args, "--storage", f"sqlite:///{tmp_path}/lrs.db")
    assert result.exit_code == 2
    assert message in result.output


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "s.json"
    path.write_bytes(b'[{"id": ')
    result = cli("import", "statements", str(path), "--storage", f"sqlite:///{tmp_path}/lrs.db")
    assert result.exit_code == 1
    assert "Error: the file is not JSON" in result.output


def test_an_unreachable_lrs_is_a_clear_error(tmp_path):
    result = cli(
        "import",
        "statements",
        "--from-lrs",
        "http://127.0.0.1:9/xAPI",
        "--auth",
        "k:s",
        "--storage",
        f"sqlite:///{tmp_path}/lrs.db",
    )
    assert result.exit_code == 1
    assert "cannot be reached" in result.output and "run the same command again" in result.output


def test_ids_made_for_statements_without_one_are_uuids():
    anonymous = {key: value for key, value in statement(0).items() if key != "id"}
    with open_storage("memory://") as stores:
        run(stores, ndjson(anonymous))
        (made,) = stored_ids(stores)
    assert uuid.UUID(made).version == 5


def test_a_broken_first_line_is_reported_as_any_other_line(storage):
    for broken in (b'{"id": nope\n', b"{\n", b"not json\n"):
        data = broken + ndjson(statement(0), statement(1)).getvalue()
        summary = run(storage, io.BytesIO(data))
        assert [where for where, _ in summary.invalid] == ["line 1"], broken
        assert summary.stored + summary.skipped == 2


def test_a_copy_identical_to_the_stored_one_is_skipped_whatever_came_before_it(storage):
    run(storage, ndjson(statement(0)))
    other = statement(0, verb="http://adlnet.gov/expapi/verbs/failed")
    outcomes = []
    summary = run(
        storage,
        ndjson(other, statement(0), other, statement(1)),
        summary=ImportSummary(on_outcome=lambda *outcome: outcomes.append(outcome)),
    )
    assert {where: outcome for where, _, outcome, _ in outcomes} == {
        "line 1": "conflict",
        "line 2": "skipped",  # the same as the stored one
        "line 3": "skipped",  # the same as line 1: the file repeats itself
        "line 4": "stored",
    }
    assert summary.conflicts == [("line 1", statement(0)["id"])]


def test_a_second_copy_with_other_content_than_the_first_is_a_conflict_in_a_dry_run_too(storage):
    other = statement(0, verb="http://adlnet.gov/expapi/verbs/failed")
    for dry_run in (True, False):
        summary = run(storage, ndjson(statement(0), other), dry_run=dry_run)
        assert (summary.stored, summary.conflicts) == (1, [("line 2", statement(0)["id"])])
        if not dry_run:
            assert storage.statements.count() == 1


def test_a_statement_larger_than_post_takes_is_invalid_and_not_read_whole(storage, tmp_path):
    huge = statement(0, result={"response": "x" * 2_000_000})
    summary = run(storage, ndjson(huge, statement(1)))
    assert [where for where, _ in summary.invalid] == ["line 1"]
    assert "LRS_MAX_BODY_BYTES" in summary.invalid[0][1]
    assert stored_ids(storage) == [statement(1)["id"]]
    lines = list(read_statements(ndjson(huge, statement(1)), max_line=100_000))
    assert lines[0].error == "the line is longer than 100,000 bytes"
    assert lines[1].statement == statement(1)


def test_a_duration_beyond_a_year_is_imported_not_a_crash(storage):
    summary = run(storage, ndjson(statement(0, result={"duration": "P99999999999Y"}), statement(1)))
    assert (summary.stored, summary.failed) == (2, False)


def test_the_command_writes_what_became_of_each_line(tmp_path):
    url = f"sqlite:///{tmp_path}/lrs.db"
    path = tmp_path / "statements.ndjson"
    path.write_bytes(b"nope\n" + ndjson(statement(0), statement(0)).getvalue())
    report = tmp_path / "report.ndjson"
    result = cli("import", "statements", str(path), "--storage", url, "--report", str(report))
    assert result.exit_code == 1
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    outcomes = {line["where"]: line for line in lines}
    assert {where: line["outcome"] for where, line in outcomes.items()} == {
        "line 1": "invalid",
        "line 2": "stored",
        "line 3": "skipped",
    }
    assert outcomes["line 1"]["reason"].startswith("not JSON")
    assert outcomes["line 2"]["id"] == statement(0)["id"]


def test_a_csv_export_is_refused_in_one_line_that_says_what_is_read(storage, tmp_path):
    from lrs.usecases.export_formats import csv_line

    data = (
        "\ufeffid,timestamp,actor_name\n"
        + "".join(
            csv_line([str(uuid.uuid4()), "2026-01-01T00:00:00Z", f"Learner {n}"]) for n in range(3)
        )
    ).encode()
    with pytest.raises(UnreadableFile) as refused:
        list(read_statements(io.BytesIO(data)))
    message = str(refused.value)
    assert message.startswith("the file is CSV, not statements") and "NDJSON" in message
    assert "\n" not in message
    with pytest.raises(UnreadableFile, match="not JSON, not statements"):
        list(read_statements(io.BytesIO(b"hello\nworld\n")))
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    result = cli("import", "statements", str(path), "--storage", f"sqlite:///{tmp_path}/lrs.db")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "the file is CSV" in result.output
