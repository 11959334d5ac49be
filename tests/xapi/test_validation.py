import copy
from datetime import UTC, datetime

import isodate
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrs.xapi import syntax
from lrs.xapi.validation import KnownValid, StatementError, Version, validate_statement
from tests.support import traced

V1, V2 = Version.V1_0_3, Version.V2_0_0
BASE = {
    "id": "d1b7c2a0-3f4e-4c1a-9b2d-8e7f6a5b4c3d",
    "actor": {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.org"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
    "object": {
        "id": "http://example.org/activities/q1",
        "definition": {
            "name": {"en-US": "Question 1"},
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "interactionType": "choice",
            "correctResponsesPattern": ["golf[,]tetris"],
            "choices": [{"id": "golf", "description": {"en-US": "Golf"}}, {"id": "tetris"}],
            "extensions": {"http://example.org/ext": None},
        },
    },
    "result": {
        "score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10},
        "success": True,
        "completion": True,
        "response": "golf[,]tetris",
        "duration": "PT1M30.5S",
    },
    "context": {
        "registration": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "instructor": {"account": {"homePage": "http://lms.example.org", "name": "grace"}},
        "team": {"objectType": "Group", "member": [{"openid": "http://openid.example.org/x"}]},
        "contextActivities": {
            "parent": [{"id": "http://example.org/activities/quiz"}],
            "grouping": {"id": "http://example.org/courses/c1"},
        },
        "revision": "2",
        "platform": "lms",
        "language": "en-GB",
        "statement": {"objectType": "StatementRef", "id": "f0e1d2c3-b4a5-4968-8776-655443322110"},
    },
    "timestamp": "2026-11-23T05:12:25.123+00:00",
    "attachments": [
        {
            "usageType": "http://adlnet.gov/expapi/attachments/signature",
            "display": {"en-US": "signature"},
            "contentType": "application/octet-stream",
            "length": 10,
            "sha2": "abc",
        }
    ],
}


def changed(path, value):
    """BASE with the property at the dotted ``path`` set to ``value`` (or removed)."""
    statement = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    target = statement
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is REMOVE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return statement


REMOVE = object()


@pytest.mark.parametrize("version", [V1, V2])
def test_a_full_statement_is_valid(version):
    validate_statement(BASE, version)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("actor", {"mbox": "mailto:a@b.c"}, id="agent-without-objectType"),
        pytest.param("actor", {"mbox_sha1sum": "a" * 40}, id="mbox-sha1sum"),
        pytest.param("actor", {"openid": "http://openid.example.org/ada"}, id="openid"),
        pytest.param(
            "actor",
            {"objectType": "Group", "name": "g", "mbox": "mailto:g@b.c", "member": []},
            id="identified-group-without-members",
        ),
        pytest.param("object", {"objectType": "Agent", "mbox": "mailto:x@y.z"}, id="agent-object"),
        pytest.param(
            "object",
            {
                "objectType": "SubStatement",
                "actor": {"mbox": "mailto:a@b.c"},
                "verb": {"id": "http://x.org/v"},
                "object": {"id": "http://x.org/a"},
            },
            id="substatement",
        ),
        pytest.param("verb.display", {"zh-Hant-TW": "答", "und": "x"}, id="language-tags"),
        pytest.param("object.id", "http://example.org/ünïcødé", id="unicode-iri"),
        pytest.param("object.id", "urn:uuid:1234", id="urn"),
        pytest.param("result.score", {"raw": -5}, id="raw-alone"),
        pytest.param("result.duration", "P1Y2M3DT4H5M6S", id="long-duration"),
        pytest.param("timestamp", "2008-09-15 15:53:00.601+00:00", id="timestamp-rfc3339-space"),
        pytest.param("timestamp", "20080915T155300Z", id="timestamp-basic-format"),
        pytest.param("result.duration", "P4W", id="weeks"),
        pytest.param("result.duration", "PT16559.14S", id="seconds-only"),
        pytest.param("timestamp", "2026-11-23T05:12:25Z", id="timestamp-z"),
        pytest.param("timestamp", "2008-09-15 15:53:00.601+00:00", id="timestamp-rfc3339-space"),
        pytest.param("timestamp", "20080915T155300Z", id="timestamp-basic-format"),
        pytest.param("result.duration", "P4W", id="weeks"),
        pytest.param("result.duration", "PT16559.14S", id="seconds-only"),
        pytest.param("context.contextActivities", {"other": []}, id="empty-context-list"),
        pytest.param("id", "D1B7C2A0-3F4E-4C1A-9B2D-8E7F6A5B4C3D", id="uppercase-uuid"),
        pytest.param("version", "1.0.0", id="version"),
        pytest.param("version", "1.0", id="version-1.0"),
        pytest.param("version", "1.0.3", id="version-1.0.3"),
        pytest.param(
            "result.extensions", {"http://x.org/e": {"nested": None}}, id="null-inside-extension"
        ),
    ],
)
def test_valid_variations(path, value):
    statement = changed(path, value)
    if path == "object":  # revision and platform need an Activity object
        del statement["context"]["revision"], statement["context"]["platform"]
    validate_statement(statement, V1)


INVALID = [
    pytest.param("actor", REMOVE, "statement.actor", id="no-actor"),
    pytest.param("verb", REMOVE, "statement.verb", id="no-verb"),
    pytest.param("object", REMOVE, "statement.object", id="no-object"),
    pytest.param("extra", 1, "statement.extra", id="unknown-property"),
    pytest.param("Actor", {}, "statement.Actor", id="wrong-case-key"),
    pytest.param("result.success", None, "statement.result.success", id="null-value"),
    pytest.param("id", "not-a-uuid", "statement.id", id="bad-uuid"),
    pytest.param("actor", {"name": "no ifi"}, "statement.actor", id="agent-without-ifi"),
    pytest.param(
        "actor",
        {"mbox": "mailto:a@b.c", "openid": "http://x.org/o"},
        "statement.actor",
        id="two-ifis",
    ),
    pytest.param("actor.mbox", "ada@example.org", "statement.actor.mbox", id="mbox-without-mailto"),
    pytest.param("actor", {"mbox_sha1sum": "xyz"}, "statement.actor.mbox_sha1sum", id="bad-sha1"),
    pytest.param(
        "actor",
        {"account": {"name": "x"}},
        "statement.actor.account.homePage",
        id="account-without-homepage",
    ),
    pytest.param("actor.objectType", "agent", "statement.actor.objectType", id="objecttype-case"),
    pytest.param(
        "actor",
        {"objectType": "Group", "name": "anonymous"},
        "statement.actor.member",
        id="anonymous-group-without-members",
    ),
    pytest.param(
        "context.team",
        {"objectType": "Group", "member": [{"objectType": "Group", "member": []}]},
        "statement.context.team.member[0].objectType",
        id="group-in-group",
    ),
    pytest.param("verb.id", "completed", "statement.verb.id", id="iri-without-scheme"),
    pytest.param("verb.id", "", "statement.verb.id", id="empty-iri"),
    pytest.param("verb.id", "http://x.org/a b", "statement.verb.id", id="iri-with-space"),
    pytest.param(
        "verb.display", {"en_US": "x"}, "statement.verb.display.en_US", id="bad-language-tag"
    ),
    pytest.param(
        "verb.display", {"en-US": 5}, "statement.verb.display.en-US", id="language-map-value"
    ),
    pytest.param(
        "object.objectType", "activity", "statement.object.objectType", id="unknown-object-type"
    ),
    pytest.param(
        "object.definition.interactionType",
        "multiple-choice",
        "statement.object.definition.interactionType",
        id="unknown-interaction",
    ),
    pytest.param(
        "object.definition.scale",
        [{"id": "x"}],
        "statement.object.definition.scale",
        id="component-list-not-for-this-type",
    ),
    pytest.param(
        "object.definition.choices",
        [{"id": "a"}, {"id": "a"}],
        "statement.object.definition.choices[1].id",
        id="repeated-component-id",
    ),
    pytest.param(
        "object.definition.extensions",
        {"not-an-iri": 1},
        "statement.object.definition.extensions.not-an-iri",
        id="extension-key",
    ),
    pytest.param("result.score.scaled", 1.5, "statement.result.score.scaled", id="scaled-too-big"),
    pytest.param("result.score.raw", 11, "statement.result.score.raw", id="raw-above-max"),
    pytest.param("result.score.min", 10, "statement.result.score.min", id="min-not-below-max"),
    pytest.param("result.score.raw", "5", "statement.result.score.raw", id="number-as-string"),
    pytest.param("result.success", "true", "statement.result.success", id="boolean-as-string"),
    pytest.param("result.duration", "PT", "statement.result.duration", id="empty-duration"),
    pytest.param("result.duration", "1 minute", "statement.result.duration", id="bad-duration"),
    pytest.param("timestamp", "01/011/2015", "statement.timestamp", id="timestamp-us-date"),
    pytest.param("result.duration", "P4W1D", "statement.result.duration", id="weeks-with-days"),
    pytest.param("result.duration", "PA1H0M0S", "statement.result.duration", id="duration-letter"),
    pytest.param(
        "timestamp", "2026-13-01T00:00:00Z", "statement.timestamp", id="timestamp-month-13"
    ),
    pytest.param(
        "timestamp",
        "2026-11-23T05:12:25-00:00",
        "statement.timestamp",
        id="timestamp-minus-zero",
    ),
    pytest.param(
        "context.registration", "x", "statement.context.registration", id="bad-registration"
    ),
    pytest.param(
        "context.contextActivities",
        {"parents": []},
        "statement.context.contextActivities.parents",
        id="context-activity-key",
    ),
    pytest.param("context.language", "english", "statement.context.language", id="bad-language"),
    pytest.param(
        "context.contextAgents",
        [],
        "statement.context.contextAgents",
        id="context-agents-in-1.0.3",
    ),
    pytest.param(
        "attachments.0.length", -1, "statement.attachments[0].length", id="attachment-length"
    ),
    pytest.param(
        "attachments.0.sha2",
        REMOVE,
        "statement.attachments[0].sha2",
        id="attachment-without-sha2",
    ),
    pytest.param("version", "2.0.0", "statement.version", id="2.0-version-in-1.0.3"),
    pytest.param("version", "1", "statement.version", id="short-version"),
    pytest.param("version", "1.0.", "statement.version", id="version-ending-in-a-dot"),
    pytest.param("version", "1.0.0.1", "statement.version", id="four-part-version"),
    pytest.param("version", "1.0\n", "statement.version", id="version-with-a-newline"),
    pytest.param(
        "objectType", "SubStatement", "statement.objectType", id="objecttype-on-statement"
    ),
    pytest.param(
        "result.duration", "P99999999999999W", "statement.result.duration", id="huge-duration"
    ),
]


@pytest.mark.parametrize(("path", "value", "where"), INVALID)
def test_invalid_statements_name_the_property(path, value, where):
    with pytest.raises(StatementError) as raised:
        validate_statement(changed(path, value), V1)
    assert raised.value.path == where
    assert str(raised.value).startswith(where)


@pytest.mark.parametrize(("path", "value", "where"), INVALID)
def test_parts_known_valid_do_not_let_an_invalid_statement_through(path, value, where):
    # The valid statement first, so that its actor, verb and activities are known.
    known = KnownValid()
    validate_statement(copy.deepcopy(BASE), V1, known=known)
    with pytest.raises(StatementError) as raised:
        validate_statement(changed(path, value), V1, known=known)
    assert raised.value.path == where


class TestKnownValid:
    def test_a_known_part_is_not_checked_again(self):
        known = KnownValid()
        checked = []

        def check(value, path):
            checked.append(path)

        verb = {"id": "http://x.org/verb"}
        for _ in range(3):
            known.check(1, V1, dict(verb), "statement.verb", check)
        assert checked == ["statement.verb"]
        known.check(1, V1, {"id": "http://x.org/other"}, "statement.verb", check)
        assert len(checked) == 2

    def test_a_valid_verb_is_not_a_valid_activity(self):
        known = KnownValid()
        verb = {"id": "http://x.org/a", "display": {"en-US": "did"}}
        validate_statement(changed("verb", verb), V1, known=known)
        with pytest.raises(StatementError) as raised:
            validate_statement(changed("object", verb), V1, known=known)
        assert raised.value.path == "statement.object.display"

    def test_memory_is_bounded(self):
        known = KnownValid(budget=2000, longest=200)
        for n in range(200):
            statement = changed("actor", {"mbox": f"mailto:learner{n}@example.org"})
            validate_statement(statement, V1, known=known)
        assert 0 < known._size <= 2000
        assert sum(len(texts) for texts in known._seen.values()) < 200

    def test_a_known_text_takes_about_its_own_size(self):
        # orjson's bytes keep the whole buffer they were written into (4 KB at
        # least): kept as they come, 300 texts of 250 bytes took 1.2 MB.
        known = KnownValid()
        parts = [{"id": f"http://x.org/{n}", "display": {"en-US": "x" * 200}} for n in range(300)]
        with traced() as kept:
            for part in parts:
                known.check(1, V1, part, "statement.verb", lambda value, path: None)
        assert known._size > 300 * 200
        assert kept() < 300 * 1_000

    def test_values_json_cannot_hold_are_checked_every_time(self):
        # orjson would write the datetime as the string it is not.
        known = KnownValid()
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        activity = {"id": "http://x.org/q", "definition": {"name": {"en-US": moment.isoformat()}}}
        validate_statement(changed("object", activity), V1, known=known)
        activity["definition"]["name"]["en-US"] = moment
        with pytest.raises(StatementError) as raised:
            validate_statement(changed("object", activity), V1, known=known)
        assert raised.value.path == "statement.object.definition.name.en-US"


# Durations the pattern accepts, with numbers below a million: isodate must agree.
_NUMBER = st.integers(0, 999_999).map(str)
_FRACTION = st.one_of(st.just(""), st.integers(0, 999).map(lambda n: f".{n}"))


@st.composite
def _durations(draw):
    if draw(st.booleans()):
        return f"P{draw(_NUMBER)}W"
    parts = [(unit, draw(_NUMBER)) for unit in "YMDHmS" if draw(st.booleans())] or [
        ("S", draw(_NUMBER))
    ]
    text = "P"
    for index, (unit, number) in enumerate(parts):
        if unit in "HmS" and "T" not in text:
            text += "T"
        last = index == len(parts) - 1
        text += number + (draw(_FRACTION) if last else "") + unit.upper()
    return text


@given(_durations())
def test_durations_agree_with_isodate(duration):
    try:
        isodate.parse_duration(duration)
        accepted = True
    except (ValueError, OverflowError, isodate.ISO8601Error):
        accepted = False
    assert syntax.is_duration(duration) == accepted


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        pytest.param("id", REMOVE, "statement.object.id", id="substatement-with-id"),
        pytest.param(
            "object",
            {"objectType": "SubStatement"},
            "statement.object.object.objectType",
            id="nested-substatement",
        ),
    ],
)
def test_substatement_restrictions(path, value, where):
    sub = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:a@b.c"},
        "verb": {"id": "http://x.org/v"},
        "object": {"id": "http://x.org/a"},
    }
    if path == "id":
        sub["id"] = BASE["id"]
    else:
        sub["object"] = {**sub, "objectType": "SubStatement"}
    statement = {**copy.deepcopy(BASE), "object": sub}
    statement.pop("context")
    with pytest.raises(StatementError) as raised:
        validate_statement(statement, V1)
    assert raised.value.path == where


def test_revision_needs_an_activity_object():
    statement = changed("object", {"objectType": "Agent", "mbox": "mailto:x@y.z"})
    with pytest.raises(StatementError) as raised:
        validate_statement(statement, V1)
    assert raised.value.path == "statement.context.revision"


class TestVersion2:
    def test_context_agents_and_groups(self):
        context = {
            "contextAgents": [
                {
                    "objectType": "contextAgent",
                    "agent": {"mbox": "mailto:a@b.c"},
                    "relevantTypes": ["http://x.org/type"],
                }
            ],
            "contextGroups": [
                {
                    "objectType": "contextGroup",
                    "group": {"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]},
                }
            ],
        }
        validate_statement(changed("context", context), V2)
        with pytest.raises(StatementError):
            validate_statement(changed("context", context), V1)

    @pytest.mark.parametrize(
        ("context", "where"),
        [
            (
                {"contextAgents": [{"objectType": "Agent", "agent": {"mbox": "mailto:a@b.c"}}]},
                "statement.context.contextAgents[0].objectType",
            ),
            (
                {"contextAgents": [{"objectType": "contextAgent"}]},
                "statement.context.contextAgents[0].agent",
            ),
            (
                {
                    "contextAgents": [
                        {
                            "objectType": "contextAgent",
                            "agent": {"mbox": "mailto:a@b.c"},
                            "relevantTypes": [],
                        }
                    ]
                },
                "statement.context.contextAgents[0].relevantTypes",
            ),
        ],
    )
    def test_bad_context_agents(self, context, where):
        with pytest.raises(StatementError) as raised:
            validate_statement(changed("context", context), V2)
        assert raised.value.path == where

    def test_timestamps_need_an_offset(self):
        statement = changed("timestamp", "2026-11-23T05:12:25")
        validate_statement(statement, V1)
        with pytest.raises(StatementError) as raised:
            validate_statement(statement, V2)
        assert raised.value.path == "statement.timestamp"

    def test_version_2_is_accepted(self):
        for version in ("2.0.0", "2.0", "2.0.1", "1.0", "1.0.3"):
            validate_statement(changed("version", version), V2)


@pytest.mark.parametrize("value", [[], "text", 5, None, True])
def test_a_statement_must_be_an_object(value):
    with pytest.raises(StatementError, match="must be an object"):
        validate_statement(value, V1)
