"""What a statement says about tries: answers, the mastery criterion, registrations."""

import pytest

from lrs.progress.answers import (
    HINTED_EXTENSION,
    MASTERY_CRITERION_EXTENSION,
    Answer,
    criterion_of,
    readable_response,
)
from lrs.progress.derive import event_of
from lrs.xapi.validation import validate_statement

STORED_US = 1_800_000_000_000_000
ID = "6f0d8a6e-2a5b-4c43-9a7e-0c1a1f1d2e3f"
QUIZ = {
    "id": "http://example.org/quiz",
    "definition": {
        "type": "http://adlnet.gov/expapi/activities/assessment",
        "extensions": {MASTERY_CRITERION_EXTENSION: {"m": 3, "n": 5}},
    },
}
CHOICE = {
    "id": "http://example.org/quiz/q1",
    "definition": {
        "interactionType": "choice",
        "choices": [
            {"id": "golf", "description": {"en-US": "Golf Example", "fr": "Golf"}},
            {"id": "tetris", "description": {"de": "Tetris Beispiel"}},
        ],
    },
}


def statement(**fields):
    return {
        "actor": {"mbox": "mailto:ada@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": CHOICE,
        "result": {"response": "golf[,]tetris", "success": True},
        "context": {
            "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
            "contextActivities": {"parent": [QUIZ]},
        },
        "timestamp": "2026-01-02T03:04:05Z",
        **fields,
    }


def test_an_answer_counts_for_its_quiz_with_its_registration_and_criterion():
    data = statement()
    validate_statement(data, "1.0.3")  # the extension is a valid IRI to xAPI
    found = event_of(data, ID, STORED_US)
    assert found is not None
    assert (found.content, found.kind) == (QUIZ["id"], QUIZ["definition"]["type"])
    assert found.registration == "ec531277-b57b-4c15-8d91-d292c5b2b8f7"  # one spelling
    assert found.criterion == (3, 5)
    assert found.answer == Answer(
        CHOICE["id"], 1.0, "golf[,]tetris", "Golf Example, Tetris Beispiel", False
    )
    # The answer counts as time in the quiz, not as its completion, score or close.
    assert (found.completes, found.closes, found.score, found.masters) == (
        False,
        False,
        None,
        False,
    )


@pytest.mark.parametrize(
    ("result", "correct", "hinted"),
    [
        ({"score": {"scaled": 0.5}, "success": True}, 0.5, False),
        ({"score": {"scaled": -0.5}}, 0.0, False),
        ({"success": False}, 0.0, False),
        ({"response": "x"}, None, False),
        ({"success": True, "extensions": {HINTED_EXTENSION: True}}, 1.0, True),
        ({"success": True, "extensions": {HINTED_EXTENSION: "yes"}}, 1.0, False),
    ],
)
def test_correct_comes_from_the_scaled_score_else_success(result, correct, hinted):
    found = event_of(statement(result=result), ID, STORED_US)
    assert found is not None and found.answer is not None
    assert (found.answer.correct, found.answer.hinted) == (correct, hinted)


def test_which_statements_are_answers():
    def answer_of(data):
        found = event_of(data, ID, STORED_US)
        assert found is not None
        return found.answer

    # An interaction activity with a result, whatever the verb.
    assert answer_of(statement(verb={"id": "http://example.org/verbs/chose"})) is not None
    # The verb answered, whatever the activity.
    plain = {"id": "http://example.org/poll"}
    assert answer_of(statement(object=plain)).item == plain["id"]
    # No result, no answer; nor a plain activity with another verb.
    data = statement()
    del data["result"]
    assert answer_of(data) is None
    other = statement(object=plain, verb={"id": "http://adlnet.gov/expapi/verbs/experienced"})
    assert answer_of(other) is None
    # A question without a parent is its own content.
    alone = statement(context={})
    found = event_of(alone, ID, STORED_US)
    assert found is not None and found.content == CHOICE["id"] and found.registration == ""


def test_passed_or_mastered_about_the_content_itself_masters_it():
    for verb, masters in (("passed", True), ("mastered", True), ("completed", False)):
        data = statement(
            object=QUIZ, verb={"id": f"http://adlnet.gov/expapi/verbs/{verb}"}, result={}
        )
        found = event_of(data, ID, STORED_US)
        assert found is not None and found.content == QUIZ["id"]
        assert (found.masters, found.criterion, found.answer) == (masters, (3, 5), None)


@pytest.mark.parametrize(
    ("value", "criterion"),
    [
        ({"m": 3, "n": 5}, (3, 5)),
        ({"m": 1, "n": 1}, (1, 1)),
        ({"m": 6, "n": 5}, None),
        ({"m": 0, "n": 5}, None),
        ({"m": 1, "n": 1001}, None),
        ({"m": True, "n": 2}, None),
        ({"m": "3", "n": 5}, None),
        ([3, 5], None),
        ("3 of 5", None),
    ],
)
def test_a_criterion_is_m_of_n_whole_numbers(value, criterion):
    assert criterion_of({"extensions": {MASTERY_CRITERION_EXTENSION: value}}) == criterion
    assert criterion_of({"extensions": {}}) is None
    assert criterion_of(None) is None


@pytest.mark.parametrize(
    ("definition", "response", "readable"),
    [
        (CHOICE["definition"], "golf", "Golf Example"),
        (CHOICE["definition"], "golf[,]chess", "Golf Example, chess"),
        (
            {"interactionType": "sequencing", "choices": CHOICE["definition"]["choices"]},
            "tetris[,]golf",
            "Tetris Beispiel, Golf Example",
        ),
        (
            {"interactionType": "likert", "scale": [{"id": "agree", "description": {"en": "Yes"}}]},
            "agree",
            "Yes",
        ),
        (
            {
                "interactionType": "matching",
                "source": [{"id": "ben", "description": {"en-US": "Ben"}}],
                "target": [{"id": "3", "description": {"en-US": "Third"}}],
            },
            "ben[.]3[,]chris[.]2",
            "Ben \u2192 Third, chris \u2192 2",
        ),
        (
            {
                "interactionType": "performance",
                "steps": [{"id": "pong", "description": {"en-US": "Net pong"}}],
            },
            "pong[.]1[:][,]dg[.]:10",
            "Net pong: at least 1, dg: :10",
        ),
        ({"interactionType": "numeric"}, "4[:]", "at least 4"),
        ({"interactionType": "numeric"}, "[:]4", "at most 4"),
        ({"interactionType": "numeric"}, "1[:]4", "1 to 4"),
        ({"interactionType": "fill-in"}, "Bob's your uncle[,]uncle", "Bob's your uncle, uncle"),
        ({"interactionType": "true-false"}, "true", "true"),
        (None, "anything", "anything"),
        ({"interactionType": "long-fill-in"}, "x" * 150, "x" * 99 + "\u2026"),
    ],
)
def test_a_response_in_words(definition, response, readable):
    assert readable_response(definition, response) == readable
