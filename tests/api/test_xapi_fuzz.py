"""Random statements and bodies never make /xAPI/statements answer 5xx."""

import copy
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrs.testing import statement
from tests.support import ADMIN, basic, make_app

URL = "/xAPI/statements"
app = make_app()
HEADERS = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}
SETTINGS = settings(
    max_examples=int(os.environ.get("LRS_FUZZ_EXAMPLES", "150")),
    derandomize=not os.environ.get("LRS_FUZZ_RANDOM"),
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)

# Places in a full statement to put a random value.
BASE = statement(
    0,
    result={"score": {"scaled": 0.5}, "duration": "PT1M", "extensions": {"http://x.org/e": 1}},
    context={
        "registration": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "contextActivities": {"parent": [{"id": "http://x.org/p"}]},
        "language": "en-US",
    },
    timestamp="2026-01-01T00:00:00Z",
)
PATHS = [
    ("id",),
    ("actor",),
    ("actor", "mbox"),
    ("verb",),
    ("verb", "id"),
    ("verb", "display"),
    ("object",),
    ("object", "id"),
    ("object", "objectType"),
    ("result",),
    ("result", "score"),
    ("result", "score", "scaled"),
    ("result", "duration"),
    ("result", "extensions"),
    ("context",),
    ("context", "registration"),
    ("context", "contextActivities"),
    ("context", "contextActivities", "parent"),
    ("context", "language"),
    ("timestamp",),
    ("attachments",),
    ("version",),
    ("authority",),
]


@SETTINGS
@given(path=st.sampled_from(PATHS), value=json_values)
def test_a_statement_with_one_random_property_never_gives_a_server_error(path, value):
    data = copy.deepcopy(BASE)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    response = app.test_client().post(URL, json=data, headers=HEADERS)
    assert response.status_code in (200, 400, 409), (path, value, response.get_json())


# A definition of every interaction type's components, in a statement's object and
# in a sub-statement's: each property, and each part of it, gets values of every type.
DEFINITIONS = {
    "choice": {"choices": [{"id": "a", "description": {"en-US": "A"}}]},
    "likert": {"scale": [{"id": "1", "description": {"en-US": "low"}}]},
    "matching": {"source": [{"id": "s"}], "target": [{"id": "t"}]},
    "performance": {"steps": [{"id": "s1"}]},
}


def definition(interaction):
    return {
        "name": {"en-US": "Q"},
        "description": {"en-US": "A question"},
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        "moreInfo": "http://x.org/more",
        "interactionType": interaction,
        "correctResponsesPattern": ["a"],
        "extensions": {"http://x.org/e": 1},
        **copy.deepcopy(DEFINITIONS[interaction]),
    }


def definition_paths(interaction):
    paths = [()]
    for key, value in definition(interaction).items():
        paths.append((key,))
        if isinstance(value, dict):
            paths += [(key, inner) for inner in value]
        elif isinstance(value, list):
            paths.append((key, 0))
            if isinstance(value[0], dict):
                paths += [(key, 0, inner) for inner in value[0]]
    return paths


def in_statement(interaction):
    data = statement(0, object={"id": "http://x.org/q", "definition": definition(interaction)})
    return data, ("object", "definition")


def in_substatement(interaction):
    data = statement(
        0,
        object={
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:s@x.org"},
            "verb": {"id": "http://x.org/answered"},
            "object": {"id": "http://x.org/q", "definition": definition(interaction)},
        },
    )
    return data, ("object", "object", "definition")


@st.composite
def definition_faults(draw):
    interaction = draw(st.sampled_from(list(DEFINITIONS)))
    data, prefix = draw(st.sampled_from([in_statement, in_substatement]))(interaction)
    path = prefix + draw(st.sampled_from(definition_paths(interaction)))
    return data, path, draw(json_values)


@SETTINGS
@given(fault=definition_faults())
def test_a_definition_with_one_property_of_any_type_never_gives_a_server_error(fault):
    data, path, value = fault
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    for version in ("1.0.3", "2.0.0"):
        headers = {**HEADERS, "X-Experience-API-Version": version}
        response = app.test_client().post(URL, json=data, headers=headers)
        assert response.status_code in (200, 400, 409), (path, value, response.get_json())
        if response.status_code == 400:
            assert response.get_json()["message"].startswith("statement."), response.get_json()


@SETTINGS
@given(body=json_values | st.lists(json_values, max_size=3))
def test_a_random_body_never_gives_a_server_error(body):
    response = app.test_client().post(
        URL, data=json.dumps(body), content_type="application/json", headers=HEADERS
    )
    assert response.status_code in (200, 400, 409), (body, response.get_json())


@SETTINGS
@given(
    query=st.dictionaries(
        st.sampled_from(
            [
                "agent",
                "verb",
                "activity",
                "since",
                "limit",
                "registration",
                "format",
                "ascending",
                "more",
                "statementId",
            ]
        ),
        st.text(max_size=30),
        max_size=3,
    )
)
def test_random_query_parameters_never_give_a_server_error(query):
    response = app.test_client().get(URL, query_string=query, headers=HEADERS)
    assert response.status_code in (200, 400, 404), (query, response.get_json())


DOCUMENT_PATHS = ["/xAPI/activities/state", "/xAPI/activities/profile", "/xAPI/agents/profile"]
# Valid values for each document parameter, so that one random value is the only fault.
VALID = {
    "activityId": "http://x.org/a",
    "agent": json.dumps({"mbox": "mailto:ada@example.org"}),
    "stateId": "s",
    "profileId": "p",
    "registration": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    "since": "2026-01-01T00:00:00Z",
}
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/octet-stream",
        "application/json; charset=utf-8",
    ]
)


@SETTINGS
@given(
    path=st.sampled_from(DOCUMENT_PATHS),
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE"]),
    query=st.dictionaries(
        st.sampled_from([*VALID, "other"]),
        st.text(max_size=30) | st.sampled_from(list(VALID.values())),
        max_size=5,
    ),
    body=st.binary(max_size=50) | json_values.map(lambda value: json.dumps(value).encode()),
    content_type=content_types,
    precondition=st.sampled_from(
        [{}, {"If-Match": '"x"'}, {"If-None-Match": "*"}, {"If-Match": "*"}]
    ),
)
def test_random_document_requests_never_give_a_server_error(
    path, method, query, body, content_type, precondition
):
    response = app.test_client().open(
        path,
        method=method,
        query_string=query,
        data=body,
        content_type=content_type,
        headers={**HEADERS, **precondition},
    )
    assert response.status_code in (200, 204, 400, 404, 409, 412), (
        path,
        method,
        query,
        response.get_json(),
    )


def test_every_statement_the_fuzz_stored_reads_back_as_json():
    """Runs after the tests above: whatever they got stored is JSON under a UUID, and readable."""
    from lrs.usecases.repair import findings

    storage = app.extensions["lrs"]
    assert storage.statements.count() > 0
    assert list(findings(storage)) == []
    response = app.test_client().get(URL, query_string={"limit": 0}, headers=HEADERS)
    assert response.status_code == 200
    assert len(json.loads(response.data)["statements"]) == storage.statements.count()
