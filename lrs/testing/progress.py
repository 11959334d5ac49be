"""The contract of progress stores: records kept current, filters, and equality with a rebuild."""

import random
import uuid
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrs.progress.answers import Answer
from lrs.progress.base import ProgressStore, key_of
from lrs.progress.derive import (
    ContentSession,
    ContentSummary,
    Event,
    UserSession,
    sessions_of,
    summary_of,
)
from lrs.progress.tries import Mark, Span, Try, TryRecords, mark_of, tries_of
from lrs.testing.helpers import failures, race

GAP_US = 300 * 1_000_000
MINUTE_US = 60 * 1_000_000


def event(
    n: int,
    *,
    learner: str = "mbox:mailto:ada@example.org",
    content: str = "http://example.org/a0",
    minute: float = 0,
    duration_us: int = 0,
    progress: float = 0.0,
    completes: bool = False,
    kind: str = "",
    course: str = "",
    platform: str = "",
    closes: bool = False,
    score: float | None = None,
    registration: str = "",
    masters: bool = False,
    criterion: tuple[int, int] | None = None,
    answer: Answer | None = None,
    success: bool | None = None,
) -> Event:
    """An event of statement ``n`` (its id comes from ``n``)."""
    return Event(
        learner,
        content,
        1_700_000_000_000_000 + int(minute * MINUTE_US),
        str(uuid.UUID(int=n + 1)),
        duration_us,
        1.0 if completes else progress,
        completes,
        kind,
        course,
        platform,
        closes,
        score,
        registration,
        masters,
        criterion,
        answer,
        success,
    )


def answer(
    item: str = "http://x.org/q1",
    correct: float | None = 1.0,
    response: str | None = "a",
    hinted: bool = False,
) -> Answer:
    """An answer to ``item``."""
    return Answer(item, correct, response, response or "", hinted)


def marked_event(n: int, **fields: Any) -> Mark:
    """The mark of ``event(n, **fields)``, which must have one."""
    mark = mark_of(event(n, **fields))
    assert mark is not None
    return mark


def user_sessions(events: list[Event]) -> list[UserSession]:
    """The user sessions a set of events must give: each learner's events split at the gap."""
    found = []
    for learner in sorted({item.learner for item in events}):
        mine = sorted(item.time_us for item in events if item.learner == learner)
        runs: list[list[Event]] = []
        for item in sorted(
            (item for item in events if item.learner == learner), key=lambda e: e.time_us
        ):
            if runs and item.time_us - runs[-1][-1].time_us < GAP_US:
                runs[-1].append(item)
            else:
                runs.append([item])
        assert len(mine) == sum(len(run) for run in runs)
        found += [
            UserSession(
                learner,
                run[0].time_us,
                run[-1].time_us,
                tuple(sorted({item.content for item in run})),
                tuple(sorted({item.course for item in run if item.course})),
                tuple(sorted({item.platform for item in run if item.platform})),
            )
            for run in runs
        ]
    return found


class Held:
    """What a statement store holds, as the events of its unvoided statements (``events_of``)."""

    def __init__(self, *events: Event) -> None:
        """A store holding ``events``'s statements."""
        self.events: dict[str, Event] = {}
        self.add(*events)

    def add(self, *events: Event) -> list[Event]:
        for item in events:
            self.events.setdefault(item.statement_id, item)
        return list(events)

    def void(self, *events: Event) -> list[Event]:
        for item in events:
            self.events.pop(item.statement_id, None)
        return list(events)

    def events_of(self, key: tuple[str, str]) -> list[Event]:
        return [item for item in self.events.values() if key_of(item) == key]


def derived(events: list[Event]) -> tuple[list[ContentSummary], list[ContentSession]]:
    """The records a set of events must give, computed directly from ``lrs.progress.derive``."""
    keys: dict[tuple[str, str], list[Event]] = {}
    for item in events:
        keys.setdefault((item.learner, item.content), []).append(item)
    summaries, sessions = [], []
    for key in sorted(keys):
        found = sessions_of(keys[key], GAP_US)
        summaries.append(summary_of(found))
        sessions += found
    return summaries, sessions


def derived_tries(events: list[Event]) -> list[Try]:
    """The tries a set of events must give: each key's try records made in one pass, here."""
    keys: dict[tuple[str, str], list[Event]] = {}
    for item in events:
        keys.setdefault((item.learner, item.content), []).append(item)
    found = []
    for (learner, content), mine in sorted(keys.items()):
        spans = []
        for registration in sorted({item.registration for item in mine if item.registration}):
            same = [item for item in mine if item.registration == registration]
            spans.append(
                Span(
                    registration,
                    min(item.time_us for item in same),
                    max(item.time_us for item in same),
                    max(item.duration_us for item in same),
                )
            )
        marks: list[Mark] = sorted(
            {mark for item in mine if (mark := mark_of(item)) is not None},
            key=lambda mark: (mark.time_us, mark.statement_id),
        )
        records = TryRecords(tuple(spans), tuple(marks))
        found += tries_of(learner, content, sessions_of(mine, GAP_US), records)
    return found


class ProgressRecordsContract:
    """Events recorded, voided, repeated; records filtered.

    Subclasses supply a ``progress`` fixture returning an empty store whose
    ``session_gap_us`` is 300 seconds.
    """

    def test_sessions_split_at_the_gap_and_roll_up_into_a_summary(
        self, progress: ProgressStore
    ) -> None:
        events = [
            event(0, minute=0, progress=0.2, kind="http://x.org/lesson", course="C1"),
            event(1, minute=4.9, duration_us=10 * MINUTE_US, progress=0.5),
            event(2, minute=9.9, completes=True),  # exactly 5 minutes after: a new session
        ]
        progress.record(events[::-1])
        first, second = progress.sessions()
        assert (first.start_us, first.end_us) == (events[0].time_us, events[1].time_us)
        assert first.time_spent_us == 10 * MINUTE_US  # the longest duration beats the span
        assert (first.progress, first.completion_us) == (0.5, None)
        assert (first.kind, first.course) == ("http://x.org/lesson", "C1")
        assert (second.progress, second.completion_us) == (1.0, events[2].time_us)
        assert (second.time_spent_us, second.kind, second.course) == (0, "", "")
        (summary,) = progress.summaries()
        assert summary == ContentSummary(
            events[0].learner,
            events[0].content,
            "http://x.org/lesson",
            "C1",
            events[0].time_us,
            events[2].time_us,
            events[2].time_us,
            10 * MINUTE_US,
            1.0,
            2,
            None,
            None,
        )

    def test_passed_or_failed_is_the_latest_verdict_and_voiding_takes_it_back(
        self, progress: ProgressStore
    ) -> None:
        held = Held()
        failed = event(0, minute=0, score=0.2, completes=True, success=False)
        progress.record(held.add(failed))
        (summary,) = progress.summaries()
        # Completed (the attempt is over) and failed: one word per notion.
        assert (summary.completion_us, summary.success, summary.score) == (
            failed.time_us,
            False,
            0.2,
        )
        # A later verdict wins, whatever the order of arrival; at one time, passed.
        passed = event(1, minute=20, score=0.9, success=True)
        again = event(2, minute=20, success=False)
        progress.record(held.add(again, passed))
        assert progress.summaries()[0].success is True
        progress.record([], held.void(passed), held.events_of)
        assert progress.summaries()[0].success is False
        progress.record([], held.void(again, failed), held.events_of)
        assert progress.summaries() == []
        # No statement says: none (as records kept before the field existed read).
        progress.record([event(3, minute=40, completes=True)])
        assert progress.summaries()[0].success is None

    def test_a_repeated_event_changes_nothing_and_a_voided_one_is_taken_back(
        self, progress: ProgressStore
    ) -> None:
        held = Held()
        progress.record(held.add(event(0, minute=0), event(1, minute=1, completes=True)))
        before = progress.summaries(), progress.sessions()
        progress.record([event(1, minute=1, completes=True)])
        assert (progress.summaries(), progress.sessions()) == before
        progress.record([], held.void(event(1, minute=1, completes=True)), held.events_of)
        (summary,) = progress.summaries()
        assert (summary.completion_us, summary.progress) == (None, 0.0)
        progress.record([], held.void(event(0)), held.events_of)
        assert progress.summaries() == []
        assert progress.sessions() == []
        # A statement voided in the batch that stores it says nothing.
        voided = event(3, minute=1)
        progress.record(held.add(event(2), voided), held.void(voided), held.events_of)
        (summary,) = progress.summaries()
        assert summary.last_us == event(2).time_us

    def test_taking_an_event_back_splits_its_session(self, progress: ProgressStore) -> None:
        held = Held()
        progress.record(held.add(*[event(n, minute=4 * n) for n in range(3)]))
        assert len(progress.sessions()) == 1  # 0, 4 and 8 minutes: gaps under 5
        progress.record([], held.void(event(1, minute=4)), held.events_of)
        assert [session.start_us for session in progress.sessions()] == [
            event(0).time_us,
            event(2, minute=8).time_us,
        ]
        with pytest.raises(TypeError):
            progress.record([], [event(0)])  # taking back needs the events held

    def test_records_are_filtered_by_learner_content_and_course(
        self, progress: ProgressStore
    ) -> None:
        progress.record(
            [
                event(0, learner="mbox:mailto:a@x.org", content="http://x.org/1", course="C1"),
                event(1, learner="mbox:mailto:b@x.org", content="http://x.org/1", course="C1"),
                event(2, learner="mbox:mailto:a@x.org", content="http://x.org/2", course="C2"),
            ]
        )

        def keys(found: list[Any]) -> list[tuple[str, str]]:
            return [(item.learner, item.content) for item in found]

        a1, b1, a2 = (
            ("mbox:mailto:a@x.org", "http://x.org/1"),
            ("mbox:mailto:b@x.org", "http://x.org/1"),
            ("mbox:mailto:a@x.org", "http://x.org/2"),
        )
        assert keys(progress.summaries()) == [a1, a2, b1]
        assert keys(progress.summaries(learner="mbox:mailto:a@x.org")) == [a1, a2]
        assert keys(progress.summaries(content="http://x.org/1")) == [a1, b1]
        assert keys(progress.summaries(course="C2")) == [a2]
        assert keys(progress.sessions(learner="mbox:mailto:b@x.org", course="C1")) == [b1]
        assert progress.summaries(course="C3") == []

    def test_a_write_from_a_stale_read_is_refused_and_changes_nothing(
        self, progress: ProgressStore
    ) -> None:
        # Two writers of one key read version v; the second to write must fail.
        key = (event(0).learner, event(0).content)
        fresh = sessions_of([event(0)], GAP_US)
        none = TryRecords()
        assert progress._load(key) == (0, [], none)
        assert progress._save(key, 0, fresh, none, summary_of(fresh))
        assert not progress._save(key, 0, [], none, None)  # a first write that lost the race
        version, sessions, tries = progress._load(key)
        assert (sessions, tries) == (fresh, none)
        both = sessions_of([event(0), event(1, minute=1, completes=True)], GAP_US)
        marked = TryRecords((Span("r", 1, 2, 0),), (marked_event(1, masters=True),))
        assert progress._save(key, version, both, marked, summary_of(both))
        assert not progress._save(key, version, fresh, none, summary_of(fresh))
        assert progress.sessions() == both
        assert progress.summaries() == [summary_of(both)]
        assert progress._load(key) == (version + 1, both, marked)

    def test_a_rebuild_forgets_what_its_events_do_not_say(self, progress: ProgressStore) -> None:
        progress.record([event(0), event(1, content="http://x.org/other")])
        assert progress.rebuild([event(2, minute=1)]) == 1
        (summary,) = progress.summaries()
        assert (summary.content, summary.first_us) == (event(2).content, event(2, minute=1).time_us)


class ProgressTriesContract:
    """Tries and attempts: by registration or session, the criterion, voids, filters.

    Subclasses supply a ``progress`` fixture returning an empty store whose
    ``session_gap_us`` is 300 seconds.
    """

    def test_a_registration_makes_a_try_and_without_one_a_session_does(
        self, progress: ProgressStore
    ) -> None:
        q1, q2, q3 = "http://x.org/q1", "http://x.org/q2", "http://x.org/q3"
        registered = [
            event(0, minute=0, registration="r1", criterion=(2, 3)),
            event(1, minute=1, registration="r1", answer=answer(q1)),
            event(2, minute=2, registration="r1", answer=answer(q2, 0.0, "b")),
            event(3, minute=3, registration="r1", answer=answer(q2, 1.0, "c")),
            event(4, minute=4, registration="r1", answer=answer(q3), duration_us=9 * MINUTE_US),
        ]
        plain = [
            event(5, minute=60, answer=answer(q1, 0.0)),
            event(6, minute=61),  # no mark: it makes the session (the try) longer
            event(7, minute=70, answer=answer(q1, 1.0, hinted=True)),
        ]
        progress.record((registered + plain)[::-1])
        first, second, third = progress.tries()
        assert (first.registration, first.start_us, first.end_us) == (
            "r1",
            registered[0].time_us,
            registered[4].time_us,
        )
        assert first.time_spent_us == 9 * MINUTE_US  # the longest duration beats the span
        assert first.criterion == (2, 3)
        # q1 right, then q2 right at its second answer: 2 of the last 3.
        assert first.completion_us == registered[3].time_us
        assert [attempt.item for attempt in first.attempts] == [q1, q2, q3]
        retried = first.attempts[1]
        assert (retried.correct, retried.response, retried.start_us, retried.end_us) == (
            1.0,
            "c",
            registered[2].time_us,
            registered[3].time_us,
        )
        assert [step.response for step in retried.history] == ["b", "c"]
        assert (second.registration, second.start_us, second.end_us) == (
            "",
            plain[0].time_us,
            plain[1].time_us,
        )
        assert (second.criterion, second.completion_us) == (None, None)
        assert [(a.item, a.correct) for a in second.attempts] == [(q1, 0.0)]
        assert third.start_us == plain[2].time_us and third.attempts[0].hinted
        assert [attempt.item for attempt in progress.attempts()] == [q1, q2, q3, q1, q1]

    def test_a_hinted_answer_does_not_count_toward_the_criterion(
        self, progress: ProgressStore
    ) -> None:
        progress.record(
            [
                event(0, registration="r", criterion=(1, 1), answer=answer(hinted=True)),
                event(1, minute=1, registration="r", answer=answer("http://x.org/q2")),
            ]
        )
        (found,) = progress.tries()
        assert found.completion_us == event(1, minute=1).time_us

    def test_voiding_takes_back_a_mark_and_narrows_its_span(self, progress: ProgressStore) -> None:
        held = Held()
        answered = event(1, minute=1, registration="r", answer=answer())
        passed = event(2, minute=2, registration="r", masters=True)
        progress.record(held.add(event(0, registration="r"), answered, passed))
        (found,) = progress.tries()
        assert (found.completion_us, found.end_us) == (passed.time_us, passed.time_us)
        progress.record([], held.void(passed), held.events_of)
        (found,) = progress.tries()
        assert (found.completion_us, found.end_us) == (None, answered.time_us)
        progress.record([], held.void(answered), held.events_of)
        assert progress.tries() == []  # a registration without a mark is no try
        assert len(progress.summaries()) == 1

    def test_tries_are_filtered_by_learner_content_and_course(
        self, progress: ProgressStore
    ) -> None:
        ada, bob = "mbox:mailto:ada@x.org", "mbox:mailto:bob@x.org"
        progress.record(
            [
                event(0, learner=ada, content="http://x.org/1", course="C1", answer=answer()),
                event(1, learner=bob, content="http://x.org/1", course="C1", answer=answer()),
                event(2, learner=ada, content="http://x.org/2", course="C2", masters=True),
                event(3, learner=bob, content="http://x.org/3", course="C2"),  # no try
            ]
        )

        def keys(found: list[Any]) -> list[tuple[str, str]]:
            return [(item.learner, item.content) for item in found]

        assert keys(progress.tries()) == [
            (ada, "http://x.org/1"),
            (ada, "http://x.org/2"),
            (bob, "http://x.org/1"),
        ]
        assert keys(progress.tries(learner=ada, course="C1")) == [(ada, "http://x.org/1")]
        assert keys(progress.tries(content="http://x.org/1")) == [
            (ada, "http://x.org/1"),
            (bob, "http://x.org/1"),
        ]
        assert keys(progress.attempts(course="C2")) == []
        assert keys(progress.tries(kind="")) == keys(progress.tries())  # the events name none
        assert progress.tries(kind="http://adlnet.gov/expapi/activities/assessment") == []
        assert keys(progress.attempts(learner=bob)) == [(bob, "http://x.org/1")]


class ProgressPartContract:
    """A part rebuilt (one learner, one course) leaves the rest as it was.

    Subclasses supply a ``progress`` fixture returning an empty store whose
    ``session_gap_us`` is 300 seconds.
    """

    def test_a_learner_or_a_course_is_derived_again_alone(self, progress: ProgressStore) -> None:
        ada, bob = "mbox:mailto:ada@x.org", "mbox:mailto:bob@x.org"
        events = [
            event(0, learner=ada, content="http://x.org/1", course="C1"),
            event(1, learner=ada, content="http://x.org/2", course="C2"),
            event(2, learner=bob, content="http://x.org/1", course="C1"),
        ]
        progress.record(events)
        # What a rebuild of ada sees: her statement in C2 is gone, one is new.
        newer = event(3, learner=ada, content="http://x.org/1", minute=1, completes=True)
        assert progress.rebuild_part([events[0], newer], learner=ada) == 1
        assert [key_of(summary) for summary in progress.summaries()] == [
            (ada, "http://x.org/1"),
            (bob, "http://x.org/1"),
        ]
        (mine,) = progress.summaries(learner=ada)
        assert mine.completion_us == newer.time_us
        # A course's part: bob's summary there goes when his events do.
        assert progress.rebuild_part([events[0], newer], course="C1") == 1
        assert [key_of(summary) for summary in progress.summaries()] == [(ada, "http://x.org/1")]


class ProgressRebuildContract:
    """Kept current in any order, by concurrent writers, the records equal a rebuild.

    Subclasses supply a ``progress`` fixture returning an empty store whose
    ``session_gap_us`` is 300 seconds.
    """

    @settings(
        max_examples=25,
        deadline=None,
        # Each example starts with a rebuild from nothing, which empties the
        # function-scoped store; the same property runs once per backend.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        items=st.lists(
            st.tuples(
                st.integers(0, 2),  # learner
                st.integers(0, 2),  # content
                # Minutes, so that gaps fall on both sides of 5.
                st.sampled_from([0, 1, 4.99, 5, 5.01, 9, 10, 30]),
                st.sampled_from([0, MINUTE_US, 8 * MINUTE_US]),  # duration
                st.sampled_from([0.0, 0.25, 0.9]),  # progress
                st.booleans(),  # completes
                st.booleans(),  # whether it names its content's course
                st.sampled_from(["", "Moodle", "tablet"]),  # platform
                st.booleans(),  # closes
                st.sampled_from([None, 0.5, 0.9]),  # score
                st.sampled_from([None, True, False]),  # passed or failed
                st.sampled_from(["", "", "r1", "r2"]),  # registration
                st.booleans(),  # masters
                st.sampled_from([None, (1, 2), (2, 2)]),  # criterion
                # An answer: none, or to one of two items, right, wrong, ungraded, hinted.
                st.sampled_from(
                    [None]
                    + [
                        answer(f"http://x.org/q{item}", correct, "r", hinted)
                        for item in (1, 2)
                        for correct in (0.0, 1.0, None)
                        for hinted in (False, True)
                    ]
                ),
            ),
            min_size=1,
            max_size=14,
        ),
        voided=st.sets(st.integers(0, 13), max_size=4),
        repeated=st.sets(st.integers(0, 13), max_size=3),
        seed=st.integers(0, 2**16),
    )
    def test_records_kept_by_concurrent_writers_in_any_order_equal_a_rebuild(
        self,
        progress: ProgressStore,
        items: list[tuple[Any, ...]],
        voided: set[int],
        repeated: set[int],
        seed: int,
    ) -> None:
        progress.rebuild([])
        events = [
            event(
                n,
                learner=f"mbox:mailto:learner{learner}@x.org",
                content=f"http://x.org/c{content}",
                minute=minute,
                duration_us=duration,
                progress=share,
                completes=completes,
                # A content is in one course (C0, C1, C2), named or not.
                course=f"C{content}" if course else "",
                platform=platform,
                closes=closes,
                score=score,
                success=success,
                registration=registration,
                masters=masters,
                criterion=criterion,
                answer=answered,
            )
            for n, (
                learner,
                content,
                minute,
                duration,
                share,
                completes,
                course,
                platform,
                closes,
                score,
                success,
                registration,
                masters,
                criterion,
                answered,
            ) in enumerate(items)
        ]
        voided = {n for n in voided if n < len(events)}
        # Each writer sends a few statements, some sent twice, and voids some
        # (a void sent by one writer may reach the store before its target).
        sent = events + [events[n] for n in repeated if n < len(events)]
        shuffled = random.Random(seed)
        shuffled.shuffle(sent)
        writers = [sent[n::8] for n in range(8)]
        outcomes = race(
            *[partial(progress.record, batch) for batch in writers if batch],
        )
        assert failures(outcomes) == []
        held = Held(*events)
        gone = held.void(*[events[n] for n in sorted(voided)])
        outcomes = race(*[partial(progress.record, [], [item], held.events_of) for item in gone])
        assert failures(outcomes) == []
        kept = progress.summaries(), progress.sessions()
        final = [item for n, item in enumerate(events) if n not in voided]
        assert kept == derived(final)
        tried = progress.tries()
        assert tried == derived_tries(final)
        assert progress.user_sessions() == user_sessions(final)
        for course in ("C0", "C2"):
            assert progress.user_sessions(course=course) == [
                session for session in user_sessions(final) if course in session.courses
            ]
        assert progress.rebuild(final) == len({(e.learner, e.content) for e in final})
        assert (progress.summaries(), progress.sessions()) == kept
        assert progress.tries() == tried


class ProgressStoreContract(
    ProgressRecordsContract, ProgressTriesContract, ProgressPartContract, ProgressRebuildContract
):
    """Every behaviour a progress store must have.

    Subclasses supply a ``progress`` fixture returning an empty store whose
    ``session_gap_us`` is 300 seconds.
    """
