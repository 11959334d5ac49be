"""A value is stored as sent or refused with a 400 naming it; never changed (issue: big integers).

orjson reads integers beyond 64 bits as floats: ``18446744073709551616`` would come
back as ``1.8446744073709552e+19``.
"""

import json
from urllib.parse import urlencode

import pytest

from lrs.testing import block, user

TOO_BIG = "18446744073709551616"  # 2**64
TOO_SMALL = "-9223372036854775809"  # -(2**63) - 1
EDGES = {"largest": 2**64 - 1, "smallest": -(2**63)}
XAPI = {"X-Experience-API-Version": "2.0.0"}
LEARNER = {"account": {"homePage": "http://localhost", "name": "ada"}}


@pytest.fixture
def xapi(admin):
    return {**admin, **XAPI}


def raw_json(text):
    return {"data": text, "content_type": "application/json"}


@pytest.mark.parametrize("number", [TOO_BIG, TOO_SMALL])
def test_learner_state_refuses_integers_beyond_64_bits(http, admin, state, number):
    state.set(user(0), block(0), {"keep": 1})
    one = {"username": user(0), "block": block(0)}
    response = http.patch(
        "/api/v1/state", query_string=one, headers=admin, **raw_json(f'{{"n": {number}}}')
    )
    assert response.status_code == 400
    assert "body.n" in response.json["message"] and number in response.json["message"]
    many = f'{{"username": "{user(0)}", "states": {{"{block(1)}": {{"n": [1, {number}]}}}}}}'
    response = http.post("/api/v1/state/set-many", headers=admin, **raw_json(many))
    assert response.status_code == 400
    assert "n[1]" in response.json["message"]
    assert state.get(user(0), block(0)).state == {"keep": 1}
    assert list(state.get_many(user(0), [block(1)])) == []


def test_learner_state_keeps_the_64_bit_edges_exactly(http, admin, state):
    one = {"username": user(0), "block": block(0)}
    response = http.patch("/api/v1/state", query_string=one, json=EDGES, headers=admin)
    assert response.status_code == 200
    assert response.json["state"] == EDGES
    assert state.get(user(0), block(0)).state == EDGES


def test_a_digit_string_is_not_a_number(http, admin, state):
    one = {"username": user(0), "block": block(0)}
    body = {"id": "12345678901234567890123456789"}
    response = http.patch("/api/v1/state", query_string=one, json=body, headers=admin)
    assert response.status_code == 200
    assert state.get(user(0), block(0)).state == body


def test_a_statement_extension_beyond_64_bits_is_400_naming_its_path(app, http, xapi):
    text = (
        '{"actor": {"mbox": "mailto:ada@example.org"},'
        ' "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},'
        ' "object": {"id": "http://example.org/a"},'
        f' "result": {{"extensions": {{"http://example.org/ext": {TOO_BIG}}}}}}}'
    )
    for body in (text, f"[{text}]"):
        response = http.post("/xAPI/statements", headers=xapi, **raw_json(body))
        assert response.status_code == 400
        assert "result.extensions.http://example.org/ext" in response.json["message"]
        assert TOO_BIG in response.json["message"]
    assert app.extensions["lrs"].statements.count() == 0


def test_a_statement_keeps_the_64_bit_edges_exactly(http, xapi):
    statement = {
        "actor": {"mbox": "mailto:ada@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "http://example.org/a"},
        "result": {"extensions": {"http://example.org/ext": EDGES}},
    }
    (statement_id,) = http.post("/xAPI/statements", json=statement, headers=xapi).json
    stored = http.get("/xAPI/statements", query_string={"statementId": statement_id}, headers=xapi)
    assert stored.json["result"]["extensions"]["http://example.org/ext"] == EDGES


def test_documents_refuse_to_merge_integers_beyond_64_bits(http, xapi, state):
    block_state = "/xAPI/activities/state?" + urlencode(
        {"activityId": block(0), "agent": json.dumps(LEARNER), "stateId": "user_state"}
    )
    profile = "/xAPI/activities/profile?" + urlencode(
        {"activityId": "http://example.org/a", "profileId": "p"}
    )
    state.set("ada", block(0), {"keep": 1})
    http.post(profile, json={"keep": 1}, headers=xapi)
    for path in (block_state, profile):
        response = http.post(path, headers=xapi, **raw_json(f'{{"n": {TOO_BIG}}}'))
        assert response.status_code == 400, path
        assert TOO_BIG in response.json["message"]
        assert http.get(path, headers=xapi).json == {"keep": 1}
    assert [entry.state for entry in state.get_history("ada", block(0))] == [{"keep": 1}]


def test_a_document_put_as_bytes_keeps_its_big_integers_byte_for_byte(http, xapi):
    profile = "/xAPI/activities/profile?" + urlencode(
        {"activityId": "http://example.org/a", "profileId": "raw"}
    )
    content = f'{{"n": {TOO_BIG}}}'.encode()
    response = http.put(
        profile,
        data=content,
        content_type="application/json",
        headers={**xapi, "If-None-Match": "*"},
    )
    assert response.status_code == 204
    assert http.get(profile, headers=xapi).data == content
