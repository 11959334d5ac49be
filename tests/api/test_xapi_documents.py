"""The document resources, Activities and Agents over HTTP, under both versions."""

import hashlib
import json
import threading
from urllib.parse import urlencode

import pytest

from lrs.credentials import Role
from lrs.testing import statement
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for

STATE = "/xAPI/activities/state"
ACTIVITY_PROFILE = "/xAPI/activities/profile"
AGENT_PROFILE = "/xAPI/agents/profile"
ACTIVITY = "http://example.org/activities/a0"
AGENT = json.dumps({"objectType": "Agent", "mbox": "mailto:ada@example.org"})
REGISTRATION = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"

# Each resource: its path, the parameters naming one document, and the id parameter.
RESOURCES = {
    "state": (STATE, {"activityId": ACTIVITY, "agent": AGENT, "stateId": "bookmark"}, "stateId"),
    "activity profile": (
        ACTIVITY_PROFILE,
        {"activityId": ACTIVITY, "profileId": "glossary"},
        "profileId",
    ),
    "agent profile": (AGENT_PROFILE, {"agent": AGENT, "profileId": "settings"}, "profileId"),
}


@pytest.fixture(params=["1.0.3", "2.0.0"])
def xapi(request, admin):
    return {**admin, "X-Experience-API-Version": request.param}


@pytest.fixture(params=list(RESOURCES))
def resource(request):
    return RESOURCES[request.param]


def create_only(xapi):
    return {**xapi, "If-None-Match": "*"}


class TestDocuments:
    def test_any_content_round_trips_byte_for_byte(self, http, xapi, resource):
        path, query, _ = resource
        content = bytes(range(256)) * 40
        response = http.put(
            path,
            query_string=query,
            data=content,
            content_type="image/png",
            headers=create_only(xapi),
        )
        assert response.status_code == 204, response.json
        response = http.get(path, query_string=query, headers=xapi)
        assert response.status_code == 200
        assert response.data == content
        assert response.headers["Content-Type"] == "image/png"
        # Section 3.1: the quoted SHA-1 of the content, in lower-case hex.
        assert response.headers["ETag"] == f'"{hashlib.sha1(content).hexdigest()}"'
        assert response.headers["Last-Modified"].endswith("GMT")
        head = http.head(path, query_string=query, headers=xapi)
        assert head.status_code == 200 and head.data == b""
        assert head.headers["ETag"] == response.headers["ETag"]

    def test_a_body_up_to_the_limit_round_trips_and_above_it_is_413(self, xapi, resource):
        path, query, _ = resource
        http = make_app(MAX_BODY_BYTES=100_000).test_client()
        content = bytes(range(256)) * 390  # 99,840 bytes
        put = http.put(
            path,
            query_string=query,
            data=content,
            content_type="application/octet-stream",
            headers=create_only(xapi),
        )
        assert put.status_code == 204
        assert http.get(path, query_string=query, headers=xapi).data == content
        too_big = http.put(
            path,
            query_string=query,
            data=content * 2,
            content_type="application/octet-stream",
            headers={**xapi, "If-Match": hashlib.sha1(content).hexdigest()},
        )
        assert too_big.status_code == 413
        assert http.get(path, query_string=query, headers=xapi).data == content

    def test_post_merges_json_objects(self, http, xapi, resource):
        path, query, _ = resource
        http.post(path, query_string=query, json={"x": "foo", "y": "bar"}, headers=xapi)
        response = http.post(path, query_string=query, json={"x": "bash", "z": "faz"}, headers=xapi)
        assert response.status_code == 204
        stored = http.get(path, query_string=query, headers=xapi).json
        assert stored == {"x": "bash", "y": "bar", "z": "faz"}

    @pytest.mark.parametrize(
        ("data", "content_type"),
        [
            ("abc", "application/x-www-form-urlencoded"),
            ("[1, 2]", "application/json"),
            ("{", "application/json"),
        ],
    )
    def test_post_of_what_is_not_a_json_object_onto_json_is_400(
        self, http, xapi, resource, data, content_type
    ):
        path, query, _ = resource
        http.post(path, query_string=query, json={"car": "MKX"}, headers=xapi)
        response = http.post(
            path, query_string=query, data=data, content_type=content_type, headers=xapi
        )
        assert response.status_code == 400
        assert "JSON" in response.json["message"]
        assert http.get(path, query_string=query, headers=xapi).json == {"car": "MKX"}

    @pytest.mark.parametrize(
        ("data", "content_type"),
        [
            ("1", "text/plain"),
            ("true", "application/x-www-form-urlencoded"),
            ("[1]", "application/json"),
        ],
    )
    def test_post_of_a_new_document_stores_it_as_sent(
        self, http, xapi, resource, data, content_type
    ):
        path, query, _ = resource
        response = http.post(
            path, query_string=query, data=data, content_type=content_type, headers=xapi
        )
        assert response.status_code == 204
        stored = http.get(path, query_string=query, headers=xapi)
        assert (stored.data, stored.content_type) == (data.encode(), content_type)

    def test_if_match_and_if_none_match(self, http, xapi, resource):
        path, query, _ = resource
        http.put(path, query_string=query, json={"v": 1}, headers=create_only(xapi))
        etag = http.get(path, query_string=query, headers=xapi).headers["ETag"]
        for method in (http.put, http.post):
            for headers in ({"If-Match": '"1234"'}, {"If-Match": "1234"}, {"If-None-Match": "*"}):
                response = method(
                    path, query_string=query, json={"v": 2}, headers={**xapi, **headers}
                )
                assert response.status_code == 412, (method, headers)
        stale = http.delete(path, query_string=query, headers={**xapi, "If-Match": '"1234"'})
        assert stale.status_code == 412
        assert http.get(path, query_string=query, headers=xapi).json == {"v": 1}
        response = http.put(
            path, query_string=query, json={"v": 2}, headers={**xapi, "If-Match": etag}
        )
        assert response.status_code == 204
        assert http.get(path, query_string=query, headers=xapi).json == {"v": 2}
        # A GET with the current ETag in If-None-Match is answered 304.
        etag = http.get(path, query_string=query, headers=xapi).headers["ETag"]
        cached = http.get(path, query_string=query, headers={**xapi, "If-None-Match": etag})
        assert cached.status_code == 304

    def test_put_without_preconditions_onto_a_profile_is_409(self, http, xapi):
        for path, query, _ in (RESOURCES["activity profile"], RESOURCES["agent profile"]):
            first = http.put(path, query_string=query, json={"v": 1}, headers=xapi)
            if xapi["X-Experience-API-Version"] == "1.0.3":
                # 1.0.3: a PUT of a profile must send If-Match or If-None-Match,
                # also when the profile is new (XAPI-NOTES.md).
                assert first.status_code == 400
                assert "If-None-Match" in first.json["message"]
                assert http.get(path, query_string=query, headers=xapi).status_code == 404
                first = http.put(path, query_string=query, json={"v": 1}, headers=create_only(xapi))
            assert first.status_code == 204
            response = http.put(path, query_string=query, json={"v": 2}, headers=xapi)
            assert response.status_code == 409
            assert "If-Match" in response.json["message"]
            assert http.get(path, query_string=query, headers=xapi).json == {"v": 1}

    def test_put_without_preconditions_onto_a_state_document(self, http, admin):
        path, query, _ = RESOURCES["state"]
        v1 = {**admin, "X-Experience-API-Version": "1.0.3"}
        v2 = {**admin, "X-Experience-API-Version": "2.0.0"}
        assert http.put(path, query_string=query, json={"v": 1}, headers=v1).status_code == 204
        # 1.0.3 lets state PUTs through (section 3.1); 2.0.0 does not.
        assert http.put(path, query_string=query, json={"v": 2}, headers=v1).status_code == 204
        assert http.put(path, query_string=query, json={"v": 3}, headers=v2).status_code == 409
        assert http.get(path, query_string=query, headers=v2).json == {"v": 2}

    def test_delete(self, http, xapi, resource):
        path, query, _ = resource
        http.post(path, query_string=query, json={"v": 1}, headers=xapi)
        assert http.delete(path, query_string=query, headers=xapi).status_code == 204
        assert http.get(path, query_string=query, headers=xapi).status_code == 404
        assert http.delete(path, query_string=query, headers=xapi).status_code == 204

    def test_ids_with_since(self, http, xapi, resource):
        path, query, name = resource
        http.post(path, query_string={**query, name: "first"}, json={}, headers=xapi)
        listed = http.get(
            path, query_string={k: v for k, v in query.items() if k != name}, headers=xapi
        )
        assert listed.status_code == 200
        assert listed.json == ["first"]
        assert "Last-Modified" in listed.headers
        since = "2999-01-01T00:00:00Z"
        later = http.get(
            path,
            query_string={**{k: v for k, v in query.items() if k != name}, "since": since},
            headers=xapi,
        )
        assert later.json == []
        # since beside an id is accepted and changes nothing.
        one = http.get(path, query_string={**query, name: "first", "since": since}, headers=xapi)
        assert one.status_code == 200 and one.json == {}

    def test_state_multiple_delete_clears_the_context_only(self, http, xapi):
        path, query, _ = RESOURCES["state"]
        context = {k: v for k, v in query.items() if k != "stateId"}
        elsewhere = {**query, "activityId": "http://example.org/activities/other"}
        for state_id in ("a", "b"):
            http.post(path, query_string={**context, "stateId": state_id}, json={}, headers=xapi)
        http.post(path, query_string=elsewhere, json={"kept": True}, headers=xapi)
        assert http.delete(path, query_string=context, headers=xapi).status_code == 204
        assert http.get(path, query_string=context, headers=xapi).json == []
        assert http.get(path, query_string=elsewhere, headers=xapi).json == {"kept": True}

    def test_registrations_keep_state_apart(self, http, xapi):
        path, query, _ = RESOURCES["state"]
        registered = {**query, "registration": REGISTRATION.upper()}
        http.post(path, query_string=registered, json={"in": "registration"}, headers=xapi)
        assert http.get(path, query_string=query, headers=xapi).status_code == 404
        lower = {**query, "registration": REGISTRATION}
        assert http.get(path, query_string=lower, headers=xapi).json == {"in": "registration"}


def _without(query, name):
    return {k: v for k, v in query.items() if k != name}


BAD_PARAMETERS = [
    ("state", "activityId", None),
    ("state", "activityId", "1"),
    ("state", "activityId", "not an IRI"),
    ("state", "agent", None),
    ("state", "agent", "not JSON"),
    ("state", "agent", "true"),
    ("state", "agent", json.dumps({"not_actor": "yup"})),
    ("state", "agent", json.dumps({"mbox": "ada@example.org"})),
    (
        "state",
        "agent",
        json.dumps({"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]}),
    ),
    ("state", "registration", "not UUID"),
    ("state", "registration", "1"),
    ("activity profile", "activityId", None),
    ("activity profile", "activityId", "true"),
    ("activity profile", "agent", AGENT),  # not a parameter of this resource
    ("agent profile", "agent", None),
    ("agent profile", "agent", "1"),
    ("agent profile", "activityId", ACTIVITY),
    ("agent profile", "unknown", "x"),
    ("state", "stateId", ""),
    ("activity profile", "profileId", "x" * 1001),
]


class TestBadRequests:
    @pytest.mark.parametrize(("name", "parameter", "value"), BAD_PARAMETERS)
    @pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
    def test_bad_parameters_are_400_and_change_nothing(
        self, http, xapi, name, parameter, value, method
    ):
        path, query, _ = RESOURCES[name]
        http.put(path, query_string=query, json={"v": 1}, headers=create_only(xapi))
        bad = _without(query, parameter) if value is None else {**query, parameter: value}
        response = http.open(path, method=method, query_string=bad, json={"v": 2}, headers=xapi)
        assert response.status_code == 400, response.json
        assert parameter in response.json["message"]
        assert http.get(path, query_string=query, headers=xapi).json == {"v": 1}

    @pytest.mark.parametrize("method", ["PUT", "POST"])
    def test_writes_need_the_document_id(self, http, xapi, resource, method):
        path, query, name = resource
        response = http.open(
            path, method=method, query_string=_without(query, name), json={}, headers=xapi
        )
        assert response.status_code == 400
        assert name in response.json["message"]

    def test_profiles_have_no_multiple_delete(self, http, xapi):
        for path, query, name in (RESOURCES["activity profile"], RESOURCES["agent profile"]):
            response = http.delete(path, query_string=_without(query, name), headers=xapi)
            assert response.status_code == 400

    @pytest.mark.parametrize("since", ["not a timestamp", "1", "true", "2020-13-01T00:00:00Z"])
    def test_bad_since_is_400(self, http, xapi, resource, since):
        path, query, name = resource
        response = http.get(
            path, query_string={**_without(query, name), "since": since}, headers=xapi
        )
        assert response.status_code == 400
        assert "since" in response.json["message"]

    def test_a_merge_nested_too_deeply_to_keep_is_400(self, http, xapi, resource):
        path, query, _ = resource
        http.post(path, query_string=query, json={"v": 1}, headers=xapi)
        deep = "[" * 300 + "]" * 300
        response = http.post(
            path,
            query_string=query,
            data='{"deep": ' + deep + "}",
            content_type="application/json",
            headers=xapi,
        )
        assert response.status_code == 400
        assert http.get(path, query_string=query, headers=xapi).json == {"v": 1}

    def test_invalid_json_cannot_be_posted_but_can_be_put_as_a_document(self, http, xapi, resource):
        path, query, name = resource
        http.post(path, query_string=query, json={"v": 1}, headers=xapi)
        bad = b'{"v": "\xff\xfe"}'.decode("unicode_escape").encode("latin-1")
        merge = http.post(
            path, query_string=query, data=bad, content_type="application/json", headers=xapi
        )
        assert merge.status_code == 400
        assert http.get(path, query_string=query, headers=xapi).json == {"v": 1}
        other = {**query, name: "raw"}
        # A POST merges JSON, so what claims to be JSON must be, even with nothing to merge.
        for body in (bad, b"{not json", b'{"a": 1'):
            posted = http.post(
                path, query_string=other, data=body, content_type="application/json", headers=xapi
            )
            assert posted.status_code == 400, body
            assert "not valid JSON" in posted.json["message"]
            assert http.get(path, query_string=other, headers=xapi).status_code == 404
        put = http.put(
            path,
            query_string=other,
            data=bad,
            content_type="application/json",
            headers={**xapi, "If-None-Match": "*"},
        )
        assert put.status_code == 204
        assert http.get(path, query_string=other, headers=xapi).data == bad

    def test_since_is_not_a_delete_parameter(self, http, xapi):
        path, query, _ = RESOURCES["state"]
        response = http.delete(
            path, query_string={**query, "since": "2020-01-01T00:00:00Z"}, headers=xapi
        )
        assert response.status_code == 400

    def test_a_parameter_given_twice_is_400(self, http, xapi, resource):
        path, query, name = resource
        twice = [*query.items(), (name, "again")]
        response = http.get(path, query_string=urlencode(twice), headers=xapi)
        assert response.status_code == 400
        assert "more than once" in response.json["message"]

    def test_missing_version_is_400(self, http, admin, resource):
        path, query, _ = resource
        assert http.get(path, query_string=query, headers=admin).status_code == 400

    def test_credentials_are_required(self, http, resource):
        path, query, _ = resource
        response = http.get(path, query_string=query, headers={"X-Experience-API-Version": "1.0.3"})
        assert response.status_code == 401


class TestConcurrency:
    @pytest.fixture(params=BACKENDS)
    def app(self, request, tmp_path):
        return make_app(storage_for(request.param, tmp_path))

    def test_concurrent_merges_of_different_keys_lose_none(self, http, xapi, resource):
        path, query, _ = resource
        http.post(path, query_string=query, json={}, headers=xapi)
        errors = []

        def merge(n):
            client = http.application.test_client()
            for round_ in range(5):
                response = client.post(
                    path, query_string=query, json={f"k{n}-{round_}": n}, headers=xapi
                )
                if response.status_code != 204:
                    errors.append(response.status_code)

        threads = [threading.Thread(target=merge, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(http.get(path, query_string=query, headers=xapi).json) == 40


class TestActivities:
    def test_the_definition_is_merged_from_statements(self, http, xapi):
        meeting = {
            "objectType": "Activity",
            "id": "http://www.example.com/meetings/34534",
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/meeting",
                "name": {"en-GB": "example meeting", "en-US": "example meeting"},
            },
        }
        response = http.post("/xAPI/statements", json=[statement(0, object=meeting)], headers=xapi)
        assert response.status_code == 200
        query = {"activityId": meeting["id"]}
        assert http.get("/xAPI/activities", query_string=query, headers=xapi).json == meeting
        french = {**meeting, "definition": {"name": {"fr-FR": "réunion"}}}
        http.post("/xAPI/statements", json=statement(1, object=french), headers=xapi)
        names = http.get("/xAPI/activities", query_string=query, headers=xapi).json["definition"][
            "name"
        ]
        assert names == {"en-GB": "example meeting", "en-US": "example meeting", "fr-FR": "réunion"}

    def test_an_unknown_activity_is_still_an_activity_object(self, http, xapi):
        query = {"activityId": "http://www.example.com/non/existent/activity"}
        response = http.get("/xAPI/activities", query_string=query, headers=xapi)
        assert response.json == {"objectType": "Activity", "id": query["activityId"]}

    @pytest.mark.parametrize(
        "query", [{}, {"activityId": "true"}, {"activityId": ACTIVITY, "since": "x"}]
    )
    def test_bad_requests_are_400(self, http, xapi, query):
        assert http.get("/xAPI/activities", query_string=query, headers=xapi).status_code == 400


class TestAgents:
    def test_a_person_object_of_what_the_lrs_knows(self, http, xapi):
        agent = {
            "objectType": "Agent",
            "name": "Rick James",
            "account": {"homePage": "http://www.example.com/agentId/1", "name": "Rick James"},
        }
        response = http.get("/xAPI/agents", query_string={"agent": json.dumps(agent)}, headers=xapi)
        assert response.status_code == 200
        assert response.json == {
            "objectType": "Person",
            "name": ["Rick James"],
            "account": [agent["account"]],
        }

    def test_a_users_record_adds_its_full_name_and_email(self, app, http, xapi):
        app.extensions["lrs"].enrollments.create_user(
            "ada", {"full_name": "Ada Lovelace", "email": "ada@example.org"}, actor="test"
        )
        homepage = app.config["ACCOUNT_HOMEPAGE"]
        agent = {"name": "ada", "account": {"homePage": homepage, "name": "ada"}}
        response = http.get("/xAPI/agents", query_string={"agent": json.dumps(agent)}, headers=xapi)
        assert response.json == {
            "objectType": "Person",
            "name": ["ada", "Ada Lovelace"],
            "account": [agent["account"]],
            "mbox": ["mailto:ada@example.org"],
        }

    @pytest.mark.parametrize("query", [{}, {"agent": "not JSON"}, {"agent": AGENT, "x": "1"}])
    def test_bad_requests_are_400(self, http, xapi, query):
        assert http.get("/xAPI/agents", query_string=query, headers=xapi).status_code == 400


class TestAbout:
    def test_about_lists_both_versions_without_credentials(self, http):
        response = http.get("/xAPI/about")
        assert response.status_code == 200
        assert response.json["version"] == ["1.0.3", "2.0.0"]
        assert response.json["extensions"] == {}


class TestAlternateSyntax:
    def test_documents_through_the_form(self, http):
        query = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}
        form = {
            **query,
            "Authorization": basic(*ADMIN)["Authorization"],
            "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json",
            "content": json.dumps({"via": "form"}),
        }
        response = http.post(f"{STATE}?method=PUT", data=form)
        assert response.status_code == 204, response.json
        form.pop("content")
        response = http.post(f"{STATE}?method=GET", data=form)
        assert response.json == {"via": "form"}
        form["X-Experience-API-Version"] = "2.0.0"
        assert http.post(f"{STATE}?method=GET", data=form).status_code == 400


class TestAccess:
    @pytest.fixture
    def learner(self, app):
        key, secret = "learner-key", "learner-secret-0123456789"
        app.extensions["lrs"].credentials.create(
            Role.learner, key=key, secret=secret, username="ada"
        )
        return {**basic(key, secret), "X-Experience-API-Version": "2.0.0"}

    def own(self, app):
        homepage = app.config["ACCOUNT_HOMEPAGE"]
        return json.dumps({"account": {"homePage": homepage, "name": "ada"}})

    def test_a_learner_uses_its_own_agents_documents_only(self, app, http, learner):
        own = {"activityId": ACTIVITY, "agent": self.own(app), "stateId": "bookmark"}
        assert (
            http.post(STATE, query_string=own, json={"page": 3}, headers=learner).status_code == 204
        )
        assert http.get(STATE, query_string=own, headers=learner).json == {"page": 3}
        others = {**own, "agent": AGENT}
        assert http.get(STATE, query_string=others, headers=learner).status_code == 403
        profile = {"agent": AGENT, "profileId": "p"}
        assert (
            http.post(AGENT_PROFILE, query_string=profile, json={}, headers=learner).status_code
            == 403
        )
        activity = {"activityId": ACTIVITY, "profileId": "p"}
        assert http.get(ACTIVITY_PROFILE, query_string=activity, headers=learner).status_code == 404
        assert (
            http.post(ACTIVITY_PROFILE, query_string=activity, json={}, headers=learner).status_code
            == 403
        )
        assert (
            http.get("/xAPI/agents", query_string={"agent": AGENT}, headers=learner).status_code
            == 403
        )

    def test_coach_credentials_may_not_use_documents_yet(self, app, http):
        key, secret = "coach-key-1", "coach-secret-0123456789"
        app.extensions["lrs"].credentials.create(Role.coach, key=key, secret=secret, username="cy")
        coach = {**basic(key, secret), "X-Experience-API-Version": "1.0.3"}
        for path, query, _ in RESOURCES.values():
            assert http.get(path, query_string=query, headers=coach).status_code == 403
