"""Tries and attempts (Kolibri's mastery and attempt logs), derived from statements.

A key (one learner in one piece of content) keeps, beside its sessions,
its *try records*: the span of each registration (a join, like a session's
fields) and a *mark* per statement that tries are made of (an answer, a
mastery criterion, a mastering verb), kept whole and found by statement
id. Both are joins: a mark added twice is one mark, and a span joined twice
is unchanged, so try records are kept current in any order by the protocol
of ``lrs.progress.base``, as sessions are. The tries themselves
(``tries_of``) are a function of the try records and the sessions, derived
when read. The rules are in ``docs/progress.md`` ("Tries and attempts").
"""

import bisect
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from lrs.progress.derive import ContentSession, Event


class Mark(NamedTuple):
    """What one statement brings to a try: an answer, a criterion, a mastering verb."""

    time_us: int
    statement_id: str
    registration: str
    masters: bool
    criterion_m: int | None
    criterion_n: int | None
    item: str  # the question answered, "" when none
    correct: float | None
    response: str | None
    readable: str
    hinted: bool

    @property
    def answered(self) -> bool:
        """Whether it answers a question."""
        return bool(self.item)


class Span(NamedTuple):
    """When the statements of one registration came: a join of their times and durations."""

    registration: str
    start_us: int
    end_us: int
    longest_us: int


class TryRecords(NamedTuple):
    """What a key keeps for its tries: spans by registration, marks by time then statement id."""

    spans: tuple[Span, ...] = ()
    marks: tuple[Mark, ...] = ()

    def to_json(self) -> list[Any]:
        """The records as JSON keeps them (see ``try_records_from``)."""
        return [[list(span) for span in self.spans], [list(mark) for mark in self.marks]]


def try_records_from(value: Sequence[Any] | None) -> TryRecords:
    """Try records from ``TryRecords.to_json`` (``None``: a key without any)."""
    if not value:
        return TryRecords()
    spans, marks = value
    return TryRecords(tuple(map(Span._make, spans)), tuple(map(Mark._make, marks)))


class Interaction(NamedTuple):
    """One answer in an attempt's history."""

    time_us: int
    statement_id: str
    correct: float | None
    response: str | None
    readable: str
    hinted: bool


class Attempt(NamedTuple):
    """One question answered in a try: its latest answer, and every answer, oldest first."""

    learner: str
    content: str
    registration: str
    item: str
    start_us: int  # the first answer
    end_us: int  # the latest
    correct: float | None  # of the latest answer
    response: str | None
    readable: str
    hinted: bool  # a hint was shown before one of its answers
    history: tuple[Interaction, ...]


class Try(NamedTuple):
    """One try of an assessable content by a learner (Kolibri's mastery log)."""

    learner: str
    content: str
    registration: str  # "" for a try without one (a session's)
    start_us: int
    end_us: int
    time_spent_us: int
    criterion: tuple[int, int] | None  # (m, n) in force when it started
    completion_us: int | None
    attempts: tuple[Attempt, ...]  # by first answer, then item


def mark_of(event: Event) -> Mark | None:
    """The mark of an event that tries are made of; ``None`` for the others."""
    answer, criterion = event.answer, event.criterion
    if answer is None and criterion is None and not event.masters:
        return None
    return Mark(
        event.time_us,
        event.statement_id,
        event.registration,
        event.masters,
        None if criterion is None else criterion[0],
        None if criterion is None else criterion[1],
        "" if answer is None else answer.item,
        None if answer is None else answer.correct,
        None if answer is None else answer.response,
        "" if answer is None else answer.readable,
        False if answer is None else answer.hinted,
    )


def _span_of(event: Event) -> Span:
    return Span(event.registration, event.time_us, event.time_us, event.duration_us)


def _join(a: Span, b: Span) -> Span:
    return Span(
        a.registration,
        min(a.start_us, b.start_us),
        max(a.end_us, b.end_us),
        max(a.longest_us, b.longest_us),
    )


def _order(mark: Mark) -> tuple[int, str]:
    return mark.time_us, mark.statement_id


def tries_with(records: TryRecords, event: Event) -> TryRecords:
    """A key's try records once ``event`` joined them (an event joined already changes nothing).

    ``records`` itself when nothing changes (the common case of a statement
    inside its registration's span that brings no mark).
    """
    spans, marks = records
    registration, time = event.registration, event.time_us
    if registration:
        held = next((span for span in spans if span.registration == registration), None)
        if held is None:
            spans = tuple(sorted([*spans, _span_of(event)]))
        elif not (held.start_us <= time <= held.end_us and event.duration_us <= held.longest_us):
            others = [span for span in spans if span.registration != registration]
            spans = tuple(sorted([*others, _join(held, _span_of(event))]))
    if event.answer is not None or event.criterion is not None or event.masters:
        statement_id = event.statement_id
        if all(held.statement_id != statement_id for held in marks):
            mark = mark_of(event)
            assert mark is not None
            ordered = list(marks)
            bisect.insort(ordered, mark, key=_order)
            marks = tuple(ordered)
    if spans is records.spans and marks is records.marks:
        return records
    return TryRecords(spans, marks)


def tries_without(
    records: TryRecords, gone: Sequence[Event], events: Iterable[Event]
) -> TryRecords:
    """A key's try records once the ``gone`` events were taken back (their statements voided).

    Their marks go; the spans of their registrations are derived again
    from the key's ``events`` as the statement store now holds them.
    """
    ids = {event.statement_id for event in gone}
    touched = {event.registration for event in gone if event.registration}
    spans = [span for span in records.spans if span.registration not in touched]
    again: dict[str, Span] = {}
    for event in events:
        if event.registration in touched:
            held = again.get(event.registration)
            again[event.registration] = (
                _span_of(event) if held is None else _join(held, _span_of(event))
            )
    return TryRecords(
        tuple(sorted(spans + list(again.values()))),
        tuple(mark for mark in records.marks if mark.statement_id not in ids),
    )


def tries_of(
    learner: str, content: str, sessions: Sequence[ContentSession], records: TryRecords
) -> list[Try]:
    """The tries of one key, by start then registration.

    A try is the marks of one registration, or, without one, those of one
    content session; a registration or session without a mark is no try.
    """
    groups: dict[tuple[str, int], list[Mark]] = {}
    starts = [session.start_us for session in sessions]
    for mark in records.marks:
        if mark.registration:
            groups.setdefault((mark.registration, 0), []).append(mark)
        else:
            # The session holding the mark: the last that starts at or before it.
            index = max(0, bisect.bisect_right(starts, mark.time_us) - 1)
            groups.setdefault(("", index), []).append(mark)
    spans = {span.registration: span for span in records.spans}
    found = []
    for (registration, index), marks in groups.items():
        # A mark and its span (or session) come from one event, written together.
        if registration:
            span = spans[registration]
            start, end = span.start_us, span.end_us
            spent = max(end - start, span.longest_us)
        else:
            session = sessions[index]
            start, end, spent = session.start_us, session.end_us, session.time_spent_us
        found.append(_try(learner, content, registration, (start, end, spent), marks))
    return sorted(found, key=lambda item: (item.start_us, item.registration))


def _try(
    learner: str,
    content: str,
    registration: str,
    when: tuple[int, int, int],
    marks: Sequence[Mark],
) -> Try:
    """One try from its marks (oldest first)."""
    criterion = next(
        (
            (mark.criterion_m, mark.criterion_n)
            for mark in marks
            if mark.criterion_m is not None and mark.criterion_n is not None
        ),
        None,
    )
    by_item: dict[str, list[Mark]] = {}
    for mark in marks:
        if mark.answered:
            by_item.setdefault(mark.item, []).append(mark)
    attempts = sorted(
        (_attempt(learner, content, registration, answers) for answers in by_item.values()),
        key=lambda attempt: (attempt.start_us, attempt.item),
    )
    mastered = [mark.time_us for mark in marks if mark.masters]
    met = None if criterion is None else criterion_met(attempts, *criterion)
    completion = min([*mastered, *([] if met is None else [met])], default=None)
    start, end, spent = when
    return Try(
        learner,
        content,
        registration,
        start,
        end,
        spent,
        criterion,
        completion,
        tuple(attempts),
    )


def _attempt(learner: str, content: str, registration: str, answers: Sequence[Mark]) -> Attempt:
    latest = answers[-1]
    return Attempt(
        learner,
        content,
        registration,
        latest.item,
        answers[0].time_us,
        latest.time_us,
        latest.correct,
        latest.response,
        latest.readable,
        any(answer.hinted for answer in answers),
        tuple(
            Interaction(
                answer.time_us,
                answer.statement_id,
                answer.correct,
                answer.response,
                answer.readable,
                answer.hinted,
            )
            for answer in answers
        ),
    )


def criterion_met(attempts: Sequence[Attempt], m: int, n: int) -> int | None:
    """When "m of the last n correct" was first met by ``attempts`` (by first answer), or ``None``.

    After each attempt, the last ``n`` attempts so far (fewer at the start)
    are looked at; the criterion is met when ``m`` of them are correct
    (their latest answer wholly correct, with no hint shown), at the time
    of the latest answer among them; the earliest such time counts.
    """
    times = []
    for end in range(len(attempts)):
        window = attempts[max(0, end - n + 1) : end + 1]
        if sum(attempt.correct == 1.0 and not attempt.hinted for attempt in window) >= m:
            times.append(max(attempt.end_us for attempt in window))
    return min(times, default=None)
