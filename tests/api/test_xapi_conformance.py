"""The rules an independent conformance suite checks, one test per rule, under both versions.

Each names the section of the specification it holds the server to (see
docs/conformance.md for the map of every test file).
"""

import hashlib
import json

import pytest

from lrs.testing import statement
from tests.api.test_xapi_statements import TestSignedStatements, multipart_body, signer
from tests.support import make_app

URL = "/xAPI/statements"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
ACTIVITY = "http://example.org/activities/q1"

__all__ = ["signer"]  # the fixture, shared with the statement tests


@pytest.fixture(params=["1.0.3", "2.0.0"])
def xapi(request, admin):
    return {**admin, "X-Experience-API-Version": request.param}


def count(app):
    return app.extensions["lrs"].statements.count()


def substatement(obj):
    return {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:sub@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": obj,
    }


class TestActivityDefinitions:
    """Data 2.4.4.1: any shape of any definition property is a 400 naming its path."""

    @pytest.mark.parametrize(
        "interaction_type", [{"type": "choice"}, ["choice"], 1, True, "Choice"]
    )
    @pytest.mark.parametrize("where", ["statement", "substatement"])
    def test_an_interaction_type_that_is_not_one_of_the_names_is_400(
        self, app, http, xapi, interaction_type, where
    ):
        activity = {"id": ACTIVITY, "definition": {"interactionType": interaction_type}}
        if where == "statement":
            data, path = statement(0, object=activity), "statement.object"
        else:
            data, path = statement(0, object=substatement(activity)), "statement.object.object"
        response = http.post(URL, json=data, headers=xapi)
        assert response.status_code == 400, response.json
        assert f"{path}.definition.interactionType" in response.json["message"]
        assert count(app) == 0


class TestAuthority:
    """Data 2.4.9: an Agent, or an anonymous Group of exactly two Agents."""

    AGENTS = [{"mbox": "mailto:consumer@example.org"}, {"mbox": "mailto:user@example.org"}]

    @pytest.mark.parametrize(
        "authority",
        [
            pytest.param(
                {"objectType": "Group", "member": AGENTS, "mbox": "mailto:g@x.org"}, id="mbox"
            ),
            pytest.param(
                {"objectType": "Group", "member": AGENTS, "mbox_sha1sum": "a" * 40}, id="sha1"
            ),
            pytest.param(
                {"objectType": "Group", "member": AGENTS, "openid": "http://x.org/g"}, id="openid"
            ),
            pytest.param(
                {
                    "objectType": "Group",
                    "member": AGENTS,
                    "account": {"homePage": "http://x.org", "name": "g"},
                },
                id="account",
            ),
            pytest.param({"objectType": "Group", "member": AGENTS[:1]}, id="one-member"),
            pytest.param(
                {"objectType": "Group", "member": [*AGENTS, {"mbox": "mailto:third@x.org"}]},
                id="three-members",
            ),
        ],
    )
    def test_a_group_authority_must_be_anonymous_with_two_agents(self, app, http, xapi, authority):
        response = http.post(URL, json=statement(0, authority=authority), headers=xapi)
        assert response.status_code == 400, response.json
        assert "statement.authority" in response.json["message"]
        assert count(app) == 0

    @pytest.mark.parametrize(
        "authority",
        [
            pytest.param({"objectType": "Group", "member": AGENTS}, id="oauth-pair"),
            pytest.param({"objectType": "Agent", "mbox": "mailto:a@x.org"}, id="agent"),
        ],
    )
    def test_an_agent_or_an_oauth_pair_is_a_valid_authority(self, http, xapi, authority):
        response = http.post(URL, json=statement(0, authority=authority), headers=xapi)
        assert response.status_code == 200, response.json


class TestVersionProperty:
    """Data 2.4.10: 1.0 or 1.0.x under both; 2.0 or 2.0.x under 2.0.0."""

    @pytest.mark.parametrize("version", ["1.0", "1.0.0", "1.0.3", "1.0.9"])
    def test_1_0_versions_are_valid_under_both(self, http, xapi, version):
        response = http.post(URL, json=statement(0, version=version), headers=xapi)
        assert response.status_code == 200, response.json

    @pytest.mark.parametrize("version", ["2.0", "2.0.0", "2.0.5"])
    def test_2_0_versions_are_valid_under_2_0_only(self, app, http, admin, version):
        v1 = {**admin, "X-Experience-API-Version": "1.0.3"}
        v2 = {**admin, "X-Experience-API-Version": "2.0.0"}
        assert http.post(URL, json=statement(0, version=version), headers=v1).status_code == 400
        assert http.post(URL, json=statement(0, version=version), headers=v2).status_code == 200


class TestVoiding:
    """Data 2.3.2: a statement with the verb voided voids a StatementRef."""

    @pytest.mark.parametrize(
        "obj",
        [
            {"id": ACTIVITY},
            {"objectType": "Agent", "mbox": "mailto:a@x.org"},
            substatement({"id": ACTIVITY}),
        ],
        ids=["activity", "agent", "substatement"],
    )
    def test_voiding_anything_but_a_statement_ref_is_400(self, app, http, xapi, obj):
        response = http.post(URL, json=statement(0, verb=VOIDED, object=obj), headers=xapi)
        assert response.status_code == 400, response.json
        assert "StatementRef" in response.json["message"]
        assert count(app) == 0


class TestAttachmentParts:
    """Communication 1.5.2: parts are binary, and each matches an attachment."""

    data = b"some attachment data"
    sha2 = hashlib.sha256(data).hexdigest()

    def attached(self, n=0):
        attachment = {
            "usageType": "http://example.org/usage",
            "display": {"en-US": "data"},
            "contentType": "text/plain",
            "length": len(self.data),
            "sha2": self.sha2,
        }
        return statement(n, attachments=[attachment])

    def part(self, data=None, **headers):
        data = self.data if data is None else data
        base = {
            "Content-Type": "text/plain",
            "Content-Transfer-Encoding": "binary",
            "X-Experience-API-Hash": hashlib.sha256(data).hexdigest(),
        }
        return {k: v for k, v in {**base, **headers}.items() if v is not None}, data

    @pytest.mark.parametrize("encoding", [None, "base64", "quoted-printable"])
    def test_a_part_that_is_not_binary_is_400(self, app, http, xapi, encoding):
        body, content_type = multipart_body(
            [self.attached()], [self.part(**{"Content-Transfer-Encoding": encoding})]
        )
        response = http.post(URL, data=body, content_type=content_type, headers=xapi)
        assert response.status_code == 400, response.json
        assert "Content-Transfer-Encoding: binary" in response.json["message"]
        assert count(app) == 0
        assert app.extensions["lrs"].attachments.get(self.sha2) is None

    def test_a_part_that_matches_no_attachment_is_400(self, app, http, xapi):
        extra = b"data no statement asked for"
        body, content_type = multipart_body([self.attached()], [self.part(), self.part(extra)])
        response = http.post(URL, data=body, content_type=content_type, headers=xapi)
        assert response.status_code == 400, response.json
        assert hashlib.sha256(extra).hexdigest() in response.json["message"]
        assert count(app) == 0
        assert app.extensions["lrs"].attachments.get(self.sha2) is None

    def test_a_part_for_an_attachment_with_a_file_url_is_kept(self, http, xapi):
        data = self.attached()
        data["attachments"][0]["fileUrl"] = "http://example.org/data.txt"
        body, content_type = multipart_body([data], [self.part()])
        assert http.post(URL, data=body, content_type=content_type, headers=xapi).status_code == 200


class TestFormatIds:
    """Communication 2.1.3: format=ids keeps only what identifies each object."""

    def test_everything_is_reduced_to_its_identifier(self, http, xapi):
        named = {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.org"}
        group = {
            "objectType": "Group",
            "name": "pair",
            "member": [
                named,
                {"name": "Bo", "account": {"homePage": "http://x.org", "name": "bo"}},
            ],
        }
        verb = {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}}
        activity = {
            "objectType": "Activity",
            "id": ACTIVITY,
            "definition": {"name": {"en-US": "Question 1"}, "type": "http://x.org/question"},
        }
        sub = {
            "objectType": "SubStatement",
            "actor": group,
            "verb": verb,
            "object": activity,
            "context": {"instructor": named},
        }
        data = statement(0, actor=None, verb=verb["id"], object=sub)
        data["actor"], data["verb"] = named, verb
        data["context"] = {"instructor": group, "contextActivities": {"parent": [activity]}}
        if xapi["X-Experience-API-Version"] == "2.0.0":
            data["context"]["contextAgents"] = [
                {"objectType": "contextAgent", "agent": named, "relevantTypes": [ACTIVITY]}
            ]
        assert http.post(URL, json=data, headers=xapi).status_code == 200
        found = http.get(
            URL, query_string={"statementId": data["id"], "format": "ids"}, headers=xapi
        ).json
        reduced_agent = {"objectType": "Agent", "mbox": "mailto:ada@example.org"}
        reduced_group = {
            "objectType": "Group",
            "member": [reduced_agent, {"account": {"homePage": "http://x.org", "name": "bo"}}],
        }
        assert found["actor"] == reduced_agent
        assert found["verb"] == {"id": verb["id"]}
        assert found["context"]["instructor"] == reduced_group
        assert found["context"]["contextActivities"]["parent"] == [{"id": ACTIVITY}]
        assert found["object"]["actor"] == reduced_group
        assert found["object"]["verb"] == {"id": verb["id"]}
        assert found["object"]["object"] == {"id": ACTIVITY}
        assert found["object"]["context"]["instructor"] == reduced_agent
        if "contextAgents" in data["context"]:
            assert found["context"]["contextAgents"][0]["agent"] == reduced_agent
            assert found["context"]["contextAgents"][0]["relevantTypes"] == [ACTIVITY]


class TestDurationPrecision:
    """Data 2.3.1 (2.0.0: MUST): durations are compared to 0.01 s."""

    def test_the_same_id_with_a_duration_equal_to_0_01_s_is_the_same_statement(
        self, app, http, xapi
    ):
        first = statement(0, result={"duration": "PT1.234S"})
        assert http.post(URL, json=first, headers=xapi).status_code == 200
        for same in ("PT1.23S", "PT1.2345S", "PT1.239S"):
            again = statement(0, result={"duration": same})
            assert http.post(URL, json=again, headers=xapi).status_code == 200, same
        other = statement(0, result={"duration": "PT1.24S"})
        assert http.post(URL, json=other, headers=xapi).status_code == 409
        stored = http.get(URL, query_string={"statementId": first["id"]}, headers=xapi).json
        assert stored["result"]["duration"] == "PT1.234S"
        assert count(app) == 1

    def test_a_signed_statement_compares_durations_to_0_01_s(self, http, xapi, signer):
        import jwt

        sent = statement(0, result={"duration": "PT2.5S"})
        payload = {**sent, "result": {"duration": "PT2.501S"}}
        token = jwt.api_jws.encode(
            json.dumps(payload).encode(), signer[0], algorithm="RS256", headers={"x5c": [signer[1]]}
        ).encode()
        body, content_type = TestSignedStatements.signed_with(sent, token)
        response = http.post(URL, data=body, content_type=content_type, headers=xapi)
        assert response.status_code == 200, response.json


class TestVersionNegotiation:
    """Communication 3.3: a request without a version is 400, and the answer still names one."""

    @pytest.mark.parametrize("default", ["2.0.0", "1.0.3"])
    def test_a_request_naming_no_version_gets_the_configured_default(self, admin, default):
        http = make_app(XAPI_DEFAULT_VERSION=default).test_client()
        response = http.get(URL, headers=admin)
        assert response.status_code == 400
        assert response.headers["X-Experience-API-Version"] == default
        about = http.get("/xAPI/about")
        assert about.headers["X-Experience-API-Version"] == default
        unauthenticated = http.get(URL)
        assert unauthenticated.headers["X-Experience-API-Version"] == default
        named = http.get(URL, headers={**admin, "X-Experience-API-Version": "1.0.3"})
        assert named.headers["X-Experience-API-Version"] == "1.0.3"

    @pytest.mark.parametrize(
        "method, path", [("GET", "/xAPI/nothing"), ("PATCH", "/xAPI/statements")]
    )
    def test_responses_of_no_resource_name_the_version_too(self, http, xapi, method, path):
        response = http.open(path, method=method, headers=xapi)
        assert response.status_code in (404, 405)
        assert response.headers["X-Experience-API-Version"] == xapi["X-Experience-API-Version"]

    def test_an_unknown_default_is_refused_at_start_up(self):
        with pytest.raises(ValueError, match="LRS_XAPI_DEFAULT_VERSION"):
            make_app(XAPI_DEFAULT_VERSION="1.0.2")


class TestBooleanParameters:
    """TinCanPython sends True/False: booleans are read case-insensitively."""

    @pytest.mark.parametrize("name", ["ascending", "related_activities", "related_agents"])
    @pytest.mark.parametrize("value", ["True", "False", "TRUE", "false"])
    def test_booleans_in_any_case_are_accepted(self, http, xapi, name, value):
        response = http.get(URL, query_string={name: value}, headers=xapi)
        assert response.status_code == 200, response.json

    def test_attachments_true_in_any_case(self, http, xapi):
        http.post(URL, json=statement(0), headers=xapi)
        response = http.get(
            URL,
            query_string={"statementId": statement(0)["id"], "attachments": "True"},
            headers=xapi,
        )
        assert response.status_code == 200
        assert response.mimetype == "multipart/mixed"

    @pytest.mark.parametrize(
        "query", [{"ascending": "yes"}, {"related_agents": "1"}, {"Ascending": "true"}]
    )
    def test_other_values_and_unknown_parameters_are_still_400(self, http, xapi, query):
        assert http.get(URL, query_string=query, headers=xapi).status_code == 400
