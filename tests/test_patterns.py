"""One rule for every identifier: the whole string matches, or it is refused, at every door."""

import ast
import json
import uuid
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrs.assignments.base import check_email
from lrs.credentials import MemoryCredentialStore
from lrs.enrollments.base import check_course_key, check_user_fields, is_course_key, is_email
from lrs.exceptions import InvalidInput
from lrs.patterns import Whole
from lrs.usernames import is_username
from lrs.xapi import syntax
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for

PACKAGE = Path(__file__).resolve().parent.parent / "lrs"


def _raises(check):
    def refused(value):
        try:
            check(value)
        except InvalidInput:
            return False
        return True

    return refused


def _credential_key(value):
    MemoryCredentialStore().ensure(value, "a-secret-of-enough-length-0123456789", name="x")


#: Every shape check, with values it accepts.
CHECKS = {
    "uuid": (syntax.is_uuid, ["123e4567-e89b-12d3-a456-426614174000"]),
    "sha1": (syntax.is_sha1, ["a" * 40, "0123456789ABCDEF0123456789abcdef01234567"]),
    "mailto": (syntax.is_mailto, ["mailto:ada@example.org"]),
    "language tag": (syntax.is_language_tag, ["en-US", "zh-Hant-TW", "fr"]),
    "timestamp": (
        lambda value: syntax.is_timestamp(value, offset_required=True),
        ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123+02:00"],
    ),
    "duration": (syntax.is_duration, ["PT1H30M", "P3W", "P1Y2M3DT4H5M6.7S"]),
    "iri": (syntax.is_iri, ["http://example.org/a", "https://例え.jp/パス"]),
    "course key": (is_course_key, ["course-v1:Org+CS101+2026", "Org/CS101/2026"]),
    "user e-mail": (is_email, ["ada@example.org"]),
    "username": (is_username, ["ada", "ada.lovelace@x+y-z"]),
    "check_course_key": (_raises(check_course_key), ["course-v1:Org+CS101+2026"]),
    "user fields": (
        _raises(lambda value: check_user_fields({"email": value})),
        ["ada@example.org"],
    ),
    "language of a user": (
        _raises(lambda value: check_user_fields({"language": value})),
        ["pt-BR"],
    ),
    "assignment e-mail": (_raises(check_email), ["ada@example.org"]),
    "credential key": (_raises(_credential_key), ["key-of-ada_01"]),
}

CONTROLS = [chr(code) for code in [*range(0x20), *range(0x7F, 0xA0)]]


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_valid_example_is_accepted(name):
    check, examples = CHECKS[name]
    assert all(check(example) for example in examples)


@pytest.mark.parametrize("name", sorted(CHECKS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_control_character_appended_or_inserted_is_refused(name, data):
    check, examples = CHECKS[name]
    example = data.draw(st.sampled_from(examples))
    control = data.draw(st.sampled_from(CONTROLS))
    at = data.draw(st.integers(0, len(example)))
    assert not check(example + control), repr(example + control)
    assert not check(example[:at] + control + example[at:])


def test_whole_refuses_anchors_and_anything_but_strings():
    with pytest.raises(ValueError, match="without"):
        Whole(r"^a$")
    digits = Whole(r"\d+")
    assert digits("12")
    assert not digits("12\n")
    assert not digits(12)
    assert not digits(b"12")


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield node


def test_no_pattern_in_the_package_is_matched_from_its_start_only():
    """No ``re.match`` or ``pattern.match``, and no pattern that ends in ``$``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for call in _calls(tree):
            if call.func.attr in ("match", "search") and (
                isinstance(call.func.value, ast.Name) and call.func.value.id == "re"
            ):
                found.append(f"{path.name}:{call.lineno}: re.{call.func.attr}")
            elif call.func.attr == "match":
                found.append(f"{path.name}:{call.lineno}: .match (use lrs.patterns.Whole)")
            elif call.func.attr == "compile" and call.args:
                pattern = call.args[0]
                if isinstance(pattern, ast.Constant) and str(pattern.value).endswith("$"):
                    found.append(f"{path.name}:{call.lineno}: a pattern ending in $")
    assert found == []


# --- at the doors: nothing with such a value is stored ---------------------------------

STATEMENT_ID = "123e4567-e89b-12d3-a456-426614174000"
XAPI = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


def _statement():
    return {
        "id": STATEMENT_ID,
        "actor": {"mbox": "mailto:ada@example.org", "name": "Ada"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": {"id": "http://example.org/q1"},
        "result": {"duration": "PT1M"},
        "context": {"registration": "223e4567-e89b-12d3-a456-426614174000", "language": "en-US"},
        "timestamp": "2026-01-02T03:04:05Z",
    }


def _at(statement, path, change):
    *parents, last = path
    target = statement
    for name in parents:
        target = target[name]
    target[last] = change(target[last])


STATEMENT_FIELDS = [
    ("id",),
    ("actor", "mbox"),
    ("verb", "id"),
    ("object", "id"),
    ("result", "duration"),
    ("context", "registration"),
    ("context", "language"),
    ("timestamp",),
]


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    storage = storage_for(request.param, tmp_path)
    app = make_app(storage)
    yield app
    app.extensions["lrs"].close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(STATEMENT_FIELDS),
    control=st.sampled_from(["\n", "\r", "\t", "\x00", "\x1f", "\x7f", "\x85"]),
    appended=st.booleans(),
)
def test_a_statement_with_a_control_character_in_an_identifier_is_refused(
    app, field, control, appended
):
    http = app.test_client()
    statement = _statement()
    _at(
        statement,
        field,
        lambda value: value + control if appended else value[:3] + control + value[3:],
    )
    answer = http.post("/xAPI/statements", json=statement, headers={**XAPI, **basic(*ADMIN)})
    assert answer.status_code == 400, (field, control, answer.get_data(as_text=True))
    assert ".".join(field) in answer.json["message"]
    assert app.extensions["lrs"].statements.count() == 0


def test_the_same_uuid_with_a_final_newline_is_not_a_second_statement(app):
    http = app.test_client()
    statement = _statement()
    assert (
        http.post("/xAPI/statements", json=statement, headers={**XAPI, **basic(*ADMIN)}).status_code
        == 200
    )
    statement["id"] += "\n"
    answer = http.post("/xAPI/statements", json=statement, headers={**XAPI, **basic(*ADMIN)})
    assert answer.status_code == 400
    assert app.extensions["lrs"].statements.count() == 1
    got = http.get("/xAPI/statements", headers={**XAPI, **basic(*ADMIN)})
    assert [found["id"] for found in json.loads(got.data)["statements"]] == [STATEMENT_ID]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        pytest.param(
            "post",
            "/api/v1/users",
            {"username": "ada", "email": "ada@example.org\n"},
            id="user-email",
        ),
        pytest.param("post", "/api/v1/users", {"username": "ada\n"}, id="username"),
        pytest.param(
            "post", "/api/v1/users", {"username": "ada", "language": "en\n"}, id="language"
        ),
        pytest.param(
            "post",
            "/api/v1/enrollments",
            {"username": "ada", "course_key": "course-v1:X+Y+1\n"},
            id="course-key",
        ),
        pytest.param(
            "post",
            "/api/v1/assignments",
            {
                "email": "ada@example.org\n",
                "content": "course-v1:X+Y+1",
                "course_key": "course-v1:X+Y+1",
            },
            id="assignment-email",
        ),
        pytest.param(
            "post",
            "/api/v1/credentials",
            {"role": "learner", "username": "ada\n"},
            id="credential-username",
        ),
    ],
)
def test_the_rest_api_refuses_a_final_newline_and_stores_nothing(app, method, url, body):
    storage = app.extensions["lrs"]
    http = app.test_client()
    http.post("/api/v1/users", json={"username": "ada"}, headers=basic(*ADMIN))
    before = (
        list(storage.enrollments.list_users()),
        list(storage.enrollments.list_enrollments()),
        storage.credentials.count(),
    )
    answer = getattr(http, method)(url, json=body, headers=basic(*ADMIN))
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.json["message"]
    after = (
        list(storage.enrollments.list_users()),
        list(storage.enrollments.list_enrollments()),
        storage.credentials.count(),
    )
    assert after == before


def test_every_stored_statement_text_is_json_with_its_id(app):
    """Whatever a client sends that is stored, its stored text parses and carries its id."""
    from lrs.usecases.repair import findings

    http = app.test_client()
    odd = _statement()
    odd["id"] = str(uuid.uuid4())
    odd["actor"]["name"] = 'Ada "\n\u2028\x00 Lovelace'
    odd["object"]["definition"] = {"name": {"en": "line\nbreak\ttab\\"}}
    answer = http.post("/xAPI/statements", json=odd, headers={**XAPI, **basic(*ADMIN)})
    assert answer.status_code == 200
    storage = app.extensions["lrs"]
    record = storage.statements.get(odd["id"])
    assert orjson.loads(record.text)["actor"]["name"] == odd["actor"]["name"]
    assert list(findings(storage)) == []
