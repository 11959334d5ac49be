"""What a statement says about a question answered, and about the mastery criterion in force.

The rules, with the IRIs read, are in ``docs/progress.md`` ("Tries and
attempts"). Everything here reads one statement alone: the definitions it
carries, never the merged definitions of the Activities resource (which
change as statements arrive, and would make the records depend on order).
"""

from typing import Any, NamedTuple

from lrs.xapi import syntax

#: The activity definition extension that names a try's mastery criterion:
#: ``{"m": 3, "n": 5}`` is "3 of the last 5 questions answered correctly".
#: The project's own identifier (it owns no domain to name it under).
MASTERY_CRITERION_EXTENSION = "urn:lrs:xapi:extension:mastery-criterion"
#: The result extension that says a hint was shown before the answer (``true``).
HINTED_EXTENSION = "urn:lrs:xapi:extension:hinted"
#: The verb of a question answered.
ANSWERED_VERB = "http://adlnet.gov/expapi/verbs/answered"
#: The longest short, human-readable response, in characters.
READABLE_LENGTH = 100
# The largest n of a criterion: a window of questions a person answers in a try.
_LARGEST_WINDOW = 1000


class Answer(NamedTuple):
    """One answer to one question (an item)."""

    item: str  # the question's activity id
    correct: float | None  # 0..1: score.scaled, else success; None when neither says
    response: str | None  # result.response as sent
    readable: str  # the response in words, at most READABLE_LENGTH characters
    hinted: bool


def answer_of(statement: dict[str, Any], interaction: bool) -> Answer | None:
    """The answer a statement gives: it has a result, and is about a question.

    Args:
        statement: a valid statement whose object is an Activity.
        interaction: whether its object is a question (an interaction
            activity); a statement whose verb is ``answered`` is one anyway.
    """
    result = statement.get("result")
    if not isinstance(result, dict):
        return None
    verb = statement.get("verb", {}).get("id")
    if not interaction and verb != ANSWERED_VERB:
        return None
    target = statement["object"]
    definition = target.get("definition")
    response = result.get("response")
    response = response if isinstance(response, str) else None
    extensions = result.get("extensions")
    hinted = isinstance(extensions, dict) and extensions.get(HINTED_EXTENSION) is True
    return Answer(
        str(target["id"]),
        correctness(result),
        response,
        "" if response is None else readable_response(definition, response),
        hinted,
    )


def correctness(result: dict[str, Any]) -> float | None:
    """How correct an answer was: ``score.scaled`` kept within 0..1, else 1 or 0 by ``success``."""
    score = result.get("score")
    scaled = score.get("scaled") if isinstance(score, dict) else None
    if isinstance(scaled, int | float) and not isinstance(scaled, bool):
        return min(1.0, max(0.0, float(scaled)))
    success = result.get("success")
    return float(success) if isinstance(success, bool) else None


def is_interaction(definition: Any) -> bool:
    """Whether an activity definition is an interaction's (it names an ``interactionType``)."""
    return isinstance(definition, dict) and isinstance(definition.get("interactionType"), str)


def criterion_of(definition: Any) -> tuple[int, int] | None:
    """The mastery criterion ``(m, n)`` an activity definition names, or ``None``.

    The value of ``MASTERY_CRITERION_EXTENSION`` must be an object with whole
    numbers ``1 <= m <= n <= 1000``; any other value names none (the
    statement is stored all the same: the extension is ours, not xAPI's).
    """
    extensions = definition.get("extensions") if isinstance(definition, dict) else None
    value = extensions.get(MASTERY_CRITERION_EXTENSION) if isinstance(extensions, dict) else None
    if not isinstance(value, dict):
        return None
    m, n = value.get("m"), value.get("n")
    if not all(isinstance(number, int) and not isinstance(number, bool) for number in (m, n)):
        return None
    assert isinstance(m, int) and isinstance(n, int)
    return (m, n) if 1 <= m <= n <= _LARGEST_WINDOW else None


def readable_response(definition: Any, response: str) -> str:
    """A response in words: item ids replaced by their descriptions, shortened.

    Follows the response patterns of xAPI 1.0.3 Data 2.4.4.1 ("Interaction
    Activities"): ``choice`` and ``sequencing`` list ids delimited by ``[,]``,
    ``likert`` is one id, ``matching`` pairs ids with ``[.]``, ``performance``
    pairs step ids with answers, ``numeric`` may be a range ``min[:]max``, and
    ``fill-in`` lists strings. An id the definition does not describe is
    shown as it is.
    """
    kind = definition.get("interactionType") if isinstance(definition, dict) else None
    if kind in ("choice", "sequencing", "likert"):
        names = _descriptions(definition, "scale" if kind == "likert" else "choices")
        text = ", ".join(names.get(item, item) for item in response.split("[,]"))
    elif kind == "matching":
        sources, targets = _descriptions(definition, "source"), _descriptions(definition, "target")
        pairs = (pair.partition("[.]") for pair in response.split("[,]"))
        text = ", ".join(f"{sources.get(a, a)} \u2192 {targets.get(b, b)}" for a, _, b in pairs)
    elif kind == "performance":
        steps = _descriptions(definition, "steps")
        pairs = (pair.partition("[.]") for pair in response.split("[,]"))
        text = ", ".join(f"{steps.get(a, a)}: {_range(b)}" for a, _, b in pairs)
    elif kind == "numeric":
        text = _range(response)
    elif kind in ("fill-in", "long-fill-in"):
        text = ", ".join(response.split("[,]"))
    else:
        text = response
    return text if len(text) <= READABLE_LENGTH else text[: READABLE_LENGTH - 1] + "\u2026"


def _range(value: str) -> str:
    low, delimited, high = value.partition("[:]")
    if not delimited:
        return value
    if low and high:
        return f"{low} to {high}"
    return f"at least {low}" if low else f"at most {high}" if high else value


def _descriptions(definition: dict[str, Any], component: str) -> dict[str, str]:
    """The id of each item of an interaction component, and its description in one language."""
    items = definition.get(component)
    found: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            description = syntax.language_text(item.get("description"))
            if description:
                found[item["id"]] = description
    return found
