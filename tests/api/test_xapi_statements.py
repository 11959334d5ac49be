"""/xAPI/statements over HTTP, under both versions."""

import hashlib
import json
import threading
import uuid

import pytest

from lrs.enrollments import CourseRole
from lrs.exceptions import ServiceUnavailable
from lrs.testing import COURSE, OTHER_COURSE, statement
from lrs.xapi.validation import VOIDED
from tests.support import ADMIN, basic, make_app

URL = "/xAPI/statements"


@pytest.fixture(params=["1.0.3", "2.0.0"])
def xapi(request, admin):
    """Headers of an admin request under each version."""
    return {**admin, "X-Experience-API-Version": request.param}


def stored_ids(http, xapi, **query):
    response = http.get(URL, query_string={"limit": 1000, **query}, headers=xapi)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["statements"]]


class TestVersions:
    @pytest.mark.parametrize(
        ("sent", "answered"),
        [
            ("1.0.3", "1.0.3"),
            ("1.0.0", "1.0.3"),
            ("1.0.1", "1.0.3"),
            ("2.0.0", "2.0.0"),
            ("2.0", "2.0.0"),
        ],
    )
    def test_supported_versions(self, http, admin, sent, answered):
        response = http.get(URL, headers={**admin, "X-Experience-API-Version": sent})
        assert response.status_code == 200
        assert response.headers["X-Experience-API-Version"] == answered

    @pytest.mark.parametrize("sent", [None, "", "0.95", "1.1.0", "3.0.0", "1.0.x", "latest"])
    def test_missing_or_unsupported_version_is_400(self, http, admin, sent):
        headers = dict(admin)
        if sent is not None:
            headers["X-Experience-API-Version"] = sent
        response = http.get(URL, headers=headers)
        assert response.status_code == 400
        assert "X-Experience-API-Version" in response.json["message"]
        assert response.headers["X-Experience-API-Version"] == "2.0.0"

    def test_about_needs_no_credentials_or_version(self, http):
        response = http.get("/xAPI/about")
        assert response.status_code == 200
        assert response.json["version"] == ["1.0.3", "2.0.0"]

    def test_context_agents_only_under_2_0(self, http, admin):
        data = statement(
            0,
            context={
                "contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:c@d.e"}}]
            },
        )
        v1 = {**admin, "X-Experience-API-Version": "1.0.3"}
        v2 = {**admin, "X-Experience-API-Version": "2.0.0"}
        assert http.post(URL, json=data, headers=v1).status_code == 400
        assert http.post(URL, json=data, headers=v2).status_code == 200

    def test_missing_credentials_still_name_the_version(self, http):
        response = http.get(URL, headers={"X-Experience-API-Version": "1.0.3"})
        assert response.status_code == 401
        assert response.headers["X-Experience-API-Version"] == "1.0.3"


class TestWrites:
    def test_post_one_and_a_batch(self, http, xapi):
        response = http.post(URL, json=statement(0), headers=xapi)
        assert response.status_code == 200
        assert response.json == [statement(0)["id"]]
        response = http.post(URL, json=[statement(1), statement(2)], headers=xapi)
        assert response.json == [statement(1)["id"], statement(2)["id"]]
        assert "X-Experience-API-Consistent-Through" in response.headers

    def test_ids_are_assigned_when_missing(self, http, xapi):
        data = statement(0)
        del data["id"]
        # More than the 256 ids one draw of randomness gives.
        response = http.post(URL, json=[data] * 300, headers=xapi)
        ids = [uuid.UUID(text) for text in response.json]
        assert len(set(ids)) == 300
        assert {(item.version, item.variant) for item in ids} == {(4, uuid.RFC_4122)}
        assert response.json == [str(item) for item in ids]  # lower case, hyphens

    def test_lrs_sets_stored_authority_and_version(self, http, xapi):
        data = {**statement(0), "authority": {"mbox": "mailto:forged@example.org"}}
        http.post(URL, json=data, headers=xapi)
        stored = http.get(URL, query_string={"statementId": data["id"]}, headers=xapi).json
        assert stored["authority"]["account"]["name"] == ADMIN[0]
        assert stored["version"] in ("1.0.0", "2.0.0")
        assert stored["stored"].endswith("Z")

    def test_a_batch_is_all_or_nothing(self, http, xapi):
        bad = {**statement(1), "verb": {"id": "not an iri"}}
        response = http.post(URL, json=[statement(0), bad, statement(2)], headers=xapi)
        assert response.status_code == 400
        assert response.json["message"].startswith("statements[1].verb.id")
        assert stored_ids(http, xapi) == []

    def test_a_batch_repeating_an_id_is_400(self, http, xapi):
        response = http.post(URL, json=[statement(0), statement(0)], headers=xapi)
        assert response.status_code == 400
        assert stored_ids(http, xapi) == []

    def test_same_id_same_content_is_accepted_other_content_is_409(self, http, xapi):
        http.post(URL, json=statement(0), headers=xapi)
        assert http.post(URL, json=[statement(0), statement(1)], headers=xapi).status_code == 200
        other = statement(0, verb="http://adlnet.gov/expapi/verbs/failed")
        response = http.post(URL, json=[statement(2), other], headers=xapi)
        assert response.status_code == 409
        assert set(stored_ids(http, xapi)) == {statement(0)["id"], statement(1)["id"]}

    def test_put(self, http, xapi):
        data = statement(0)
        query = {"statementId": data["id"]}
        assert http.put(URL, query_string=query, json=data, headers=xapi).status_code == 204
        assert http.put(URL, query_string=query, json=data, headers=xapi).status_code == 204
        other = statement(0, verb="http://adlnet.gov/expapi/verbs/failed")
        assert http.put(URL, query_string=query, json=other, headers=xapi).status_code == 409

    @pytest.mark.parametrize(
        ("query", "body"),
        [
            ({}, statement(0)),
            ({"statementId": "nope"}, statement(0)),
            ({"statementId": statement(1)["id"]}, statement(0)),
            ({"statementId": statement(0)["id"], "extra": "1"}, statement(0)),
            ({"statementId": statement(0)["id"]}, [statement(0)]),
        ],
    )
    def test_bad_puts_are_400(self, http, xapi, query, body):
        assert http.put(URL, query_string=query, json=body, headers=xapi).status_code == 400
        assert stored_ids(http, xapi) == []

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            (b"{not json", "application/json"),
            (b"[]", "application/json"),
            (b'"text"', "application/json"),
            (json.dumps(statement(0)).encode(), "text/plain"),
            (b'{"actor": ' * 2000, "application/json"),
            (b'{"a": "\xff"}', "application/json"),
        ],
    )
    def test_bad_bodies_are_400(self, http, xapi, body, content_type):
        response = http.post(URL, data=body, content_type=content_type, headers=xapi)
        assert response.status_code == 400
        assert response.json["message"]
        assert stored_ids(http, xapi) == []

    def test_a_statement_nested_too_deeply_to_store_is_400(self, http, xapi):
        data = json.dumps(statement(0, result={"extensions": {"http://x.org/e": "DEEP"}}))
        body = data.replace('"DEEP"', "[" * 300 + "1" + "]" * 300)
        response = http.post(URL, data=body, content_type="application/json", headers=xapi)
        assert response.status_code == 400
        assert "nested too deeply" in response.json["message"]
        assert stored_ids(http, xapi) == []

    def test_attachments_without_file_url_need_multipart(self, http, xapi):
        attachment = {
            "usageType": "http://x.org/usage",
            "display": {"en-US": "file"},
            "contentType": "text/plain",
            "length": 4,
            "sha2": "a" * 64,
        }
        response = http.post(URL, json=statement(0, attachments=[attachment]), headers=xapi)
        assert response.status_code == 400
        assert "multipart" in response.json["message"]
        with_url = {**attachment, "fileUrl": "http://x.org/file.txt"}
        assert (
            http.post(URL, json=statement(0, attachments=[with_url]), headers=xapi).status_code
            == 200
        )


class TestVoiding:
    def void(self, n, target):
        return statement(n, verb=VOIDED, object={"objectType": "StatementRef", "id": target})

    def test_voided_statement_is_found_only_by_voided_statement_id(self, http, xapi):
        http.post(URL, json=[statement(0), statement(1)], headers=xapi)
        http.post(URL, json=self.void(2, statement(0)["id"]), headers=xapi)
        target = statement(0)["id"]
        assert http.get(URL, query_string={"statementId": target}, headers=xapi).status_code == 404
        voided = http.get(URL, query_string={"voidedStatementId": target}, headers=xapi)
        assert voided.status_code == 200
        assert voided.json["id"] == target
        query = {"voidedStatementId": statement(1)["id"]}
        assert http.get(URL, query_string=query, headers=xapi).status_code == 404
        assert stored_ids(http, xapi) == [statement(2)["id"], statement(1)["id"]]

    def test_a_voiding_statement_cannot_be_voided(self, http, xapi):
        http.post(URL, json=[statement(0), self.void(1, statement(0)["id"])], headers=xapi)
        response = http.post(URL, json=self.void(2, statement(1)["id"]), headers=xapi)
        assert response.status_code == 400
        assert "cannot be voided" in response.json["message"]


class TestQueries:
    def test_single_statement_headers_and_head(self, http, xapi):
        http.post(URL, json=statement(0), headers=xapi)
        query = {"statementId": statement(0)["id"]}
        response = http.get(URL, query_string=query, headers=xapi)
        assert response.headers["Last-Modified"].endswith("GMT")
        assert "X-Experience-API-Consistent-Through" in response.headers
        head = http.head(URL, query_string=query, headers=xapi)
        assert head.status_code == 200
        assert head.data == b""

    def test_trailing_slash_works(self, http, xapi):
        assert http.get(URL + "/", headers=xapi).status_code == 200

    def test_filters(self, http, xapi):
        other_verb = "http://adlnet.gov/expapi/verbs/failed"
        http.post(
            URL,
            json=[
                statement(0),
                statement(1, verb=other_verb),
                statement(2, actor="mailto:grace@example.org"),
                statement(3, activity="http://example.org/activities/a1"),
            ],
            headers=xapi,
        )
        ada = json.dumps({"mbox": "mailto:ada@example.org"})
        assert stored_ids(http, xapi, verb=other_verb) == [statement(1)["id"]]
        assert len(stored_ids(http, xapi, agent=ada)) == 3
        assert stored_ids(http, xapi, activity="http://example.org/activities/a1") == [
            statement(3)["id"]
        ]
        ascending = stored_ids(http, xapi, ascending="true")
        assert ascending == [statement(n)["id"] for n in range(4)]

    def test_since_and_until(self, http, xapi):
        http.post(URL, json=statement(0), headers=xapi)
        first = http.get(URL, query_string={"statementId": statement(0)["id"]}, headers=xapi).json
        http.post(URL, json=statement(1), headers=xapi)
        assert stored_ids(http, xapi, since=first["stored"]) == [statement(1)["id"]]
        assert stored_ids(http, xapi, until=first["stored"]) == [statement(0)["id"]]

    def test_more_pages_stably_while_statements_arrive(self, http, xapi):
        http.post(URL, json=[statement(n) for n in range(5)], headers=xapi)
        page = http.get(URL, query_string={"limit": 2}, headers=xapi).json
        seen = [item["id"] for item in page["statements"]]
        http.post(URL, json=statement(9), headers=xapi)  # arrives while paging
        while page["more"]:
            page = http.get(page["more"], headers=xapi).json
            seen += [item["id"] for item in page["statements"]]
        assert seen == [statement(n)["id"] for n in (4, 3, 2, 1, 0)]

    def test_format_ids(self, http, xapi):
        data = statement(0)
        data["actor"]["name"] = "Ada"
        data["verb"]["display"] = {"en-US": "completed"}
        http.post(URL, json=data, headers=xapi)
        query = {"statementId": data["id"], "format": "ids"}
        stored = http.get(URL, query_string=query, headers=xapi).json
        assert stored["actor"] == {"mbox": "mailto:ada@example.org"}
        assert stored["verb"] == {"id": data["verb"]["id"]}

    def test_attachments_true_answers_multipart(self, http, xapi):
        http.post(URL, json=statement(0), headers=xapi)
        response = http.get(URL, query_string={"attachments": "true"}, headers=xapi)
        assert response.mimetype == "multipart/mixed"
        assert statement(0)["id"].encode() in response.data

    @pytest.mark.parametrize(
        "query",
        [
            {"statementId": statement(0)["id"], "voidedStatementId": statement(1)["id"]},
            {"statementId": statement(0)["id"], "verb": "http://x.org/v"},
            {"statementId": "not-a-uuid"},
            {"agent": "not json"},
            {"agent": json.dumps({"name": "no identifier"})},
            {"verb": "not an iri"},
            {"registration": "x"},
            {"since": "yesterday"},
            {"limit": "-1"},
            {"limit": "ten"},
            {"ascending": "yes"},
            {"format": "full"},
            {"unknown": "1"},
            {"more": "garbage"},
        ],
    )
    def test_bad_queries_are_400(self, http, xapi, query):
        response = http.get(URL, query_string=query, headers=xapi)
        assert response.status_code == 400, query
        assert response.json["message"]


class TestAccess:
    @pytest.fixture
    def learner(self, app):
        credential, secret = app.extensions["lrs"].credentials.create("learner", username="ada")
        return {**basic(credential.key, secret), "X-Experience-API-Version": "1.0.3"}

    @staticmethod
    def own(n, name="ada"):
        data = statement(n)
        data["actor"] = {"account": {"homePage": "http://localhost", "name": name}}
        return data

    def test_a_learner_stores_and_reads_only_its_own_statements(self, http, xapi, learner):
        assert http.post(URL, json=self.own(0), headers=learner).status_code == 200
        query = {"statementId": statement(0)["id"]}
        assert (
            http.put(
                URL,
                query_string={"statementId": statement(1)["id"]},
                json=self.own(1),
                headers=learner,
            ).status_code
            == 204
        )
        # Someone else's statements, stored by an application:
        http.post(URL, json=[self.own(2, name="grace"), statement(3)], headers=xapi)
        assert http.get(URL, query_string=query, headers=learner).status_code == 200
        other = {"statementId": statement(2)["id"]}
        assert http.get(URL, query_string=other, headers=learner).status_code == 404
        assert http.get(URL, query_string=other, headers=xapi).status_code == 200
        seen = {item["id"] for item in http.get(URL, headers=learner).json["statements"]}
        assert seen == {statement(0)["id"], statement(1)["id"]}

    def test_a_learner_may_not_store_or_query_for_others(self, http, learner):
        response = http.post(URL, json=[self.own(0), self.own(1, name="grace")], headers=learner)
        assert response.status_code == 403
        assert http.post(URL, json=statement(2), headers=learner).status_code == 403
        grace = json.dumps({"account": {"homePage": "http://localhost", "name": "grace"}})
        assert http.get(URL, query_string={"agent": grace}, headers=learner).status_code == 403
        assert http.get(URL, headers=learner).json["statements"] == []

    def test_a_coach_reads_the_statements_of_its_courses_learners_only(self, app, http, admin):
        enrollments = app.extensions["lrs"].enrollments
        for name in ("kim", "ada", "bob"):
            enrollments.create_user(name, {}, actor="test")
        enrollments.enroll("kim", COURSE, role=CourseRole.coach, actor="test")
        enrollments.enroll("ada", COURSE, actor="test")
        enrollments.enroll("bob", OTHER_COURSE, actor="test")
        homepage = app.config["ACCOUNT_HOMEPAGE"]

        def agent(name):
            return {"account": {"homePage": homepage, "name": name}}

        xapi = {**admin, "X-Experience-API-Version": "1.0.3"}
        http.post(
            URL,
            json=[{**statement(0), "actor": agent("ada")}, {**statement(1), "actor": agent("bob")}],
            headers=xapi,
        )
        credential, secret = app.extensions["lrs"].credentials.create("coach", username="kim")
        coach = {**basic(credential.key, secret), "X-Experience-API-Version": "1.0.3"}
        found = http.get(URL, query_string={"agent": json.dumps(agent("ada"))}, headers=coach)
        assert [item["id"] for item in found.json["statements"]] == [statement(0)["id"]]
        one = http.get(URL, query_string={"statementId": statement(0)["id"]}, headers=coach)
        assert one.status_code == 200
        other = http.get(URL, query_string={"statementId": statement(1)["id"]}, headers=coach)
        assert other.status_code == 404
        bob = http.get(URL, query_string={"agent": json.dumps(agent("bob"))}, headers=coach)
        assert bob.status_code == 403
        assert http.get(URL, headers=coach).status_code == 403  # must name the learner
        posted = http.post(URL, json={**statement(2), "actor": agent("ada")}, headers=coach)
        assert posted.status_code == 403
        # Unenrolled, ada is no longer the coach's to read.
        enrollments.update_enrollment("ada", COURSE, is_active=False, actor="test")
        gone = http.get(URL, query_string={"agent": json.dumps(agent("ada"))}, headers=coach)
        assert gone.status_code == 403


class TestReliability:
    def test_concurrent_overlapping_batches_store_each_statement_once(self):
        app = make_app()
        headers = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}
        errors = []

        def post(start):
            client = app.test_client()
            for first in range(start, 40, 4):
                batch = [statement(n) for n in range(first, first + 6)]
                response = client.post(URL, json=batch, headers=headers)
                if response.status_code != 200:
                    errors.append(response.status_code)

        threads = [threading.Thread(target=post, args=(start,)) for start in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        ids = stored_ids(app.test_client(), headers)
        assert sorted(ids) == sorted({statement(n)["id"] for n in range(45)})

    def test_a_store_failure_is_503_and_stores_nothing(self, app, admin):
        store = app.extensions["lrs"].statements

        class Failing:
            def __getattr__(self, name):
                return getattr(store, name)

            def save(self, records):
                raise ServiceUnavailable("connection reset")

        app.extensions["lrs"].statements = Failing()
        headers = {**admin, "X-Experience-API-Version": "1.0.3"}
        response = app.test_client().post(URL, json=[statement(0), statement(1)], headers=headers)
        assert response.status_code == 503
        assert "Retry-After" in response.headers
        assert store.count() == 0


class TestCors:
    def test_preflight_needs_no_credentials(self, http):
        response = http.options(
            URL,
            headers={
                "Origin": "http://content.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,x-experience-api-version",
            },
        )
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "http://content.example"
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert "x-experience-api-version" in allowed and "authorization" in allowed

    def test_responses_expose_the_xapi_headers(self, http, xapi):
        response = http.get(URL, headers={**xapi, "Origin": "http://content.example"})
        exposed = response.headers["Access-Control-Expose-Headers"]
        assert "X-Experience-API-Consistent-Through" in exposed
        assert "X-Experience-API-Version" in exposed

    def test_allowed_origins_are_configurable(self):
        app = make_app(CORS_ORIGINS=["http://allowed.example"])
        http = app.test_client()
        allowed = http.get("/xAPI/about", headers={"Origin": "http://allowed.example"})
        assert allowed.headers["Access-Control-Allow-Origin"] == "http://allowed.example"
        other = http.get("/xAPI/about", headers={"Origin": "http://other.example"})
        assert "Access-Control-Allow-Origin" not in other.headers

    def test_the_rest_api_is_not_opened_to_browsers(self, http, admin):
        response = http.get("/api/v1/me", headers={**admin, "Origin": "http://content.example"})
        assert "Access-Control-Allow-Origin" not in response.headers


class TestAlternateSyntax:
    def form(self, version="1.0.3", **fields):
        from base64 import b64encode

        token = b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()
        return {"Authorization": f"Basic {token}", "X-Experience-API-Version": version, **fields}

    def test_put_get_and_post_through_the_form(self, http):
        data = statement(0)
        fields = self.form(statementId=data["id"], content=json.dumps(data))
        fields["Content-Type"] = "application/json"
        response = http.post(URL, query_string={"method": "PUT"}, data=fields)
        assert response.status_code == 204, response.get_json()
        response = http.post(
            URL, query_string={"method": "GET"}, data=self.form(statementId=data["id"])
        )
        assert response.status_code == 200
        assert response.json["id"] == data["id"]
        fields = self.form(content=json.dumps([statement(1)]))
        response = http.post(URL, query_string={"method": "POST"}, data=fields)
        assert response.json == [statement(1)["id"]]

    def test_refused_under_2_0(self, http):
        fields = self.form(version="2.0.0", statementId=statement(0)["id"])
        response = http.post(URL, query_string={"method": "GET"}, data=fields)
        assert response.status_code == 400
        assert "alternate" in response.json["message"]

    @pytest.mark.parametrize(
        "query", [{"method": "GET", "limit": "1"}, {"method": "PATCH"}, {"method": ""}]
    )
    def test_bad_alternate_requests_are_400(self, http, query):
        response = http.post(URL, query_string=query, data=self.form())
        assert response.status_code == 400
        assert response.json["message"]

    def test_credentials_in_the_form_are_checked(self, http):
        fields = self.form()
        fields["Authorization"] = "Basic bm9ib2R5Om5vdGhpbmc="
        response = http.post(URL, query_string={"method": "GET"}, data=fields)
        assert response.status_code == 401


def multipart_body(statements, parts, boundary="xAPIBoundary"):
    """A multipart/mixed request: statements first, then (headers, data) parts."""
    chunks = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode()]
    chunks += [json.dumps(statements).encode(), b"\r\n"]
    for headers, data in parts:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        chunks += [f"--{boundary}\r\n{head}\r\n".encode(), data, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/mixed; boundary={boundary}"


class TestAttachments:
    data = b"certificate \r\n--not-a-boundary\r\n\x00\xff bytes"
    sha2 = hashlib.sha256(data).hexdigest()

    def attached(self, n=0, sha2=None):
        attachment = {
            "usageType": "http://adlnet.gov/expapi/attachments/certificate",
            "display": {"en-US": "certificate"},
            "contentType": "application/octet-stream",
            "length": len(self.data),
            "sha2": sha2 or self.sha2,
        }
        return statement(n, attachments=[attachment])

    def part(self, data=None, sha2=None, **extra):
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Transfer-Encoding": "binary",
            "X-Experience-API-Hash": sha2 or self.sha2,
            **extra,
        }
        return headers, data if data is not None else self.data

    def test_round_trip(self, http, xapi):
        body, content_type = multipart_body([self.attached(0), self.attached(1)], [self.part()])
        response = http.post(URL, data=body, content_type=content_type, headers=xapi)
        assert response.status_code == 200, response.get_json()
        query = {"statementId": statement(0)["id"], "attachments": "true"}
        answer = http.get(URL, query_string=query, headers=xapi)
        assert answer.mimetype == "multipart/mixed"
        from lrs.xapi.multipart import parse

        first, attachment = parse(answer.data, answer.mimetype_params["boundary"])
        assert json.loads(first.data)["id"] == statement(0)["id"]
        assert attachment.data == self.data
        assert attachment.headers["x-experience-api-hash"] == self.sha2
        assert attachment.headers["content-transfer-encoding"] == "binary"
        plain = http.get(URL, query_string={"statementId": statement(0)["id"]}, headers=xapi)
        assert plain.mimetype == "application/json"

    def test_put_with_an_attachment(self, http, xapi):
        body, content_type = multipart_body(self.attached(0), [self.part()])
        query = {"statementId": statement(0)["id"]}
        response = http.put(
            URL, query_string=query, data=body, content_type=content_type, headers=xapi
        )
        assert response.status_code == 204, response.get_json()

    @pytest.mark.parametrize(
        ("make_parts", "message"),
        [
            pytest.param(lambda t: [], "no multipart part", id="missing-part"),
            pytest.param(
                lambda t: [t.part(**{"X-Experience-API-Hash": ""})],
                "X-Experience-API-Hash",
                id="no-hash",
            ),
            pytest.param(
                lambda t: [t.part(data=b"other bytes")], "SHA-2", id="data-not-matching-hash"
            ),
            pytest.param(
                lambda t: [t.part(data=b"x", sha2=hashlib.sha256(b"x").hexdigest())],
                "no multipart part",
                id="only-another-attachment",
            ),
        ],
    )
    def test_bad_attachments_are_400_and_store_nothing(self, http, xapi, make_parts, message):
        body, content_type = multipart_body([self.attached(0)], make_parts(self))
        response = http.post(URL, data=body, content_type=content_type, headers=xapi)
        assert response.status_code == 400
        assert message in response.json["message"]
        assert stored_ids(http, xapi) == []

    def test_sha384_and_sha512_are_accepted(self, http, xapi):
        for n, algorithm in enumerate((hashlib.sha384, hashlib.sha512)):
            sha2 = algorithm(self.data).hexdigest()
            body, content_type = multipart_body([self.attached(n, sha2)], [self.part(sha2=sha2)])
            assert (
                http.post(URL, data=body, content_type=content_type, headers=xapi).status_code
                == 200
            )

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            (b"--x\r\nContent-Type: application/json\r\n\r\n[]\r\n--x--\r\n", "multipart/mixed"),
            (
                b"--x\r\nContent-Type: text/plain\r\n\r\n[]\r\n--x--\r\n",
                "multipart/mixed; boundary=x",
            ),
            (b"garbage", "multipart/mixed; boundary=x"),
        ],
    )
    def test_malformed_multipart_is_400(self, http, xapi, body, content_type):
        response = http.post(URL, data=body, content_type=content_type, headers=xapi)
        assert response.status_code == 400
        assert response.json["message"]


@pytest.fixture(scope="module")
def signer():
    """An RSA key and a self-signed certificate for it."""
    import base64
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lrs test signer")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return key, base64.b64encode(der).decode()


class TestSignedStatements:
    def signed(self, signer, payload=None, algorithm="RS256", with_x5c=True, key=None):
        import jwt

        data = statement(0)
        headers = {"x5c": [signer[1]]} if with_x5c else {}
        token = jwt.api_jws.encode(
            json.dumps(payload or data).encode(),
            key or signer[0],
            algorithm=algorithm,
            headers=headers,
        ).encode()
        return self.signed_with(data, token)

    @staticmethod
    def signed_with(data, token):
        """A multipart request of ``data`` with the JWS ``token`` as its signature."""
        sha2 = hashlib.sha256(token).hexdigest()
        data["attachments"] = [
            {
                "usageType": "http://adlnet.gov/expapi/attachments/signature",
                "display": {"en-US": "signature"},
                "contentType": "application/octet-stream",
                "length": len(token),
                "sha2": sha2,
            }
        ]
        part = {
            "Content-Type": "application/octet-stream",
            "Content-Transfer-Encoding": "binary",
            "X-Experience-API-Hash": sha2,
        }
        return multipart_body([data], [(part, token)])

    def test_a_well_signed_statement_is_stored(self, http, xapi, signer):
        body, content_type = self.signed(signer)
        response = http.post(URL, data=body, content_type=content_type, headers=xapi)
        assert response.status_code == 200, response.get_json()

    def test_a_signature_without_certificate_is_checked_for_form_only(self, http, xapi, signer):
        body, content_type = self.signed(signer, with_x5c=False)
        assert http.post(URL, data=body, content_type=content_type, headers=xapi).status_code == 200

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            pytest.param({"payload": statement(5)}, "not the statement", id="other-payload"),
            pytest.param(
                {"algorithm": "HS256", "key": "a-shared-secret-of-some-length!!"},
                "algorithm",
                id="hs256",
            ),
            pytest.param({"algorithm": "PS256"}, "algorithm", id="ps256"),
        ],
    )
    def test_malformed_signatures_are_400(self, http, xapi, signer, change, message):
        body, content_type = self.signed(signer, **change)
        response = http.post(URL, data=body, content_type=content_type, headers=xapi)
        assert response.status_code == 400
        assert message in response.json["message"]
        assert stored_ids(http, xapi) == []

    def test_a_signature_by_another_key_does_not_verify(self, http, xapi, signer):
        from cryptography.hazmat.primitives.asymmetric import rsa

        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        body, content_type = self.signed(signer, key=other)
        response = http.post(URL, data=body, content_type=content_type, headers=xapi)
        assert response.status_code == 400
        assert "does not verify" in response.json["message"]

    def test_a_signature_that_is_not_a_jws_is_400(self, http, xapi, signer):
        body, content_type = self.signed(signer)
        token_start = body.index(b"eyJ")
        body = body[:token_start] + b"!!" + body[token_start + 2 :]
        response = http.post(URL, data=body, content_type=content_type, headers=xapi)
        assert response.status_code == 400


class TestCanonicalFormat:
    def test_language_maps_keep_the_best_accepted_language(self, http, xapi):
        data = statement(0)
        data["verb"]["display"] = {"en-US": "completed", "fr-FR": "terminé", "de": "beendet"}
        data["object"]["definition"] = {
            "name": {"en-US": "Intro", "fr-FR": "Introduction"},
            "interactionType": "choice",
            "choices": [{"id": "a", "description": {"en-US": "yes", "fr-FR": "oui"}}],
        }
        http.post(URL, json=data, headers=xapi)
        query = {"statementId": data["id"], "format": "canonical"}
        french = http.get(URL, query_string=query, headers={**xapi, "Accept-Language": "fr"}).json
        assert french["verb"]["display"] == {"fr-FR": "terminé"}
        assert french["object"]["definition"]["name"] == {"fr-FR": "Introduction"}
        assert french["object"]["definition"]["choices"][0]["description"] == {"fr-FR": "oui"}
        german = http.get(
            URL, query_string=query, headers={**xapi, "Accept-Language": "it, de;q=0.5"}
        ).json
        assert german["verb"]["display"] == {"de": "beendet"}
        exact = http.get(URL, query_string={"statementId": data["id"]}, headers=xapi).json
        assert len(exact["verb"]["display"]) == 3


def test_consistent_through_is_on_every_statement_response(http, xapi):
    responses = [
        http.get(URL, headers=xapi),
        http.get(URL, query_string={"statementId": statement(9)["id"]}, headers=xapi),  # 404
        http.post(URL, json={"bad": 1}, headers=xapi),  # 400
        http.get(
            URL, headers={"X-Experience-API-Version": xapi["X-Experience-API-Version"]}
        ),  # 401
    ]
    for response in responses:
        assert "X-Experience-API-Consistent-Through" in response.headers, response.status_code
    assert "X-Experience-API-Consistent-Through" not in http.get("/xAPI/about").headers


def test_requests_without_an_origin_get_no_cors_headers(http, xapi):
    # Not a browser's cross-origin fetch (which always sends Origin): nothing to allow.
    response = http.get(URL, headers=xapi)
    assert response.status_code == 200
    assert not [name for name in response.headers.keys() if name.startswith("Access-Control")]


def test_a_since_query_stops_where_the_store_is_consistent_through(app, http, xapi, monkeypatch):
    # MongoDB says "through" before its oldest batch in flight (docs/mongodb.md):
    # a poller of since must then not walk past it, and the header says so.
    from lrs.clock import from_us
    from lrs.xapi.statements.base import StatementQuery

    for n in range(3):
        assert http.post(URL, json=statement(n), headers=xapi).status_code == 200
    store = app.extensions["lrs"].statements
    stored = [record.stored_us for record in store.query(StatementQuery(ascending=True, limit=9))]
    through = stored[1]  # as if a batch stamped just after the second were still in flight
    monkeypatch.setattr(store, "consistent_through_us", lambda now_us: through)
    monkeypatch.setattr(store, "readable_through_us", lambda now_us: through)
    since = from_us(stored[0] - 1).isoformat()
    found = http.get(URL, query_string={"since": since}, headers=xapi)
    assert [item["id"] for item in found.json["statements"]] == [
        statement(1)["id"],
        statement(0)["id"],
    ]
    header = found.headers["X-Experience-API-Consistent-Through"]
    assert header.startswith(from_us(through).strftime("%Y-%m-%dT%H:%M:%S"))
    ascending = http.get(URL, query_string={"ascending": "true"}, headers=xapi).json
    assert len(ascending["statements"]) == 2
    # Without since, in the default order, everything visible is read.
    assert len(http.get(URL, headers=xapi).json["statements"]) == 3


def test_in_memory_batches_are_stored_in_the_order_of_their_stamps(monkeypatch):
    # A reader of since resumes from the last stored it saw: a batch stamped
    # earlier must never become visible after one stamped later.
    from lrs.xapi.statements.base import StatementQuery

    app = make_app()
    store = app.extensions["lrs"].statements
    real_save = store.save
    inside, release = threading.Event(), threading.Event()

    def slow_first(records):
        if records and records[0].id == statement(0)["id"]:
            inside.set()
            release.wait(10)
        return real_save(records)

    monkeypatch.setattr(store, "save", slow_first)
    headers = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}

    def post(n):
        assert app.test_client().post(URL, json=statement(n), headers=headers).status_code == 200

    first = threading.Thread(target=post, args=(0,))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=post, args=(1,))
    second.start()
    second.join(0.3)
    assert second.is_alive()  # it waits for the batch stamped before it
    assert store.query(StatementQuery(limit=9)) == []  # and nothing shows out of order
    release.set()
    first.join(10)
    second.join(10)
    stored = store.query(StatementQuery(limit=9, ascending=True))
    assert [record.id for record in stored] == [statement(0)["id"], statement(1)["id"]]
