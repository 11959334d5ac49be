"""Conditional writes of a learner block are atomic, through either door (If-Match, If-None-Match).

Eight writers each read a counter with its ETag and write it back one higher
with If-Match, again and again: every acknowledged write must be in the final
count. A lost update (two writers winning with one ETag) would show as a count
below the number of acknowledgements.
"""

import json
import threading
from urllib.parse import urlencode

import pytest

from lrs.testing import block
from tests.mongomock_support import Pausing, mongomock_storage
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for

WRITERS, ROUNDS = 8, 12
REST = "/api/v1/state?" + urlencode({"username": "ada", "block": block(0)})
XAPI = "/xAPI/activities/state?" + urlencode(
    {
        "activityId": block(0),
        "agent": json.dumps({"account": {"homePage": "http://localhost", "name": "ada"}}),
        "stateId": "user_state",
    }
)
HEADERS = {**basic(*ADMIN), "X-Experience-API-Version": "2.0.0"}


def build(storage, directory):
    if storage != "mongomock":
        return make_app(storage_for(storage, directory))
    stores = mongomock_storage()
    # Reads return a little late, so that writers interleave between read and write.
    stores.state._collection = Pausing(stores.state._collection, ("find",), delay=0.001)
    return make_app(stores)


def read(http, door):
    response = http.get(REST if door == "rest" else XAPI, headers=HEADERS)
    assert response.status_code == 200, response.get_data(as_text=True)
    state = response.json["state"] if door == "rest" else response.json
    return state["count"], response.headers["ETag"]


def write(http, door, method, count, etag):
    headers = {**HEADERS, "If-Match": etag}
    path = REST if door == "rest" else XAPI
    if door == "xapi" and method == "PATCH":
        method = "POST"  # the xAPI door's merge
    return http.open(path, method=method, json={"count": count}, headers=headers).status_code


@pytest.mark.parametrize("storage", BACKENDS)
@pytest.mark.parametrize(
    "doors, method",
    [("rest", "PATCH"), ("rest", "PUT"), ("xapi", "PUT"), ("mixed", "PUT"), ("mixed", "PATCH")],
)
def test_no_acknowledged_conditional_write_is_lost(storage, doors, method, tmp_path):
    app = build(storage, tmp_path)
    app.extensions["lrs"].state.set("ada", block(0), {"count": 0})
    acknowledged = []
    errors = []

    def writer(number):
        http = app.test_client()
        door = doors if doors != "mixed" else ("rest", "xapi")[number % 2]
        try:
            for _ in range(ROUNDS):
                count, etag = read(http, door)
                status = write(http, door, method, count + 1, etag)
                if status in (200, 204):
                    acknowledged.append(number)
                elif status != 412:
                    errors.append(status)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = app.extensions["lrs"].state.get("ada", block(0)).state["count"]
    assert final == len(acknowledged) > 0
    history = list(app.extensions["lrs"].state.get_history("ada", block(0)))
    assert len(history) == len(acknowledged) + 1  # one entry per write, and the first set
    # Each entry is a state some client sent: a count, never a merge of two bodies.
    assert all(set(entry.state) == {"count"} for entry in history)


@pytest.mark.parametrize("storage", BACKENDS)
def test_of_racing_create_only_writes_exactly_one_creates(storage, tmp_path):
    app = build(storage, tmp_path)
    statuses = []

    def creator(number):
        http = app.test_client()
        path = REST if number % 2 else XAPI
        headers = {**HEADERS, "If-None-Match": "*"}
        statuses.append(http.put(path, json={"by": number}, headers=headers).status_code)

    threads = [threading.Thread(target=creator, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([s for s in statuses if s in (200, 204)]) == 1, statuses
    assert statuses.count(412) == WRITERS - 1


@pytest.mark.parametrize("storage", BACKENDS)
def test_one_etag_for_a_block_through_both_doors(storage, tmp_path):
    app = build(storage, tmp_path)
    http = app.test_client()
    rest = http.patch(REST, json={"b": 1, "a": 2}, headers=HEADERS)
    xapi = http.get(XAPI, headers=HEADERS)
    assert rest.headers["ETag"] == xapi.headers["ETag"]
    # An ETag taken at one door is good at the other.
    moved = http.put(XAPI, json={"a": 3}, headers={**HEADERS, "If-Match": rest.headers["ETag"]})
    assert moved.status_code == 204
    again = http.get(REST, headers=HEADERS)
    assert again.json["state"] == {"a": 3}
    assert again.headers["ETag"] == http.get(XAPI, headers=HEADERS).headers["ETag"]
    stale = http.patch(REST, json={"x": 1}, headers={**HEADERS, "If-Match": rest.headers["ETag"]})
    assert stale.status_code == 412
