"""The course report (learners x activities) and the exam report (docs/progress.md)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lrs.enrollments.base import CourseRole, EnrollmentStore
from lrs.exceptions import DoesNotExist
from lrs.progress.base import ProgressStore
from lrs.progress.derive import ContentSummary
from lrs.progress.tries import Try
from lrs.xapi.agents import AccountAgents


@dataclass(frozen=True)
class ActivityTotals:
    """One activity of a course, over the learners of the report."""

    activity: str
    kind: str
    started: int  # learners with at least one statement about it
    completed: int
    average_progress: float  # over the learners who started it
    average_time_spent_us: int  # likewise
    first_us: int = 0  # its first statement's time: the course's order
    assessed: bool = False  # an exam, quiz or exercise, or scored (``is_assessed``)


@dataclass(frozen=True)
class LearnerRow:
    """One learner of a course: their summary of each activity they started."""

    learner: str
    # By activity id: summaries come in (learner, content) order.
    cells: dict[str, ContentSummary] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        """How many activities they completed."""
        return sum(1 for summary in self.cells.values() if summary.completion_us is not None)

    @property
    def time_spent_us(self) -> int:
        """Their time spent in the course's activities."""
        return sum(summary.time_spent_us for summary in self.cells.values())


@dataclass(frozen=True)
class CourseReport:
    """Every learner of a course against every activity of it."""

    course: str
    activities: list[ActivityTotals]
    learners: list[LearnerRow]


#: The last part of the activity types of assessed content: questions are asked in it.
ASSESSED_KINDS = frozenset(
    {"assessment", "exam", "quiz", "test", "exercise", "question", "interaction", "cmi.interaction"}
)


def is_assessed(kind: str) -> bool:
    """Whether content of this activity type is assessed (an exam, a quiz, an exercise...)."""
    return bool(kind) and kind.rstrip("/").rsplit("/", 1)[-1].lower() in ASSESSED_KINDS


def enrolled_learners(
    enrollments: EnrollmentStore, accounts: AccountAgents, course: str
) -> list[str]:
    """The agent keys of a course's actively enrolled learners (course role ``learner``)."""
    return [
        accounts.key(enrollment.username)
        for enrollment in enrollments.list_enrollments(
            course_key=course, is_active=True, role=CourseRole.learner
        )
    ]


def course_report(
    course: str, summaries: Iterable[ContentSummary], learners: Sequence[str] = ()
) -> CourseReport:
    """The report of a course from its summaries.

    Args:
        course: the course.
        summaries: the course's summaries, of the learners the report is for,
            in the order ``ProgressStore.summaries`` gives them.
        learners: learners that get a row even without a summary (those
            enrolled); every learner with a summary gets one too.

    Activities are the contents that have a summary, in the order they
    first appeared (the time of their first statement; then by id), which is
    the course's order as learners meet it; learners are in the order of
    their keys. Averages are over the learners who started the activity.
    """
    rows: dict[str, LearnerRow] = {learner: LearnerRow(learner) for learner in learners}
    # Per activity: learners, completions, progress, time spent, kind.
    sums: dict[str, list[Any]] = {}
    for summary in summaries:
        row = rows.get(summary.learner)
        if row is None:
            row = rows[summary.learner] = LearnerRow(summary.learner)
        row.cells[summary.content] = summary
        totals = sums.get(summary.content)
        if totals is None:
            totals = sums[summary.content] = [0, 0, 0.0, 0, "", summary.first_us, False]
        totals[0] += 1
        totals[1] += summary.completion_us is not None
        totals[2] += summary.progress
        totals[3] += summary.time_spent_us
        totals[4] = totals[4] or summary.kind
        totals[5] = min(totals[5], summary.first_us)
        totals[6] = totals[6] or summary.score is not None or summary.success is not None
    activities = [
        ActivityTotals(
            activity,
            kind,
            started,
            completed,
            progress / started,
            spent // started,
            first,
            scored or is_assessed(kind),
        )
        for activity, (started, completed, progress, spent, kind, first, scored) in sums.items()
    ]
    activities.sort(key=lambda totals: (totals.first_us, totals.activity))
    return CourseReport(course, activities, [rows[learner] for learner in sorted(rows)])


@dataclass(frozen=True)
class WrongAnswer:
    """A learner's latest answer to a question in one try, when it was not right."""

    learner: str
    readable: str  # the answer in words (docs/progress.md), else as sent
    correct: float  # below 1: 0 for wrong, between for partly right


@dataclass(frozen=True)
class QuestionTotals:
    """One question of an assessed content, over the attempts at it."""

    item: str
    attempts: int  # one per learner per try
    graded: int  # those whose latest answer says how correct it was
    correct: float | None  # the share of correct answers: their average correctness
    wrong: tuple[WrongAnswer, ...] = ()  # the attempts not right, by learner


#: Wrong answers in a try, not mastered, from which a learner needs help.
WRONG_ANSWERS_FOR_HELP = 3


@dataclass(frozen=True)
class ExamReport:
    """An assessed content (an exam, a quiz, an exercise) over its learners.

    How many took and closed it, its questions worst first with who got each
    wrong, who has not started, and who needs help.
    """

    exam: str
    learners: int  # who have a statement about it
    closed: int
    average_score: float | None  # of the learners with a score
    questions: list[QuestionTotals]
    # Each learner's summary of the exam (their score, close), by learner.
    summaries: list[ContentSummary] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)  # enrolled, no statement about it
    needs_help: frozenset[str] = frozenset()  # failed it, or wrong answers piling up


def needs_help(summaries: Iterable[ContentSummary], tries: Iterable[Try]) -> frozenset[str]:
    """The learners who need help with a content (docs/progress.md, "Needs help").

    Those whose latest verdict is failed, and those with a try not mastered
    in which ``WRONG_ANSWERS_FOR_HELP`` answers or more were wrong.
    """
    found = {summary.learner for summary in summaries if summary.success is False}
    for tried in tries:
        if tried.completion_us is not None:
            continue
        wrong = sum(
            1
            for attempt in tried.attempts
            for step in attempt.history
            if step.correct is not None and step.correct < 1
        )
        if wrong >= WRONG_ANSWERS_FOR_HELP:
            found.add(tried.learner)
    return frozenset(found)


def exam_report(
    exam: str,
    summaries: Iterable[ContentSummary],
    tries: Iterable[Try],
    enrolled: Sequence[str] = (),
) -> ExamReport:
    """The report of an assessed content from its learners' summaries and tries.

    Questions are ordered by their share of correct answers, lowest first
    (the questions a coach looks at first), then by id; questions without
    a graded answer come last. ``enrolled``: the learners expected to take
    it (those without a statement about it are listed as not started).
    """
    summaries = list(summaries)
    tries = list(tries)
    scores = [summary.score for summary in summaries if summary.score is not None]
    # Per question: attempts, graded ones, the sum of their correctness, wrong answers.
    sums: dict[str, list[Any]] = {}
    for found in tries:
        for attempt in found.attempts:
            totals = sums.setdefault(attempt.item, [0, 0, 0.0, []])
            totals[0] += 1
            if attempt.correct is not None:
                totals[1] += 1
                totals[2] += attempt.correct
                if attempt.correct < 1:
                    readable = attempt.readable or attempt.response or ""
                    totals[3].append(WrongAnswer(found.learner, readable, attempt.correct))
    questions = [
        QuestionTotals(
            item,
            attempts,
            graded,
            total / graded if graded else None,
            tuple(sorted(wrong, key=lambda answer: answer.learner)),
        )
        for item, (attempts, graded, total, wrong) in sums.items()
    ]
    questions.sort(
        key=lambda question: (question.correct is None, question.correct or 0.0, question.item)
    )
    started = {summary.learner for summary in summaries} | {found.learner for found in tries}
    return ExamReport(
        exam,
        len(summaries),
        sum(summary.closed_us is not None for summary in summaries),
        sum(scores) / len(scores) if scores else None,
        questions,
        summaries,
        sorted(learner for learner in set(enrolled) if learner not in started),
        needs_help(summaries, tries),
    )


def report_of_course(
    progress: ProgressStore,
    enrollments: EnrollmentStore,
    accounts: AccountAgents,
    course: str,
    *,
    visible: frozenset[str] | None = None,
) -> CourseReport:
    """The course report the API, the dashboard and ``lrs progress report`` show.

    Rows: the course's actively enrolled learners, with or without progress,
    and anyone else with progress in it whose records the caller sees
    (``visible``: agent keys, ``None`` for all; a coach sees the enrolled).

    Raises:
        DoesNotExist: nobody is enrolled in the course and no statement is about it.
    """
    enrolled = enrolled_learners(enrollments, accounts, course)
    summaries = progress.summaries(course=course)
    if not summaries and next(enrollments.list_enrollments(course_key=course), None) is None:
        raise DoesNotExist(
            f"no course {course!r} here: nobody is enrolled in it and no statement is about it"
        )
    if visible is not None:
        summaries = [summary for summary in summaries if summary.learner in visible]
    return course_report(course, summaries, enrolled)


def report_of_exam(
    progress: ProgressStore,
    exam: str,
    *,
    learner: str | None = None,
    course: str | None = None,
    visible: frozenset[str] | None = None,
    enrolled: Sequence[str] = (),
) -> ExamReport:
    """The report of assessed content that the API, the dashboard and the CLI show.

    Of one learner's records, or of a course's, or of everyone's, limited to
    the learners the caller sees (``visible``: agent keys, ``None`` for all).
    An exam, or any content with questions or a score: a quiz, an exercise.
    ``enrolled``: the learners expected to take it (see ``exam_report``).

    Raises:
        DoesNotExist: no statement is about the content (that the caller sees).
    """
    summaries = progress.summaries(learner=learner, content=exam, course=course)
    tries = progress.tries(learner=learner, content=exam, course=course)
    if visible is not None:
        summaries = [summary for summary in summaries if summary.learner in visible]
        tries = [found for found in tries if found.learner in visible]
    if not summaries and not tries:
        where = "" if course is None else f" in {course}"
        raise DoesNotExist(f"no exam {exam!r}{where} here: no statement is about it")
    return exam_report(exam, summaries, tries, enrolled)
