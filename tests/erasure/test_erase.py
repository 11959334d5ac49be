"""A learner erased: nothing of who they were is left in any store, on any backend."""

import array
import dataclasses
import hashlib
import uuid

import pytest

from lrs.enrollments import CourseRole
from lrs.erasure.base import PSEUDONYM_PREFIX
from lrs.exceptions import Conflict, DoesNotExist, InvalidInput
from lrs.testing import COURSE, block
from lrs.usecases.erasure import erase_learner, identities
from lrs.xapi.documents import JSON, Context, Resource
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for

HOMEPAGE = "https://lms.example.org"
XAPI = {**basic(*ADMIN), "X-Experience-API-Version": "2.0.0"}
# Made to be found by a plain substring search, and nowhere else.
USERNAME = "ada-l815"
EMAIL = "ada.l815@example.org"
FULL_NAME = "Augusta Ada King-Noel"
SHA1SUM = hashlib.sha1(f"mailto:{EMAIL}".encode()).hexdigest()
PERSONAL = (USERNAME, EMAIL, "Augusta", SHA1SUM, "Ockham")
BOB = {"mbox": "mailto:bob@example.org", "name": "Bob"}


def statement(n, actor, **fields):
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": f"{COURSE.replace('course-v1:', 'block-v1:')}+type@html+block@b{n % 3}"},
        "timestamp": f"2026-03-02T09:{n:02d}:00Z",
        **fields,
    }


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    return app_on(storage_for(request.param, tmp_path))


def app_on(storage):
    """An app on ``storage`` holding the learner and bob, everywhere a learner can be."""
    app = make_app(storage, ACCOUNT_HOMEPAGE=HOMEPAGE)
    stores = app.extensions["lrs"]
    stores.enrollments.create_user(
        USERNAME,
        {"email": EMAIL, "full_name": FULL_NAME, "profile": {"home": "Ockham Park"}},
        actor="test",
    )
    stores.enrollments.create_user("bob", {"email": "bob@example.org"}, actor="test")
    for name in (USERNAME, "bob"):
        stores.enrollments.enroll(name, COURSE, actor="test", role=CourseRole.learner)
    stores.credentials.create("learner", username=USERNAME, name=f"{FULL_NAME}'s tablet")
    account = {"account": {"homePage": HOMEPAGE, "name": USERNAME}}
    by_mail = {"mbox": f"mailto:{EMAIL}", "name": FULL_NAME}
    batch = [
        statement(0, account),
        statement(1, by_mail, result={"completion": True}),
        statement(2, {"mbox_sha1sum": SHA1SUM}),
        statement(3, BOB, context={"instructor": by_mail}),
        statement(4, BOB, object={"objectType": "Group", "member": [by_mail, BOB]}),
        statement(
            5, BOB, context={"contextAgents": [{"objectType": "contextAgent", "agent": by_mail}]}
        ),
        statement(6, BOB),
        statement(
            7,
            BOB,
            verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
            object={"objectType": "StatementRef", "id": str(uuid.UUID(int=4))},
        ),
    ]
    response = app.test_client().post("/xAPI/statements", json=batch, headers=XAPI)
    assert response.status_code == 200, response.json
    stores.state.set(USERNAME, block(0), {"answer": 42, "note": FULL_NAME})
    stores.state.set("bob", block(0), {"answer": 7})
    # Assignments: by username, and by e-mail (its failed link quotes the address).
    stores.assignments.create(COURSE, username=USERNAME, note="Ockham retake", actor="test")
    by_mail = stores.assignments.create(COURSE, email=EMAIL, actor="test", note="for Augusta")
    with pytest.raises(Conflict):
        stores.assignments.link(by_mail.id, USERNAME, actor="test")
    for context in (
        Context(Resource.state, "http://example.org/a0", f"mbox:mailto:{EMAIL}"),
        Context(Resource.agent_profile, "", f"account:{HOMEPAGE}|{USERNAME}"),
    ):
        stores.documents.put(context, "notes", b'{"about": "Ockham"}', JSON, updated_us=1)
    return app


def strings(value, seen=None):
    """Every string (and bytes, decoded) reachable from ``value``: a memory store's dump."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes | bytearray | memoryview):
        yield bytes(value).decode("utf-8", "replace")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key, seen)
            yield from strings(item, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from strings(item, seen)
    elif isinstance(value, array.array | int | float | bool) or value is None:
        return
    elif dataclasses.is_dataclass(value) or hasattr(value, "__dict__"):
        for item in vars(value).values():
            yield from strings(item, seen)


def dump(storage):
    """Everything every store holds, as text: each table, collection or object."""
    database = getattr(storage.statements, "_database", None)
    if database is not None:  # SQLite: every row of every table
        connection = database.connection()
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return "\n".join(
            repr(row)
            for (table,) in tables.fetchall()
            for row in connection.execute(f'SELECT * FROM "{table}"')
        )
    collection = getattr(storage.statements, "_collection", None)
    if collection is not None:  # MongoDB: every document of every collection
        db = collection.database
        return "\n".join(
            repr(document) for name in db.list_collection_names() for document in db[name].find()
        )
    return "\n".join(strings(storage))


def test_nothing_of_the_learner_is_left_and_everything_else_is(app):
    storage = app.extensions["lrs"]
    accounts = app.extensions["lrs-accounts"]
    storage.erasures.salt()  # made at the first erasure, dry or not
    before = dump(storage)
    assert all(personal in before for personal in PERSONAL)  # the check can fail
    counts = storage.enrollments.course_counts(COURSE)
    bob_statement = storage.statements.get(str(uuid.UUID(int=7)))
    bob_state = storage.state.get("bob", block(0))
    plan = erase_learner(
        storage, accounts, USERNAME, reason="GDPR request 17", credential="cli", dry_run=True
    )
    assert plan.counts["statements"] == 7 and plan.counts["users"] == 1
    assert dump(storage) == before  # a dry run changes nothing

    erasure = erase_learner(storage, accounts, USERNAME, reason="GDPR request 17", credential="cli")

    after = dump(storage)
    for personal in PERSONAL:
        assert personal not in after, personal
    assert erasure.pseudonym.startswith(PSEUDONYM_PREFIX)
    assert erasure.counts == {**plan.counts, "users": 1}
    assert storage.erasures.list() == [erasure]
    assert storage.enrollments.course_counts(COURSE) == counts
    assert storage.statements.get(str(uuid.UUID(int=7))) == bob_statement
    assert storage.state.get("bob", block(0)) == bob_state
    # The learner's progress is the pseudonym's now: the course report keeps them.
    pseudonym = accounts.key(erasure.pseudonym)
    assert {summary.learner for summary in storage.progress.summaries(course=COURSE)} == {
        pseudonym,
        "mbox:mailto:bob@example.org",
    }
    # Run again: every step is repeated, nothing is left to change, the record stays.
    summaries = storage.progress.summaries(course=COURSE)
    statements = [storage.statements.get(str(uuid.UUID(int=n))) for n in range(1, 9)]
    assert erase_learner(storage, accounts, USERNAME, reason="again", credential="x") == erasure
    assert storage.progress.summaries(course=COURSE) == summaries
    assert [storage.statements.get(str(uuid.UUID(int=n))) for n in range(1, 9)] == statements
    assert not any(personal in dump(storage) for personal in PERSONAL)


def test_deleting_the_statements_removes_them_their_progress_and_unused_attachments(app):
    from lrs.xapi.attachments import AttachmentData

    storage = app.extensions["lrs"]
    accounts = app.extensions["lrs-accounts"]
    data = b"Ada's notes from Ockham"
    sha2 = hashlib.sha256(data).hexdigest()
    storage.attachments.put([AttachmentData(sha2, "text/plain", data)])
    attached = statement(
        9,
        {"mbox": f"mailto:{EMAIL}"},
        attachments=[
            {
                "usageType": "http://example.org/notes",
                "display": {"en": "notes"},
                "contentType": "text/plain",
                "length": len(data),
                "sha2": sha2,
                "fileUrl": "http://example.org/notes.txt",
            }
        ],
    )
    response = app.test_client().post("/xAPI/statements", json=attached, headers=XAPI)
    assert response.status_code == 200, response.json
    kept = storage.statements.get(str(uuid.UUID(int=7)))
    erasure = erase_learner(
        storage, accounts, USERNAME, reason="request", credential="cli", delete_statements=True
    )
    assert erasure.statements == "deleted"
    # 0, 1, 2 (actor), 3 (instructor), 4 (member), 5 (context agent), 9: all gone.
    assert erasure.counts["statements_deleted"] == 7 and erasure.counts["attachments"] == 1
    assert storage.statements.count() == 2  # bob's 6, and 7 (which voided 3)
    assert storage.statements.get(str(uuid.UUID(int=7))) == kept
    assert storage.attachments.get(sha2) is None
    pseudonym = accounts.key(erasure.pseudonym)
    assert storage.progress.summaries(learner=pseudonym) == []
    after = dump(storage)
    assert not any(personal in after for personal in PERSONAL)
    assert "Ockham" not in after  # the attachment's data went too


def test_an_erasure_cut_short_is_finished_by_running_it_again(app, monkeypatch):
    storage = app.extensions["lrs"]
    accounts = app.extensions["lrs-accounts"]
    broken = storage.credentials.retire_user

    def failing(*args):
        raise RuntimeError("the store went away")

    monkeypatch.setattr(storage.credentials, "retire_user", failing)
    with pytest.raises(RuntimeError):
        erase_learner(storage, accounts, USERNAME, reason="request", credential="cli")
    (unfinished,) = storage.erasures.list()
    assert unfinished.finished is None
    monkeypatch.setattr(storage.credentials, "retire_user", broken)
    erasure = erase_learner(storage, accounts, USERNAME, reason="request", credential="cli")
    assert erasure.finished is not None and erasure.started == unfinished.started
    after = dump(storage)
    assert not any(personal in after for personal in PERSONAL)


def test_bad_requests_change_nothing(app):
    storage = app.extensions["lrs"]
    accounts = app.extensions["lrs-accounts"]
    storage.erasures.salt()
    before = dump(storage)
    with pytest.raises(InvalidInput, match="reason"):
        erase_learner(storage, accounts, USERNAME, reason="  ", credential="cli")
    with pytest.raises(DoesNotExist, match="nobody"):
        erase_learner(storage, accounts, "nobody", reason="request", credential="cli")
    assert dump(storage) == before


def test_identities_are_the_account_and_both_forms_of_the_mailbox():
    from lrs.xapi.agents import AccountAgents

    keys = identities(AccountAgents(HOMEPAGE), USERNAME, ["Ada.L815@example.org", EMAIL])
    assert keys == {
        f"account:{HOMEPAGE}|{USERNAME}",
        "mbox:mailto:Ada.L815@example.org",
        f"mbox:mailto:{EMAIL}",
        "mbox_sha1sum:" + hashlib.sha1(b"mailto:Ada.L815@example.org").hexdigest(),
        f"mbox_sha1sum:{SHA1SUM}",
    }


ERASE = f"/api/v1/users/{USERNAME}/erase"


def test_admins_erase_over_http_and_read_the_audit_records(app):
    from lrs.credentials.base import Role

    client = app.test_client()
    admin = basic(*ADMIN)
    storage = app.extensions["lrs"]
    storage.erasures.salt()
    coach, secret = storage.credentials.create(Role.coach, username="bob")
    before = dump(storage)
    plan = client.post(ERASE, json={"reason": "ticket 9", "dry_run": True}, headers=admin)
    assert plan.status_code == 200, plan.json
    assert plan.json["finished"] is None and plan.json["counts"]["statements"] == 7
    assert dump(storage) == before
    for bad, status in (
        ({"reason": ""}, 400),
        ({}, 400),
        ({"reason": "x", "dry_run": "maybe"}, 400),
    ):
        assert client.post(ERASE, json=bad, headers=admin).status_code == status
    assert (
        client.post("/api/v1/users/nobody/erase", json={"reason": "x"}, headers=admin).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/users/no%20spaces/erase", json={"reason": "x"}, headers=admin
        ).status_code
        == 400
    )
    refused = client.post(ERASE, json={"reason": "x"}, headers=basic(coach.key, secret))
    assert refused.status_code == 403
    assert dump(storage) == before

    done = client.post(ERASE, json={"reason": "ticket 9"}, headers=admin)
    assert done.status_code == 200, done.json
    assert done.json["credential"] == ADMIN[0] and done.json["finished"]
    listed = client.get("/api/v1/erasures", headers=admin)
    assert [item["pseudonym"] for item in listed.json] == [done.json["pseudonym"]]
    assert not any(personal in repr(listed.json) for personal in PERSONAL)
    assert client.get("/api/v1/erasures", headers=basic(coach.key, secret)).status_code == 403
    assert client.post(ERASE, json={"reason": "again"}, headers=admin).json == done.json


def test_the_erase_command_and_the_list_of_erasures(tmp_path):
    from click.testing import CliRunner

    from lrs.cli import main
    from lrs.usecases.storage import open_storage

    url = f"sqlite:///{tmp_path}/lrs.db"
    storage = open_storage(url)
    storage.enrollments.create_user(USERNAME, {"email": EMAIL, "full_name": FULL_NAME}, actor="t")
    storage.close()
    runner = CliRunner()
    refused = runner.invoke(
        main, ["learners", "erase", USERNAME, "--reason", " ", "--storage", url]
    )
    assert refused.exit_code == 1 and "reason" in refused.output
    dry = runner.invoke(
        main, ["learners", "erase", USERNAME, "--reason", "r", "--dry-run", "--storage", url]
    )
    assert dry.exit_code == 0, dry.output
    assert "Would change:" in dry.output and "users: 1" in dry.output
    done = runner.invoke(main, ["learners", "erase", USERNAME, "--reason", "r", "--storage", url])
    assert done.exit_code == 0, done.output
    assert "Erased as retired-" in done.output
    listed = runner.invoke(main, ["learners", "erasures", "--storage", url])
    assert listed.exit_code == 0 and "retired-" in listed.output and "finished" in listed.output
    assert USERNAME not in listed.output
    unknown = runner.invoke(
        main, ["learners", "erase", "nobody", "--reason", "r", "--storage", url]
    )
    assert unknown.exit_code == 1 and "nobody" in unknown.output


def test_the_sqlite_file_and_its_log_keep_nothing_of_the_learner(tmp_path):
    from lrs.usecases.storage import open_storage

    storage = open_storage(f"sqlite:///{tmp_path}/lrs.db")
    app = app_on(storage)
    erase_learner(
        storage,
        app.extensions["lrs-accounts"],
        USERNAME,
        reason="request",
        credential="cli",
    )
    raw = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    for personal in PERSONAL:
        assert personal.encode() not in raw, personal
    storage.close()


def test_an_agent_known_only_from_statements_is_erased(app):
    storage = app.extensions["lrs"]
    accounts = app.extensions["lrs-accounts"]
    stranger = {"mbox": "mailto:visitor.x77@example.net", "name": "Vera Visitor"}
    sent = [statement(20 + n, stranger) for n in range(3)]
    sent.append(
        statement(23, {"mbox_sha1sum": hashlib.sha1(b"mailto:visitor.x77@example.net").hexdigest()})
    )
    response = app.test_client().post("/xAPI/statements", json=sent, headers=XAPI)
    assert response.status_code == 200, response.json
    admin = basic(*ADMIN)
    http = app.test_client()
    service, secret = storage.credentials.create("service", name="lms")
    refused = http.post(
        "/api/v1/agents/erase",
        json={"agent": stranger, "reason": "r"},
        headers=basic(service.key, secret),
    )
    assert refused.status_code == 403  # admins only, as a learner's erasure
    plan = http.post(
        "/api/v1/agents/erase",
        json={"agent": stranger, "reason": "r", "dry_run": True},
        headers=admin,
    )
    assert plan.status_code == 200 and plan.json["counts"]["statements"] == 4
    done = http.post("/api/v1/agents/erase", json={"agent": stranger, "reason": "r"}, headers=admin)
    assert done.status_code == 200, done.json
    after = dump(storage)
    assert "visitor.x77" not in after and "Vera Visitor" not in after
    assert "Augusta" in after  # the learner with a user is not touched
    assert storage.progress.summaries(learner="mbox:mailto:visitor.x77@example.net") == []
    # Unknown agents, bad agents, and a user's own account (erased as the user).
    nobody = http.post(
        "/api/v1/agents/erase",
        json={"agent": {"mbox": "mailto:nobody@example.net"}, "reason": "r"},
        headers=admin,
    )
    assert nobody.status_code == 404
    bad = http.post(
        "/api/v1/agents/erase", json={"agent": {"name": "x"}, "reason": "r"}, headers=admin
    )
    assert bad.status_code == 400 and "identifier" in bad.json["message"]
    from lrs.usecases.erasure import erase_agent

    erasure = erase_agent(storage, accounts, accounts.agent(USERNAME), reason="r", credential="cli")
    assert erasure.counts["users"] == 1  # the user's own erasure
    assert not any(personal in dump(storage) for personal in PERSONAL)


def test_the_erase_command_takes_an_agent(tmp_path):
    from click.testing import CliRunner

    from lrs.cli import main
    from lrs.usecases.storage import open_storage

    url = f"sqlite:///{tmp_path}/lrs.db"
    app = app_on(open_storage(url))
    sent = statement(30, {"mbox": "mailto:walkin.q5@example.net"})
    assert app.test_client().post("/xAPI/statements", json=sent, headers=XAPI).status_code == 200
    app.extensions["lrs"].close()
    runner = CliRunner()
    both = runner.invoke(
        main, ["learners", "erase", USERNAME, "--agent", "{}", "--reason", "r", "--storage", url]
    )
    assert both.exit_code == 2
    bad = runner.invoke(
        main, ["learners", "erase", "--agent", "nope", "--reason", "r", "--storage", url]
    )
    assert bad.exit_code == 2 and "--agent" in bad.output
    done = runner.invoke(
        main,
        [
            "learners",
            "erase",
            "--agent",
            '{"mbox": "mailto:walkin.q5@example.net"}',
            "--reason",
            "r",
            "--storage",
            url,
        ],
    )
    assert done.exit_code == 0, done.output
    assert "statements: 1" in done.output
    with open_storage(url) as stores:
        assert "walkin.q5" not in dump(stores)
