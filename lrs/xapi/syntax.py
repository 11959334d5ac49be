"""The syntax of xAPI values: IRIs, UUIDs, language tags, timestamps, durations, mailto.

Each check is fast enough for statement ingest (microseconds): IRIs are mapped
to URIs (RFC 3987 section 3.1) and checked by a regular-expression validator,
and IRIs and language tags, which repeat from statement to statement (verbs,
activities, homepages), are checked once each and cached. Durations, which
differ from one statement to the next, are checked by a pattern alone.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any
from urllib.parse import quote

import isodate
import langcodes
from rfc3986_validator import validate_rfc3986

from lrs.patterns import EMAIL, Whole

_ASCII = "".join(chr(c) for c in range(0x80))
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f]")
_TAG_CHARACTERS = Whole(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_UUID = Whole(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SHA1 = Whole(r"[0-9a-fA-F]{40}")
_EMAIL = Whole(EMAIL)
# ISO 8601 date-times, extended (RFC 3339, whose separator may also be a space
# or a lower-case t) or basic; the offset is checked separately.
_TIMESTAMP = Whole(
    r"(?:\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"|\d{8}T\d{4}(?:\d{2}(?:[.,]\d+)?)?)"
    r"(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
_LONG_NUMBER = re.compile(r"\d{7}")
# ISO 8601:2004 4.4.3.2: weeks stand alone; otherwise years to seconds, and
# only the last component may have a fraction (not enforced: isodate parses it).
_DURATION = Whole(
    r"P(?:\d+(?:[.,]\d+)?W"
    r"|(?!\Z)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?)"
)


def _remembered(size: int) -> Callable[[Callable[[str], bool]], Callable[[str], bool]]:
    """Remember a check's answers for up to ``size`` strings, forgetting them all when full.

    A plain dict of strings and booleans, rather than ``functools.lru_cache``,
    whose linked entries are containers the garbage collector walks on every
    full collection: a server's caches, filled with tens of thousands of IRIs,
    then cost each collection milliseconds.
    """

    def decorate(check: Callable[[str], bool]) -> Callable[[str], bool]:
        answers: dict[str, bool] = {}

        @wraps(check)
        def remembered(value: str) -> bool:
            answer = answers.get(value)
            if answer is None:
                answer = check(value)
                if len(answers) >= size:
                    answers.clear()
                answers[value] = answer
            return answer

        return remembered

    return decorate


@_remembered(65536)
def is_iri(value: str) -> bool:
    """Whether ``value`` is an absolute IRI (it has a scheme)."""
    # Percent-encode what is not ASCII, and only that (RFC 3987 section 3.1):
    # the IRI is valid when the URI it maps to is.
    if _CONTROL_OR_SPACE.search(value):
        return False  # the validator's "$" would let a final newline through (lrs.patterns)
    uri = quote(value, safe=_ASCII) if not value.isascii() else value
    return bool(validate_rfc3986(uri, rule="URI"))


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID in its standard string form."""
    return _UUID(value)


def is_sha1(value: str) -> bool:
    """Whether ``value`` is a hex SHA-1 digest."""
    return _SHA1(value)


@_remembered(65536)
def is_mailto(value: str) -> bool:
    """Whether ``value`` is a ``mailto:`` IRI of one address."""
    return value.startswith("mailto:") and _EMAIL(value[7:])


@_remembered(4096)
def is_language_tag(value: str) -> bool:
    """Whether ``value`` is a well-formed RFC 5646 language tag."""
    # langcodes also accepts forms such as "en_US"; RFC 5646 does not.
    return _TAG_CHARACTERS(value) and langcodes.tag_is_valid(value)


def is_timestamp(value: str, *, offset_required: bool) -> bool:
    """Whether ``value`` is an ISO 8601 date-time (with an offset when required).

    The offset ``-00:00`` (an unknown offset in RFC 3339) is refused.
    """
    match = _TIMESTAMP.matched(value)
    if match is None:
        return False
    offset = match.group("offset")
    if offset is None and offset_required:
        return False
    if offset in ("-00", "-0000", "-00:00"):
        return False
    try:
        # The pattern fixed the shape; this checks the ranges (month 13, hour 25)
        # and that the time is one in UTC too (not before year 1 or after 9999
        # once its offset is taken away).
        parse_timestamp(value).astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return True


def parse_timestamp(value: str) -> datetime:
    """Parse a date-time that ``is_timestamp`` accepts; without an offset it is UTC.

    Raises:
        ValueError: it is not one.
    """
    moment = datetime.fromisoformat(value.replace(" ", "T").replace("t", "T").replace("z", "Z"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def is_duration(value: str) -> bool:
    """Whether ``value`` is an ISO 8601 duration with at least one component."""
    if not _DURATION(value):
        return False
    if not _LONG_NUMBER.search(value):
        # No component reaches a million (weeks, days, hours...): isodate
        # accepts every such duration the pattern accepts, and durations
        # differ from statement to statement, so the shortcut counts.
        return True
    try:
        isodate.parse_duration(value)
    except (ValueError, OverflowError, isodate.ISO8601Error):
        return False  # beyond what a duration can hold (isodate overflows)
    return True


def context_activities(context: Any, kind: str | None = None) -> list[Any]:
    """The context activities of a valid context: of one kind (``parent``...), or of every kind.

    xAPI 1.0.x allowed one Activity where 2.0.0 wants a list; a stored
    statement always has lists (``lrs.xapi.prepare``), a statement as sent
    may not.
    """
    found = context.get("contextActivities") if isinstance(context, dict) else None
    if not isinstance(found, dict):
        return []
    activities: list[Any] = []
    for items in found.values() if kind is None else [found.get(kind, [])]:
        if isinstance(items, list):
            activities += items
        else:
            activities.append(items)
    return activities


def language_text(language_map: Any) -> str:
    """A language map's text for people: in English where it has it, else its first by tag.

    ``""`` for anything that is not a map holding text.
    """
    if not isinstance(language_map, dict) or not language_map:
        return ""
    for tag in ("en-US", "en", "en-GB"):
        if isinstance(language_map.get(tag), str):
            return str(language_map[tag])
    text = language_map[min(language_map)]
    return text if isinstance(text, str) else ""
