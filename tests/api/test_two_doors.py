"""Learner state has two doors: the client library and the xAPI State resource.

For a learner's account agent, a scope name as ``stateId`` and no
registration, the state document is the block's state (DESIGN.md), on every
storage backend and through the HTTP client too.
"""

import json
import threading

import pytest

from lrs.clients import HttpUserStateClient, Scope
from lrs.credentials import Role
from lrs.enrollments import CourseRole
from lrs.testing import COURSE, OTHER_COURSE, block
from lrs.usecases.storage import open_storage
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for

STATE = "/xAPI/activities/state"
HOMEPAGE = "https://lms.example.org"
BLOCK = block(1)


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    storage = storage_for(request.param, tmp_path) or open_storage("memory://")
    return make_app(storage, ACCOUNT_HOMEPAGE=HOMEPAGE)


@pytest.fixture
def client(app):
    return app.extensions["lrs"].state


@pytest.fixture(params=["1.0.3", "2.0.0"])
def xapi(request):
    return {**basic(*ADMIN), "X-Experience-API-Version": request.param}


def document(username="ada", state_id="user_state", **extra):
    agent = {"objectType": "Agent", "account": {"homePage": HOMEPAGE, "name": username}}
    return {"activityId": BLOCK, "agent": json.dumps(agent), "stateId": state_id, **extra}


def test_client_writes_are_state_documents(http, xapi, client):
    client.set("ada", BLOCK, {"attempts": 2, "done": True})
    response = http.get(STATE, query_string=document(), headers=xapi)
    assert response.status_code == 200
    assert response.json == {"attempts": 2, "done": True}
    assert response.headers["Content-Type"] == "application/json"
    client.set("ada", BLOCK, {"prefs": "dark"}, Scope.preferences)
    listed = http.get(STATE, query_string=document(stateId=None), headers=xapi).json
    assert sorted(listed) == ["preferences", "user_state"]
    client.delete("ada", BLOCK)
    assert http.get(STATE, query_string=document(), headers=xapi).status_code == 404


def test_state_documents_are_client_state(http, xapi, client):
    http.post(STATE, query_string=document(), json={"bookmark": "p3"}, headers=xapi)
    http.post(STATE, query_string=document(), json={"score": 0.5}, headers=xapi)
    assert client.get("ada", BLOCK).state == {"bookmark": "p3", "score": 0.5}
    # PUT replaces: fields it does not carry are gone.
    http.put(
        STATE,
        query_string=document(),
        json={"score": 0.9},
        headers={
            **xapi,
            "If-Match": http.get(STATE, query_string=document(), headers=xapi).headers["ETag"],
        },
    )
    assert client.get("ada", BLOCK).state == {"score": 0.9}
    http.delete(STATE, query_string=document(), headers=xapi)
    with pytest.raises(client.DoesNotExist):
        client.get("ada", BLOCK)


def test_both_doors_write_one_history(http, xapi, client):
    client.set("ada", BLOCK, {"a": 1})
    http.post(STATE, query_string=document(), json={"b": 2}, headers=xapi)
    client.set("ada", BLOCK, {"c": 3})
    states = [entry.state for entry in client.get_history("ada", BLOCK)]
    assert states == [{"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2}, {"a": 1}]


def test_the_etag_follows_writes_through_the_other_door(http, xapi, client):
    client.set("ada", BLOCK, {"a": 1})
    etag = http.get(STATE, query_string=document(), headers=xapi).headers["ETag"]
    client.set("ada", BLOCK, {"a": 2})
    stale = http.put(
        STATE, query_string=document(), json={"a": 3}, headers={**xapi, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert client.get("ada", BLOCK).state == {"a": 2}


def test_multiple_delete_clears_the_learners_blocks_of_the_activity(http, xapi, client):
    client.set("ada", BLOCK, {"a": 1})
    client.set("ada", BLOCK, {"p": 1}, Scope.preferences)
    client.set("ada", block(2), {"other": "block"})
    assert http.delete(STATE, query_string=document(stateId=None), headers=xapi).status_code == 204
    assert list(client.get_many("ada", [BLOCK])) == []
    assert list(client.get_many("ada", [BLOCK], Scope.preferences)) == []
    assert client.get("ada", block(2)).state == {"other": "block"}


@pytest.mark.parametrize(
    "query",
    [
        document(state_id="bookmark"),  # not a scope name
        document(registration="a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"),
        {
            **document(),
            "agent": json.dumps({"account": {"homePage": "http://other.org", "name": "ada"}}),
        },
        {**document(), "agent": json.dumps({"mbox": "mailto:ada@example.org"})},
    ],
)
def test_other_state_documents_do_not_touch_learner_state(http, xapi, client, query):
    http.post(STATE, query_string=query, json={"elsewhere": True}, headers=xapi)
    assert list(client.get_many("ada", [BLOCK])) == []
    assert http.get(STATE, query_string=query, headers=xapi).json == {"elsewhere": True}


def test_content_that_is_not_a_json_object_is_kept_as_a_document(http, xapi, client):
    response = http.put(
        STATE,
        query_string=document(),
        data=b"\x00suspend",
        content_type="application/octet-stream",
        headers=xapi,
    )
    assert response.status_code == 204
    assert list(client.get_many("ada", [BLOCK])) == []
    assert http.get(STATE, query_string=document(), headers=xapi).data == b"\x00suspend"
    # Merging JSON into it is refused, as for any document that is not a JSON object.
    refused = http.post(STATE, query_string=document(), json={"a": 1}, headers=xapi)
    assert refused.status_code == 400
    # JSON written through the client takes over the name.
    client.set("ada", BLOCK, {"a": 1})
    assert http.get(STATE, query_string=document(), headers=xapi).json == {"a": 1}


def test_any_field_name_round_trips(http, xapi, client):
    fields = {"a.b": 1, "$set": 2, "": 3, "ünï": 4}
    http.post(STATE, query_string=document(), json=fields, headers=xapi)
    assert client.get("ada", BLOCK).state == fields
    assert http.get(STATE, query_string=document(), headers=xapi).json == fields


def test_values_the_client_cannot_keep_are_400_and_change_nothing(http, xapi, client):
    client.set("ada", BLOCK, {"a": 1})
    deep = {"a": 2}
    node = deep
    for _ in range(300):
        node["n"] = {}
        node = node["n"]
    response = http.post(
        STATE,
        query_string=document(),
        data=json.dumps(deep),
        content_type="application/json",
        headers=xapi,
    )
    assert response.status_code == 400
    assert client.get("ada", BLOCK).state == {"a": 1}


def test_a_learner_credential_reaches_its_own_blocks(app, http, client):
    app.extensions["lrs"].credentials.create(
        Role.learner, key="ada-learner", secret="ada-secret-0123456789", username="ada"
    )
    learner = {**basic("ada-learner", "ada-secret-0123456789"), "X-Experience-API-Version": "1.0.3"}
    assert (
        http.post(STATE, query_string=document(), json={"mine": 1}, headers=learner).status_code
        == 204
    )
    assert client.get("ada", BLOCK).state == {"mine": 1}
    grace = document(username="grace")
    assert http.get(STATE, query_string=grace, headers=learner).status_code == 403


def test_the_http_client_is_a_third_door(live_server, xapi):
    app = make_app(ACCOUNT_HOMEPAGE=HOMEPAGE)
    live_server.app = app
    remote = HttpUserStateClient(live_server.url, auth=ADMIN)
    try:
        remote.set("ada", BLOCK, {"via": "http client"})
        http = app.test_client()
        assert http.get(STATE, query_string=document(), headers=xapi).json == {"via": "http client"}
        http.post(STATE, query_string=document(), json={"via": "xAPI"}, headers=xapi)
        assert remote.get("ada", BLOCK).state == {"via": "xAPI"}
        assert len(list(remote.get_history("ada", BLOCK))) == 2
    finally:
        remote.close()


def test_concurrent_posts_of_different_keys_lose_none(app, xapi, client):
    errors = []

    def post(n):
        http = app.test_client()
        for round_ in range(5):
            response = http.post(
                STATE, query_string=document(), json={f"k{n}-{round_}": n}, headers=xapi
            )
            if response.status_code != 204:
                errors.append(response.status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(client.get("ada", BLOCK).state) == 40


def test_a_coach_reads_its_learners_blocks_through_either_door(app, http, client):
    enrollments = app.extensions["lrs"].enrollments
    for name in ("kim", "ada", "bob"):
        enrollments.create_user(name, {}, actor="test")
    enrollments.enroll("kim", COURSE, role=CourseRole.coach, actor="test")
    enrollments.enroll("ada", COURSE, actor="test")
    enrollments.enroll("bob", OTHER_COURSE, actor="test")
    client.set("ada", BLOCK, {"score": 1})
    client.set("bob", block(1, course=OTHER_COURSE), {"score": 2})
    credential, secret = app.extensions["lrs"].credentials.create("coach", username="kim")
    coach = {**basic(credential.key, secret), "X-Experience-API-Version": "2.0.0"}
    assert http.get(STATE, query_string=document(), headers=coach).json == {"score": 1}
    listed = http.get(STATE, query_string=document(stateId=None), headers=coach)
    assert listed.json == ["user_state"]
    elsewhere = {**document(username="bob"), "activityId": block(1, course=OTHER_COURSE)}
    assert http.get(STATE, query_string=elsewhere, headers=coach).status_code == 403
    assert (
        http.post(STATE, query_string=document(), json={"x": 1}, headers=coach).status_code == 403
    )
    assert http.delete(STATE, query_string=document(), headers=coach).status_code == 403
    assert client.get("ada", BLOCK).state == {"score": 1}
