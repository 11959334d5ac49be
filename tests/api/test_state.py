import json

import pytest

from lrs.api import create_app
from lrs.testing import COURSE, block, user
from tests.support import ADMIN, basic

URL = "/api/v1/state"


def one(username=None, block_key=None, **extra):
    return {"username": username or user(0), "block": block_key or block(0), **extra}


class TestOneBlock:
    def test_get_returns_state_time_and_etag(self, http, admin, state):
        state.set(user(0), block(0), {"a": 1, "b": [2]})
        response = http.get(URL, query_string=one(), headers=admin)
        assert response.status_code == 200
        body = response.json
        assert body["state"] == {"a": 1, "b": [2]}
        assert body["username"] == user(0)
        assert body["block"] == block(0)
        assert body["scope"] == "user_state"
        assert body["updated"] == state.get(user(0), block(0)).updated.isoformat()
        assert response.headers["ETag"].startswith('"')

    def test_get_of_missing_block_is_404_with_a_message(self, http, admin):
        response = http.get(URL, query_string=one(), headers=admin)
        assert response.status_code == 404
        assert block(0) in response.json["message"]

    def test_get_with_fields(self, http, admin, state):
        state.set(user(0), block(0), {"a": 1, "b": 2, "c": 3})
        query = {**one(), "fields": ["a", "c"]}
        assert http.get(URL, query_string=query, headers=admin).json["state"] == {"a": 1, "c": 3}

    def test_head_has_headers_and_no_body(self, http, admin, state):
        state.set(user(0), block(0), {"a": 1})
        response = http.head(URL, query_string=one(), headers=admin)
        assert response.status_code == 200
        assert response.data == b""
        assert "ETag" in response.headers

    def test_if_none_match_gives_304(self, http, admin, state):
        state.set(user(0), block(0), {"a": 1})
        etag = http.get(URL, query_string=one(), headers=admin).headers["ETag"]
        response = http.get(URL, query_string=one(), headers={**admin, "If-None-Match": etag})
        assert response.status_code == 304
        assert response.headers["ETag"] == etag
        state.set(user(0), block(0), {"a": 2})
        response = http.get(URL, query_string=one(), headers={**admin, "If-None-Match": etag})
        assert response.status_code == 200

    def test_patch_overlays_and_returns_the_new_state(self, http, admin, state):
        state.set(user(0), block(0), {"a": 1, "b": 2})
        response = http.patch(
            URL, query_string=one(), json={"b": 3, "c.d": {"$e": None}}, headers=admin
        )
        assert response.status_code == 200
        assert response.json["state"] == {"a": 1, "b": 3, "c.d": {"$e": None}}
        assert state.get(user(0), block(0)).state == {"a": 1, "b": 3, "c.d": {"$e": None}}

    def test_put_replaces(self, http, admin, state):
        state.set(user(0), block(0), {"a": 1, "b": 2})
        response = http.put(URL, query_string=one(), json={"b": 3}, headers=admin)
        assert response.status_code == 200
        assert state.get(user(0), block(0)).state == {"b": 3}

    def test_put_of_empty_object_deletes_the_block(self, http, admin, state):
        state.set(user(0), block(0), {"a": 1})
        response = http.put(URL, query_string=one(), json={}, headers=admin)
        assert response.status_code == 204
        with pytest.raises(state.DoesNotExist):
            state.get(user(0), block(0))

    def test_delete_some_fields_then_all(self, http, admin, state):
        state.set(user(0), block(0), {"a": 1, "b": 2})
        query = {**one(), "fields": ["a"]}
        assert http.delete(URL, query_string=query, headers=admin).status_code == 204
        assert state.get(user(0), block(0)).state == {"b": 2}
        assert http.delete(URL, query_string=one(), headers=admin).status_code == 204
        with pytest.raises(state.DoesNotExist):
            state.get(user(0), block(0))

    def test_if_match_guards_writes(self, http, admin, state):
        state.set(user(0), block(0), {"a": 1})
        etag = http.get(URL, query_string=one(), headers=admin).headers["ETag"]
        state.set(user(0), block(0), {"a": 2})  # someone else writes meanwhile
        for send in (http.patch, http.put):
            response = send(
                URL, query_string=one(), json={"a": 3}, headers={**admin, "If-Match": etag}
            )
            assert response.status_code == 412
        response = http.delete(URL, query_string=one(), headers={**admin, "If-Match": etag})
        assert response.status_code == 412
        assert state.get(user(0), block(0)).state == {"a": 2}
        fresh = http.get(URL, query_string=one(), headers=admin).headers["ETag"]
        response = http.patch(
            URL, query_string=one(), json={"a": 3}, headers={**admin, "If-Match": fresh}
        )
        assert response.status_code == 200

    def test_if_none_match_star_creates_only(self, http, admin, state):
        headers = {**admin, "If-None-Match": "*"}
        assert (
            http.patch(URL, query_string=one(), json={"a": 1}, headers=headers).status_code == 200
        )
        assert (
            http.patch(URL, query_string=one(), json={"a": 2}, headers=headers).status_code == 412
        )
        assert state.get(user(0), block(0)).state == {"a": 1}

    @pytest.mark.parametrize(
        "key",
        ["a/b/c", "x:y+z@w", "with space", "ключ/блок", "?&=#%", "block-v1:O+C+R+type@p+block@b"],
    )
    def test_any_block_key_round_trips(self, http, admin, state, key):
        response = http.patch(URL, query_string=one(block_key=key), json={"k": 1}, headers=admin)
        assert response.status_code == 200
        assert response.json["block"] == key
        assert state.get(user(0), key).state == {"k": 1}

    def test_scopes_are_separate(self, http, admin, state):
        http.patch(URL, query_string=one(scope="preferences"), json={"a": 1}, headers=admin)
        assert state.get(user(0), block(0), scope="preferences").state == {"a": 1}
        assert http.get(URL, query_string=one(), headers=admin).status_code == 404


class TestManyBlocks:
    def test_set_get_and_delete_many(self, http, admin, state):
        states = {block(n): {"n": n} for n in range(3)}
        body = {"username": user(0), "states": states}
        assert http.post(f"{URL}/set-many", json=body, headers=admin).status_code == 204
        body = {"username": user(0), "blocks": [block(2), block(9), block(0)]}
        results = http.post(f"{URL}/get-many", json=body, headers=admin).json["results"]
        assert [(r["block"], r["state"]) for r in results] == [
            (block(2), {"n": 2}),
            (block(0), {"n": 0}),
        ]
        body = {"username": user(0), "blocks": [block(0), block(1)]}
        assert http.post(f"{URL}/delete-many", json=body, headers=admin).status_code == 204
        assert [s.block_key for s in state.get_many(user(0), [block(n) for n in range(3)])] == [
            block(2)
        ]

    def test_get_many_with_fields(self, http, admin, state):
        state.set(user(0), block(0), {"a": 1, "b": 2})
        body = {"username": user(0), "blocks": [block(0)], "fields": ["b"]}
        assert http.post(f"{URL}/get-many", json=body, headers=admin).json["results"][0][
            "state"
        ] == {"b": 2}


class TestStreams:
    def test_history_pages_newest_first(self, http, admin, state):
        for n in range(5):
            state.set(user(0), block(0), {"n": n})
        query = {**one(), "page_size": 2}
        first = http.get(f"{URL}/history", query_string=query, headers=admin)
        assert [entry["state"] for entry in first.json] == [{"n": 4}, {"n": 3}]
        assert json.loads(first.headers["X-Pagination"]) == {
            "page": 1,
            "page_size": 2,
            "next_page": 2,
        }
        last = http.get(f"{URL}/history", query_string={**query, "page": 3}, headers=admin)
        assert [entry["state"] for entry in last.json] == [{"n": 0}]
        assert "next_page" not in json.loads(last.headers["X-Pagination"])

    def test_history_shows_null_after_delete(self, http, admin, state):
        state.set(user(0), block(0), {"a": 1})
        state.delete(user(0), block(0))
        history = http.get(f"{URL}/history", query_string=one(), headers=admin).json
        assert [entry["state"] for entry in history] == [None, {"a": 1}]

    def test_history_of_unknown_block_is_404(self, http, admin):
        assert http.get(f"{URL}/history", query_string=one(), headers=admin).status_code == 404

    def test_by_block_and_by_course(self, http, admin, state):
        for n in range(3):
            state.set(user(n), block(0), {"n": n})
        state.set(user(0), block(1, "video"), {"v": 1})
        by_block = http.get(f"{URL}/by-block", query_string={"block": block(0)}, headers=admin).json
        assert [entry["username"] for entry in by_block] == [user(0), user(1), user(2)]
        query = {"course": COURSE, "block_type": "video"}
        by_course = http.get(f"{URL}/by-course", query_string=query, headers=admin).json
        assert [(entry["username"], entry["block"]) for entry in by_course] == [
            (user(0), block(1, "video"))
        ]

    @pytest.mark.parametrize(
        "query", [{"page": 0}, {"page_size": 0}, {"page_size": 1001}, {"page": "x"}]
    )
    def test_bad_page_parameters_are_400(self, http, admin, query):
        response = http.get(
            f"{URL}/by-block", query_string={"block": block(0), **query}, headers=admin
        )
        assert response.status_code == 400
        assert "page" in response.json["message"]


class TestDocs:
    def test_openapi_document_and_docs_need_no_credentials(self, http):
        document = http.get("/openapi.json")
        assert document.status_code == 200
        assert "/api/v1/state" in document.json["paths"]
        assert http.get("/docs").status_code == 200

    def test_health(self, http):
        assert http.get("/health").json == {"status": "ok"}


def test_the_server_runs_on_mongo_storage():

    app = create_app(
        {
            "TESTING": True,
            "STORAGE_URL": "mongomock://",
            "ADMIN_KEY": ADMIN[0],
            "ADMIN_SECRET": ADMIN[1],
        }
    )
    http, admin = app.test_client(), basic(*ADMIN)
    response = http.patch(URL, query_string=one(), json={"a.b": {"$c": 1}}, headers=admin)
    assert response.status_code == 200
    assert http.get(URL, query_string=one(), headers=admin).json["state"] == {"a.b": {"$c": 1}}
    created = http.post("/api/v1/credentials", json={"role": "service"}, headers=admin).json
    me = http.get("/api/v1/me", headers=basic(created["key"], created["secret"]))
    assert me.json["role"] == "service"
    assert http.get("/health").status_code == 200


def test_a_value_stored_at_the_depth_limit_can_be_read_back(http, admin, state):
    value = 1
    for _ in range(252):
        value = [value]
    state.set(user(0), block(0), {"deep": value})
    response = http.get(URL, query_string=one(), headers=admin)
    assert response.status_code == 200
    body = {"username": user(0), "blocks": [block(0)]}
    assert http.post(f"{URL}/get-many", json=body, headers=admin).status_code == 200
