"""Restricted credentials read only statements whose actor they may read, whatever they ask.

A learner reads the statements whose actor is its own account agent; a coach those
whose actor is a learner of a course it coaches. Statements that merely mention
them (as instructor, as object, in a group, through a StatementRef) stay hidden,
with every combination of query parameters.
"""

import base64
import hashlib
import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from lrs.enrollments import CourseRole
from lrs.testing import COURSE
from tests.support import basic

XAPI = {"X-Experience-API-Version": "2.0.0"}
ACTIVITY = "http://example.org/activities/quiz"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def account(name):
    return {"objectType": "Agent", "account": {"homePage": "http://localhost", "name": name}}


ADA, BOB = account("ada"), account("bob")


def statement(actor, *, secret="", **extra):
    return {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": COMPLETED},
        "object": {"id": ACTIVITY},
        "result": {"response": secret or "shared"},
        **extra,
    }


@pytest.fixture
def world(app, admin):
    """Ada's own statements, and Bob's that mention Ada in every way a statement can."""
    http = app.test_client()
    stores = app.extensions["lrs"]
    own = [statement(ADA) for _ in range(3)]
    mentioning = [
        statement(BOB, secret="bob-secret-instructed", context={"instructor": ADA}),
        statement(
            BOB,
            secret="bob-secret-team",
            context={"team": {"objectType": "Group", "member": [ADA]}},
        ),
        {**statement(BOB, secret="bob-secret-object"), "object": ADA},
        statement({"objectType": "Group", "member": [ADA, BOB]}, secret="bob-secret-group"),
        statement(
            BOB,
            secret="bob-secret-ref",
            object={"objectType": "StatementRef", "id": own[0]["id"]},
        ),
        statement(
            BOB,
            secret="bob-secret-sub",
            object={
                "objectType": "SubStatement",
                "actor": ADA,
                "verb": {"id": COMPLETED},
                "object": {"id": ACTIVITY},
            },
        ),
    ]
    content = b"bob's private attachment"
    attached = statement(
        BOB,
        secret="bob-secret-attachment",
        context={"instructor": ADA},
        attachments=[
            {
                "usageType": "http://example.org/usage",
                "display": {"en": "notes"},
                "contentType": "text/plain",
                "length": len(content),
                "sha2": hashlib.sha256(content).hexdigest(),
                "fileUrl": "http://example.org/notes.txt",
            }
        ],
    )
    voided_own = statement(ADA)
    voided_bob = statement(BOB, secret="bob-secret-voided", context={"instructor": ADA})
    voiding = [
        statement(
            ADA,
            verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
            object={"objectType": "StatementRef", "id": voided_own["id"]},
        ),
        statement(
            BOB,
            verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
            object={"objectType": "StatementRef", "id": voided_bob["id"]},
        ),
    ]
    for item in voiding:
        item.pop("result")
    batch = [*own, *mentioning, attached, voided_own, voided_bob]
    response = http.post("/xAPI/statements", json=batch, headers={**admin, **XAPI})
    assert response.status_code == 200, response.json
    response = http.post("/xAPI/statements", json=voiding, headers={**admin, **XAPI})
    assert response.status_code == 200, response.json
    enrollments = stores.enrollments
    for name in ("ada", "bob", "coach0"):
        enrollments.create_user(name, {}, actor="test")
    enrollments.enroll("ada", COURSE, actor="test")
    enrollments.enroll("coach0", COURSE, role=CourseRole.coach, actor="test")
    learner, learner_secret = stores.credentials.create("learner", username="ada")
    coach, coach_secret = stores.credentials.create("coach", username="coach0")
    return {
        "http": http,
        "learner": {**basic(learner.key, learner_secret), **XAPI},
        "coach": {**basic(coach.key, coach_secret), **XAPI},
        "own": {item["id"] for item in own} | {voiding[0]["id"]},
        "voided_own": voided_own["id"],
        "voided_bob": voided_bob["id"],
        "others": [item["id"] for item in [*mentioning, attached, voided_bob]],
    }


def statements_in(response):
    if response.mimetype == "multipart/mixed":
        first = response.get_data().split(b"\r\n\r\n", 1)[1].split(b"\r\n--", 1)[0]
        return json.loads(first)
    return response.json


def read_all(http, headers, query):
    """Every statement a query reaches, following its ``more`` links."""
    found = []
    response = http.get("/xAPI/statements", query_string=query, headers=headers)
    while True:
        assert response.status_code == 200, response.get_data(as_text=True)
        page = statements_in(response)
        found += page["statements"]
        if not page["more"]:
            return found, response
        more = parse_qs(urlsplit(page["more"]).query)
        response = http.get("/xAPI/statements", query_string=more, headers=headers)


QUERIES = [
    pytest.param({}, id="no-filter"),
    pytest.param({"agent": json.dumps(ADA)}, id="agent"),
    pytest.param({"agent": json.dumps(ADA), "related_agents": "true"}, id="related-agents"),
    pytest.param({"agent": json.dumps(ADA), "activity": ACTIVITY}, id="activity"),
    pytest.param(
        {
            "agent": json.dumps(ADA),
            "activity": ACTIVITY,
            "related_activities": "true",
            "related_agents": "true",
        },
        id="related-everything",
    ),
    pytest.param({"agent": json.dumps(ADA), "related_agents": "true", "format": "ids"}, id="ids"),
    pytest.param(
        {"agent": json.dumps(ADA), "related_agents": "true", "format": "canonical"}, id="canonical"
    ),
    pytest.param(
        {"agent": json.dumps(ADA), "related_agents": "true", "attachments": "true"},
        id="attachments",
    ),
    pytest.param({"agent": json.dumps(ADA), "related_agents": "true", "limit": "1"}, id="more"),
    pytest.param(
        {"agent": json.dumps(ADA), "related_agents": "true", "ascending": "true", "limit": "2"},
        id="ascending-more",
    ),
]


@pytest.mark.parametrize("caller", ["learner", "coach"])
@pytest.mark.parametrize("query", QUERIES)
def test_only_statements_whose_actor_may_be_read_come_back(world, caller, query):
    if caller == "coach" and "agent" not in query:
        response = world["http"].get("/xAPI/statements", query_string=query, headers=world[caller])
        assert response.status_code == 403  # a coach names the learner
        return
    found, last = read_all(world["http"], world[caller], query)
    assert {item["id"] for item in found} == world["own"]
    text = json.dumps(found) + last.get_data(as_text=True)
    assert "bob-secret" not in text
    assert b"bob's private attachment" not in last.get_data()


@pytest.mark.parametrize("caller", ["learner", "coach"])
def test_statements_of_others_are_not_found_by_id(world, caller):
    http, headers = world["http"], world[caller]
    for statement_id in world["others"]:
        for name in ("statementId", "voidedStatementId"):
            response = http.get(
                "/xAPI/statements", query_string={name: statement_id}, headers=headers
            )
            assert response.status_code == 404, (statement_id, name)
    response = http.get(
        "/xAPI/statements", query_string={"voidedStatementId": world["voided_own"]}, headers=headers
    )
    assert response.status_code == 200


def more_token(agent):
    """A ``more`` token as this LRS writes them, for a query about ``agent``."""
    state = {
        "agent": agent,
        "related_agents": True,
        "limit": 11,
        "after": [2**62, "z"],
        "until_us": 2**62,
    }
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def test_a_forged_more_token_reaches_no_one_else(world):
    http, headers = world["http"], world["learner"]
    forged = more_token("account:http://localhost|bob")
    response = http.get("/xAPI/statements", query_string={"more": forged}, headers=headers)
    assert response.status_code == 403
    mine = more_token("account:http://localhost|ada")
    response = http.get("/xAPI/statements", query_string={"more": mine}, headers=headers)
    assert response.status_code == 200
    assert "bob-secret" not in response.get_data(as_text=True)
    assert {item["id"] for item in response.json["statements"]} == world["own"]


def test_admin_still_reads_everything_related(world, admin):
    found, _ = read_all(
        world["http"],
        {**admin, **XAPI},
        {"agent": json.dumps(ADA), "related_agents": "true"},
    )
    ids = {item["id"] for item in found}
    assert world["own"] <= ids
    assert set(world["others"]) - {world["voided_bob"]} <= ids
