"""Forwarding to other LRSs: live servers of this project on loopback, and scripted targets.

Every statement arrives once, with its id, through a target that goes down
and comes back; refused statements become dead letters and the rest flow;
one sender works a target at a time; an erasure reaches what still waits.
"""

import uuid
from dataclasses import replace

import httpx
import orjson
import pytest

from lrs.clock import Clock
from lrs.exceptions import InvalidInput
from lrs.forwarding.base import PAUSED
from lrs.testing import statement
from lrs.usecases import forwarding
from lrs.usecases.forwarding import Sender, add_target, checked_filters, set_state, status
from lrs.usecases.storage import open_storage
from lrs.xapi.statements.base import StatementQuery
from tests.support import ADMIN, LiveServer, basic, make_app

XAPI = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}
AUTH = ":".join(ADMIN)


class FakeClock(Clock):
    """A clock the test moves (back-off waits pass at once)."""

    def __init__(self, start_us: int) -> None:
        super().__init__()
        self.at = start_us

    def now_us(self, count: int = 1) -> int:
        self.at += count
        return self.at


def post(app, statements):
    response = app.test_client().post("/xAPI/statements", json=statements, headers=XAPI)
    assert response.status_code == 200, response.json
    return response


def ids_at(storage):
    found = storage.statements.query(StatementQuery(limit=10_000, ascending=True, with_voided=True))
    return [record.id for record in found]


def drain(sender, target_id, rounds=100):
    moved = 0
    for _ in range(rounds):
        step = sender.run_once(target_id)
        if not step:
            return moved
        moved += step
    raise AssertionError("the stream did not end")


@pytest.fixture
def target_server(tmp_path):
    """Another LRS of this project, on SQLite, on loopback."""
    live = LiveServer()
    live.storage = open_storage(f"sqlite:///{tmp_path / 'target.db'}")
    live.app = make_app(live.storage)
    yield live
    live.stop()
    live.storage.close()


def test_every_statement_arrives_once_through_an_outage(tmp_path, target_server):
    source = make_app(open_storage(f"sqlite:///{tmp_path / 'source.db'}"))
    storage = source.extensions["lrs"]
    for start in range(0, 250, 50):
        post(source, [statement(n) for n in range(start, start + 50)])
    target = add_target(storage, f"{target_server.url}/xAPI", AUTH, from_start=True)
    clock = FakeClock(10**18)
    sender = Sender(storage, clock=clock)
    assert drain(sender, target.id) == 250
    assert ids_at(target_server.storage) == ids_at(storage)
    # The target goes down; statements keep coming; the sender backs off.
    port = int(target_server.url.rsplit(":", 1)[1])
    target_server.stop()
    post(source, [statement(n) for n in range(250, 300)])
    assert sender.run_once(target.id) == 0
    waiting = storage.forwarding.get(target.id)
    assert waiting.failures == 1 and waiting.last_error and waiting.next_try_us > clock.at
    assert status(storage, target.id).queued == 50
    # It comes back on the same port with its data; once the wait is over, the rest goes.
    again = LiveServer(port)
    again.app = target_server.app
    try:
        clock.at = waiting.next_try_us
        assert drain(sender, target.id) == 50
        assert ids_at(target_server.storage) == ids_at(storage)  # each once, in order
        done = storage.forwarding.get(target.id)
        assert (done.delivered, done.failures, done.last_error) == (300, 0, "")
        assert status(storage, target.id).queued == 0
        # Sent again from the start (a lost cursor): the target keeps one of each.
        storage.forwarding.change(target.id, lambda held: replace(held, cursor=None))
        assert drain(sender, target.id) == 300
        assert len(ids_at(target_server.storage)) == 300
    finally:
        again.stop()


def test_a_target_is_checked_before_it_is_added(target_server):
    storage = open_storage("memory://")
    bad = [
        ("ftp://x.org/xAPI", AUTH, {}, "must be http"),
        (f"{target_server.url}/xAPI", "no-colon", {}, "KEY:SECRET"),
        (f"{target_server.url}/xAPI", AUTH, {"version": "0.9"}, "version"),
        ("http://127.0.0.1:9/xAPI", AUTH, {}, "cannot be reached"),
        (f"{target_server.url}/xAPI", f"{ADMIN[0]}:wrong", {}, "refused the credential"),
        (f"{target_server.url}/nothing", AUTH, {}, "about"),
    ]
    for url, auth, options, message in bad:
        with pytest.raises(InvalidInput, match=message):
            add_target(storage, url, auth, **options)
    with pytest.raises(InvalidInput, match="not an IRI"):
        checked_filters(verbs=["completed"])
    assert storage.forwarding.targets() == []


class Scripted(httpx.BaseTransport):
    """A target LRS that answers by a script and keeps what it accepts."""

    def __init__(self, refuse=(), busy=0, retry_after=None):
        self.refuse = set(refuse)
        self.busy = busy
        self.retry_after = retry_after
        self.kept = {}
        self.requests = []

    def handle_request(self, request):
        self.requests.append((request.method, request.url.path))
        if self.busy:
            self.busy -= 1
            headers = {"Retry-After": str(self.retry_after)} if self.retry_after else {}
            return httpx.Response(503, headers=headers, text="busy")
        sent = orjson.loads(request.content)
        batch = sent if isinstance(sent, list) else [sent]
        refused = [item["id"] for item in batch if item["id"] in self.refuse]
        if refused:
            return httpx.Response(400, json={"message": f"refused {refused[0]}"})
        for item in batch:
            self.kept.setdefault(item["id"], item)
        return httpx.Response(200 if request.method == "POST" else 204, json=[])


def test_refused_statements_are_dead_letters_and_the_rest_flow():
    app = make_app()
    storage = app.extensions["lrs"]
    post(app, [statement(n) for n in range(5)])
    target = add_target(storage, "http://target.test/xAPI", AUTH, from_start=True, check=False)
    refused = statement(2)["id"]
    scripted = Scripted(refuse=[refused])
    sender = Sender(storage, transport=scripted)
    assert sender.run_once(target.id) == 5
    assert sorted(scripted.kept) == sorted(statement(n)["id"] for n in (0, 1, 3, 4))
    (letter,) = storage.forwarding.dead_letters(target.id)
    assert (letter.statement_id, letter.status) == (refused, 400)
    assert refused in letter.answer
    found = storage.forwarding.get(target.id)
    assert (found.delivered, found.dead) == (4, 1)
    # Visible over the command line and HTTP, with the target's answer.

    admin = basic(*ADMIN)
    listed = app.test_client().get(f"/api/v1/forwarding/{target.id}/dead", headers=admin).json
    assert [(item["statement_id"], item["status"]) for item in listed] == [(refused, 400)]
    assert app.test_client().get("/api/v1/forwarding/nope/dead", headers=admin).status_code == 404
    # Accepted later (the target was fixed): re-sent from the dead letters.
    scripted.refuse.clear()
    assert sender.retry_dead(target.id) == (1, 0)
    assert refused in scripted.kept and storage.forwarding.dead_letters(target.id) == []
    assert storage.forwarding.get(target.id).delivered == 5


def test_a_busy_target_is_waited_for_as_it_asks():
    app = make_app()
    storage = app.extensions["lrs"]
    post(app, [statement(0)])
    target = add_target(storage, "http://target.test/xAPI", AUTH, from_start=True, check=False)
    clock = FakeClock(10**18)
    scripted = Scripted(busy=2, retry_after=120)
    sender = Sender(storage, clock=clock, transport=scripted)
    assert sender.run_once(target.id) == 0
    waiting = storage.forwarding.get(target.id)
    assert waiting.next_try_us - clock.at >= 119_000_000  # Retry-After honoured
    assert sender.run_once(target.id) == 0 and len(scripted.requests) == 1  # not yet due
    clock.at = waiting.next_try_us
    assert sender.run_once(target.id) == 0  # busy again: a longer wait
    assert storage.forwarding.get(target.id).failures == 2
    clock.at = storage.forwarding.get(target.id).next_try_us
    assert sender.run_once(target.id) == 1 and list(scripted.kept) == [statement(0)["id"]]
    assert storage.forwarding.get(target.id).failures == 0


def test_filters_choose_what_goes_and_the_cursor_passes_the_rest():
    app = make_app()
    storage = app.extensions["lrs"]
    post(app, [statement(0), statement(1, verb="http://x.org/other"), statement(2)])
    filters = checked_filters(verbs=["http://adlnet.gov/expapi/verbs/completed"])
    target = add_target(
        storage, "http://t.test/xAPI", AUTH, filters=filters, from_start=True, check=False
    )
    scripted = Scripted()
    assert Sender(storage, transport=scripted).run_once(target.id) == 3
    assert sorted(scripted.kept) == sorted([statement(0)["id"], statement(2)["id"]])
    assert storage.forwarding.get(target.id).cursor == storage.statements.feed_end()


def test_one_sender_works_a_target_and_another_takes_over_when_its_lease_ends():
    app = make_app()
    storage = app.extensions["lrs"]
    post(app, [statement(0)])
    target = add_target(storage, "http://t.test/xAPI", AUTH, from_start=True, check=False)
    clock = FakeClock(10**18)
    first = Sender(storage, clock=clock, transport=Scripted(), holder="first")
    second = Sender(storage, clock=clock, transport=Scripted(), holder="second")
    assert first.run_once(target.id) == 1
    post(app, [statement(1)])
    assert second.run_once(target.id) == 0  # first holds the lease
    clock.at += int(forwarding.LEASE_SECONDS * 1_000_000) + 1  # first died: its lease ran out
    assert second.run_once(target.id) == 1
    assert storage.forwarding.get(target.id).lease_holder == "second"


def test_a_paused_target_waits_and_an_erasure_reaches_what_waits():
    app = make_app()
    storage = app.extensions["lrs"]
    target = add_target(storage, "http://t.test/xAPI", AUTH, check=False)
    set_state(storage, target.id, PAUSED)
    post(app, [statement(0, actor="mailto:ada@example.org")])
    scripted = Scripted()
    sender = Sender(storage, transport=scripted)
    assert sender.run_once(target.id) == 0 and scripted.requests == []
    replacement = {
        "account": {"homePage": "https://lrs.example.org/erased", "name": uuid.uuid4().hex}
    }
    storage.statements.erase_agents(["mbox:mailto:ada@example.org"], replacement)
    set_state(storage, target.id, "active")
    assert sender.run_once(target.id) == 1
    (sent,) = scripted.kept.values()
    assert "ada@example.org" not in orjson.dumps(sent).decode()


def test_the_command_line_adds_watches_and_runs_forwarding(tmp_path, target_server):
    from click.testing import CliRunner

    from lrs.cli import main

    url = f"sqlite:///{tmp_path / 'source.db'}"
    source = make_app(open_storage(url))
    post(source, [statement(n) for n in range(3)])
    source.extensions["lrs"].close()
    to = f"{target_server.url}/xAPI"

    def run(*args):
        return CliRunner().invoke(main, [*args, "--storage", url])

    refused = run("forwarding", "add", "http://127.0.0.1:9/xAPI", "--auth", AUTH)
    assert refused.exit_code == 1 and "cannot be reached" in refused.output
    assert "no target was added" in refused.output
    bad = run("forwarding", "add", to, "--auth", AUTH, "--verb", "done")
    assert bad.exit_code == 1 and "not an IRI" in bad.output
    added = run("forwarding", "add", to, "--auth", AUTH, "--from-start")
    assert added.exit_code == 0, added.output
    target_id = added.output.split()[1].rstrip(":")
    assert run("forwarding", "list").stdout.startswith(f"{target_id}\tactive\tpush\t{to}")
    before = run("forwarding", "status", target_id).stdout
    assert "queued\t3" in before and "delivered\t0" in before
    assert run("forwarding", "pause", target_id).exit_code == 0
    assert "sent past 0" in run("forward", "--once").output
    assert run("forwarding", "resume", target_id).exit_code == 0
    assert "sent past 3" in run("forward", "--once").output
    after = run("forwarding", "status", target_id).stdout
    assert "queued\t0" in after and "delivered\t3" in after
    assert len(ids_at(target_server.storage)) == 3
    unknown = run("forwarding", "status", "nope")
    assert unknown.exit_code == 1 and "no forwarding target 'nope'" in unknown.output
    assert run("forwarding", "remove", target_id).exit_code == 0
    assert run("forwarding", "list").stdout == ""
    assert run("forwarding", "dead", target_id).stdout == ""
    bad_since = run("forwarding", "pull", to, "--auth", AUTH, "--since", "yesterday")
    assert bad_since.exit_code == 1 and "--since" in bad_since.output
    pulled = run("forwarding", "pull", to, "--auth", AUTH, "--since", "2026-01-01")
    assert pulled.exit_code == 0 and f"pulls from {to}" in pulled.stdout
    assert "\tpull\t" in run("forwarding", "list").stdout


def test_admins_manage_targets_over_http(target_server):
    from lrs.credentials.base import Role

    app = make_app()
    client = app.test_client()
    admin = basic(*ADMIN)
    path = "/api/v1/forwarding"
    to = f"{target_server.url}/xAPI"
    for body, message in (
        ({"url": "ftp://x.org", "auth": AUTH}, "must be http"),
        ({"url": to, "auth": "nope"}, "KEY:SECRET"),
        ({"url": to, "auth": AUTH, "filters": {"verbs": ["done"]}}, "not an IRI"),
        ({"url": "http://127.0.0.1:9/xAPI", "auth": AUTH}, "cannot be reached"),
        ({"url": to, "auth": AUTH, "version": "0.9"}, "version"),
    ):
        refused = client.post(path, json=body, headers=admin)
        assert refused.status_code == 400 and message in refused.json["message"], refused.json
    assert client.get(path, headers=admin).json == []
    made = client.post(path, json={"url": to, "auth": AUTH, "from_start": True}, headers=admin)
    assert made.status_code == 201, made.json
    target = made.json
    assert "secret" not in target and target["state"] == "active" and target["queued"] == 0
    item = f"{path}/{target['id']}"
    post(app, [statement(0)])
    assert client.get(item, headers=admin).json["queued"] == 1
    paused = client.patch(item, json={"state": "paused"}, headers=admin)
    assert paused.status_code == 200 and paused.json["state"] == "paused"
    assert client.patch(item, json={"state": "gone"}, headers=admin).status_code == 400
    retried = client.post(f"{item}/retry-dead", headers=admin)
    assert retried.json == {"delivered": 0, "still_refused": 0}
    coach, secret = app.extensions["lrs"].credentials.create(Role.service)
    assert client.get(path, headers=basic(coach.key, secret)).status_code == 403
    assert client.delete(item, headers=admin).status_code == 204
    assert client.get(item, headers=admin).status_code == 404
    pulled = client.post(
        path,
        json={"url": to, "auth": AUTH, "direction": "pull", "since": "2026-01-01T00:00:00Z"},
        headers=admin,
    )
    assert pulled.status_code == 201 and pulled.json["direction"] == "pull"
    wrong = client.post(
        path, json={"url": to, "auth": AUTH, "direction": "sideways"}, headers=admin
    )
    assert wrong.status_code == 400


def test_a_chain_of_servers_reports_the_same_progress(tmp_path):
    # School A forwards to district B, which forwards to national C.
    from lrs.usecases.reports import report_of_course
    from lrs.xapi.agents import AccountAgents

    course = "https://school.example.org/courses/bio"
    course_activity = {
        "id": course,
        "definition": {"type": "http://adlnet.gov/expapi/activities/course"},
    }
    in_course = {"contextActivities": {"grouping": [course_activity]}}
    school = make_app(open_storage(f"sqlite:///{tmp_path / 'a.db'}"))
    district, national = LiveServer(), LiveServer()
    district.app = make_app(open_storage(f"sqlite:///{tmp_path / 'b.db'}"))
    national.app = make_app()
    try:
        batch = [
            statement(n, actor=f"mailto:learner{n % 3}@example.org", context=in_course)
            for n in range(12)
        ]
        post(school, batch)
        hops = [
            (school.extensions["lrs"], district),
            (district.app.extensions["lrs"], national),
        ]
        for source, target in hops:
            made = add_target(source, f"{target.url}/xAPI", AUTH, from_start=True)
            drain(Sender(source), made.id)

        def report(storage):
            found = report_of_course(storage.progress, storage.enrollments, accounts, course)
            return [(row.learner, sorted(row.cells)) for row in found.learners], [
                (item.activity, item.started, item.completed) for item in found.activities
            ]

        accounts = AccountAgents("https://lrs.example.org")
        learners, activities = report(school.extensions["lrs"])
        assert len(learners) == 3 and activities == [("http://example.org/activities/a0", 3, 3)]
        assert report(national.app.extensions["lrs"]) == (learners, activities)
    finally:
        district.stop()
        national.stop()


def test_a_pull_imports_what_another_lrs_stores_and_skips_none_of_one_instant(
    tmp_path, monkeypatch
):
    from lrs.imports import remote
    from lrs.imports.pull import pull_round
    from lrs.imports.sources import Item
    from lrs.imports.statements import LocalTarget, import_statements
    from lrs.xapi.prepare import iso

    source = LiveServer()
    source.app = make_app()
    here = open_storage(f"sqlite:///{tmp_path / 'here.db'}")
    try:
        # Three statements the source stored in one instant (kept from elsewhere).
        instant = iso(1_790_000_000_000_000)
        authority = {"objectType": "Agent", "account": {"homePage": "http://x.org", "name": "a"}}
        same = [
            Item(f"s{n}", {**statement(n), "stored": instant, "authority": authority})
            for n in range(3)
        ]
        import_statements(
            same, LocalTarget(source.app.extensions["lrs"]), authority, preserve_stored=True
        )
        monkeypatch.setattr(remote, "PAGE", 2)  # pages of two: the instant spans pages
        monkeypatch.setattr(forwarding, "PULL_PAGES", 1)
        pulled = forwarding.add_source(here, f"{source.url}/xAPI", AUTH)
        sender = Sender(here, puller=pull_round)
        # A round takes two; the third of the instant comes with the next round.
        assert sender.run_once(pulled.id) == 2
        assert sender.run_once(pulled.id) == 1
        post(source.app, [statement(3)])
        assert sender.run_once(pulled.id) == 1  # only the new one; the instant read again, skipped
        assert sender.run_once(pulled.id) == 0
        assert sorted(ids_at(here)) == sorted(statement(n)["id"] for n in range(4))
        assert here.forwarding.get(pulled.id).delivered == 4
        # The source down: the pull waits and says why.
        source.stop()
        assert sender.run_once(pulled.id) == 0
        assert "cannot be reached" in here.forwarding.get(pulled.id).last_error
    finally:
        if source.thread.is_alive():
            source.stop()
        here.close()


def test_a_statement_goes_with_its_attachment_data(target_server):
    import hashlib

    from lrs.xapi import multipart
    from lrs.xapi.attachments import AttachmentData

    app = make_app()
    storage = app.extensions["lrs"]
    data = b"the learner's essay"
    sha2 = hashlib.sha256(data).hexdigest()
    sent = {
        **statement(0),
        "attachments": [
            {
                "usageType": "http://example.org/usage/essay",
                "display": {"en": "essay"},
                "contentType": "text/plain",
                "length": len(data),
                "sha2": sha2,
            }
        ],
    }
    body, boundary = multipart.build(
        orjson.dumps([sent]), [AttachmentData(sha2, "text/plain", data)]
    )
    stored = app.test_client().post(
        "/xAPI/statements",
        data=body,
        headers={**XAPI, "Content-Type": f"multipart/mixed; boundary={boundary}"},
    )
    assert stored.status_code == 200, stored.json
    post(app, [statement(1)])  # and one without, in the same batch
    target = add_target(storage, f"{target_server.url}/xAPI", AUTH, from_start=True)
    assert drain(Sender(storage), target.id) == 2
    there = target_server.storage
    assert there.attachments.get(sha2).data == data
    assert sorted(ids_at(there)) == sorted([statement(0)["id"], statement(1)["id"]])
    assert storage.forwarding.dead_letters(target.id) == []


def test_a_2_0_0_statement_goes_to_a_1_0_3_target_where_it_can(target_server):
    app = make_app()
    storage = app.extensions["lrs"]
    newer = {**XAPI, "X-Experience-API-Version": "2.0.0"}
    plain = statement(0)
    with_agents = {
        **statement(1),
        "context": {
            "contextAgents": [
                {
                    "objectType": "contextAgent",
                    "agent": {"mbox": "mailto:teacher@example.org"},
                }
            ]
        },
    }
    for sent in (plain, with_agents):
        answer = app.test_client().post("/xAPI/statements", json=sent, headers=newer)
        assert answer.status_code == 200, answer.json
    target = add_target(storage, f"{target_server.url}/xAPI", AUTH, from_start=True)
    assert drain(Sender(storage), target.id) == 2
    assert ids_at(target_server.storage) == [plain["id"]]
    held = orjson.loads(target_server.storage.statements.get(plain["id"]).text)
    assert held["version"].startswith("1.0")
    (letter,) = storage.forwarding.dead_letters(target.id)
    assert (letter.statement_id, letter.status) == (with_agents["id"], 0)
    assert "contextAgents" in letter.answer
    found = storage.forwarding.get(target.id)
    assert (found.delivered, found.dead) == (1, 1)


def test_an_erasure_empties_what_targets_answered_about_the_learner():
    from lrs.usecases.erasure import erase_agent
    from lrs.xapi.agents import AccountAgents

    app = make_app()
    storage = app.extensions["lrs"]
    post(app, [statement(0), statement(1, actor="mailto:bob@example.org")])
    target = add_target(storage, "http://t.test/xAPI", AUTH, from_start=True, check=False)
    scripted = Scripted(refuse=[statement(0)["id"], statement(1)["id"]])
    Sender(storage, transport=scripted).run_once(target.id)
    scripted_answers = {
        item.statement_id: item.answer for item in storage.forwarding.dead_letters(target.id)
    }
    assert all(scripted_answers.values())
    erase_agent(
        storage,
        AccountAgents("https://lrs.example.org"),
        {"mbox": "mailto:ada@example.org"},
        reason="asked",
        credential="test",
    )
    answers = {
        item.statement_id: item.answer for item in storage.forwarding.dead_letters(target.id)
    }
    assert answers[statement(0)["id"]] == "" and answers[statement(1)["id"]]


def test_an_idle_sender_writes_nothing():
    app = make_app()
    storage = app.extensions["lrs"]
    post(app, [statement(0)])
    target = add_target(storage, "http://t.test/xAPI", AUTH, from_start=True, check=False)
    sender = Sender(storage, transport=Scripted())
    assert sender.run_once(target.id) == 1
    revision = storage.forwarding.get(target.id).revision
    for _ in range(5):
        assert sender.run_all_once() == 0
    assert storage.forwarding.get(target.id).revision == revision  # no lease renewed, nothing


def test_a_target_can_start_from_a_time():
    app = make_app()
    storage = app.extensions["lrs"]
    post(app, [statement(0)])
    between = storage.statements.query(StatementQuery(limit=1))[0].stored_us
    post(app, [statement(1)])
    with pytest.raises(InvalidInput, match="not both"):
        add_target(storage, "http://t.test/xAPI", AUTH, from_start=True, since_us=1, check=False)
    target = add_target(storage, "http://t.test/xAPI", AUTH, since_us=between, check=False)
    scripted = Scripted()
    assert Sender(storage, transport=scripted).run_once(target.id) == 1
    assert list(scripted.kept) == [statement(1)["id"]]


def test_statements_imported_with_their_old_stored_times_are_forwarded_too(tmp_path):
    from lrs.imports.sources import Item
    from lrs.imports.statements import LocalTarget, import_statements

    storage = open_storage(f"sqlite:///{tmp_path / 'source.db'}")
    app = make_app(storage)
    post(app, [statement(0)])
    target = add_target(storage, "http://t.test/xAPI", AUTH, from_start=True, check=False)
    scripted = Scripted()
    sender = Sender(storage, transport=scripted)
    assert sender.run_once(target.id) == 1
    # From another LRS, with the stored time it had there: long before the cursor's.
    authority = {"objectType": "Agent", "account": {"homePage": "http://x.org", "name": "a"}}
    old = {**statement(1), "stored": "2020-01-01T00:00:00Z", "authority": authority}
    import_statements([Item("old", old)], LocalTarget(storage), authority, preserve_stored=True)
    assert sender.run_once(target.id) == 1
    assert statement(1)["id"] in scripted.kept
