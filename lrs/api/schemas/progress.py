"""Schemas of the progress resources (``/api/v1/progress/...``)."""

from datetime import UTC

import marshmallow as ma
from marshmallow import fields, validate

from lrs.api.pagination import page_field, page_size_field
from lrs.api.schemas import username_field

PASSED = (
    "Passed (true) or failed (false): the latest statement about the content itself "
    "that says (result.success, or the verb passed or failed); null when none says."
)


class ProgressQueryArgsSchema(ma.Schema):
    """Whose progress, in what; a page at a time."""

    username = username_field(
        "The learner (their account agent on LRS_ACCOUNT_HOMEPAGE); a learner credential "
        "reads its own without naming it.",
        required=False,
    )
    agent = fields.String(
        validate=validate.Length(min=1),
        metadata={
            "description": "A learner who is not a user here, by agent key "
            "(mbox:mailto:..., account:homePage|name, ...); admin and service credentials."
        },
    )
    course_key = fields.String(
        validate=validate.Length(min=1),
        metadata={"description": "The course (required of coach credentials)."},
    )
    activity = fields.String(
        validate=validate.Length(min=1), metadata={"description": "The content's activity id."}
    )
    since = fields.AwareDateTime(
        default_timezone=UTC,
        metadata={"description": "Only records that end at or after this time."},
    )
    until = fields.AwareDateTime(
        default_timezone=UTC,
        metadata={"description": "Only records that start at or before this time."},
    )
    page = page_field
    page_size = page_size_field


class _Learner(ma.Schema):
    username = fields.String(
        allow_none=True,
        metadata={"description": "The learner's username, when an account agent of this LRS."},
    )
    agent = fields.String(metadata={"description": "The learner's agent key."})


class UserSessionSchema(_Learner):
    """One learner's contiguous activity, whatever the content (docs/progress.md)."""

    start = fields.DateTime()
    end = fields.DateTime(metadata={"description": "The last interaction."})
    activities = fields.List(fields.String(), metadata={"description": "Contents touched."})
    course_keys = fields.List(fields.String(), metadata={"description": "Their courses."})
    platforms = fields.List(
        fields.String(), metadata={"description": "context.platform of its statements."}
    )


class _LearnerContent(_Learner):
    activity = fields.String(metadata={"description": "The content's activity id."})


class SummarySchema(_LearnerContent):
    """Everything one learner did in one piece of content (docs/progress.md)."""

    kind = fields.String(metadata={"description": "The activity type, or empty."})
    course_key = fields.String(metadata={"description": "The course, or empty."})
    first = fields.DateTime()
    last = fields.DateTime()
    completed = fields.DateTime(
        allow_none=True, metadata={"description": "The earliest completing statement's time."}
    )
    time_spent = fields.Float(metadata={"description": "Seconds."})
    progress = fields.Float(metadata={"description": "From 0 to 1."})
    sessions = fields.Integer()
    closed = fields.DateTime(
        allow_none=True,
        metadata={
            "description": "The first completed, passed, failed or terminated statement "
            "about the content itself (an exam's close)."
        },
    )
    score = fields.Float(
        allow_none=True,
        metadata={"description": "score.scaled of the latest scored statement about it."},
    )
    passed = fields.Boolean(allow_none=True, metadata={"description": PASSED})


class SessionSchema(_LearnerContent):
    """One learner's contiguous visit to one piece of content (docs/progress.md)."""

    start = fields.DateTime()
    end = fields.DateTime()
    time_spent = fields.Float(metadata={"description": "Seconds."})
    progress = fields.Float(metadata={"description": "From 0 to 1."})
    completed = fields.DateTime(
        allow_none=True, metadata={"description": "Its earliest completing statement's time."}
    )


class ReportQueryArgsSchema(ma.Schema):
    """A page of the report's learners."""

    page = page_field
    page_size = page_size_field


class ActivityTotalsSchema(ma.Schema):
    """One activity of the course, over its learners (in the order they first appeared)."""

    activity = fields.String()
    name = fields.String(
        metadata={"description": "From its merged definition, else the last part of its id."}
    )
    kind = fields.String()
    started = fields.Integer(metadata={"description": "Learners with a statement about it."})
    completed = fields.Integer(metadata={"description": "Learners who completed it."})
    average_progress = fields.Float(metadata={"description": "Over those who started it."})
    average_time_spent = fields.Float(
        metadata={"description": "Seconds, over those who started it."}
    )


class CellSchema(ma.Schema):
    """One learner in one activity."""

    activity = fields.String()
    progress = fields.Float()
    time_spent = fields.Float(metadata={"description": "Seconds."})
    completed = fields.DateTime(allow_none=True)
    score = fields.Float(allow_none=True, metadata={"description": "The latest score."})
    passed = fields.Boolean(allow_none=True, metadata={"description": PASSED})


class LearnerRowSchema(_Learner):
    """One learner of the course, and each activity they started."""

    full_name = fields.String(
        metadata={"description": "The user's full name, else the username, else the agent key."}
    )
    completed = fields.Integer(metadata={"description": "Activities completed."})
    time_spent = fields.Float(metadata={"description": "Seconds, in all activities."})
    cells = fields.List(fields.Nested(CellSchema))


class CourseReportSchema(ma.Schema):
    """Learners x activities of a course, with totals per activity (docs/progress.md)."""

    course_key = fields.String()
    name = fields.String(metadata={"description": "The course's name, else its key."})
    activities = fields.List(fields.Nested(ActivityTotalsSchema))
    learners = fields.List(
        fields.Nested(LearnerRowSchema),
        metadata={"description": "One page of them (X-Pagination), by agent key."},
    )


class ExamReportQueryArgsSchema(ProgressQueryArgsSchema):
    """Which exam, over whose attempts."""

    activity = fields.String(
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "The exam's activity id."},
    )

    class Meta:
        """Not paginated, and over every attempt at the exam."""

        exclude = ("page", "page_size", "since", "until")


class CriterionSchema(ma.Schema):
    """A mastery criterion: m of the last n questions answered correctly."""

    m = fields.Integer()
    n = fields.Integer()


class _Answer(ma.Schema):
    correct = fields.Float(
        allow_none=True,
        metadata={"description": "0 to 1, from score.scaled, else success; null when neither."},
    )
    response = fields.String(allow_none=True, metadata={"description": "result.response."})
    readable = fields.String(metadata={"description": "The response in words, shortened."})
    hinted = fields.Boolean()


class InteractionSchema(_Answer):
    """One answer of an attempt."""

    time = fields.DateTime()
    statement_id = fields.String()


class _AttemptFields(_Answer):
    item = fields.String(metadata={"description": "The question's activity id."})
    registration = fields.String(metadata={"description": "Its try's registration, or empty."})
    start = fields.DateTime(metadata={"description": "The first answer."})
    end = fields.DateTime(
        metadata={"description": "The latest answer, which correct, response and readable are of."}
    )


class AttemptSchema(_AttemptFields, _LearnerContent):
    """One question answered in a try, with every answer to it, oldest first."""

    history = fields.List(fields.Nested(InteractionSchema))


class TrySchema(_LearnerContent):
    """One try of an assessable content (docs/progress.md)."""

    registration = fields.String(metadata={"description": "Empty for a session's try."})
    start = fields.DateTime()
    end = fields.DateTime()
    time_spent = fields.Float(metadata={"description": "Seconds."})
    criterion = fields.Nested(CriterionSchema, allow_none=True)
    completed = fields.DateTime(
        allow_none=True,
        metadata={"description": "When the criterion was met or it was passed or mastered."},
    )
    attempts = fields.List(fields.Nested(_AttemptFields))


class ExamSchema(SummarySchema):
    """An exam a learner took: its summary, and every attempt at its questions."""

    attempts = fields.List(fields.Nested(_AttemptFields))


class WrongAnswerSchema(_Learner):
    """A learner's latest answer to the question in one try, not right."""

    readable = fields.String(metadata={"description": "The answer in words."})
    correct = fields.Float(metadata={"description": "Below 1: 0 wrong, between partly right."})


class QuestionTotalsSchema(ma.Schema):
    """One question of an exam, over the attempts at it."""

    item = fields.String()
    attempts = fields.Integer()
    graded = fields.Integer(metadata={"description": "Attempts whose answer was marked."})
    correct = fields.Float(
        allow_none=True, metadata={"description": "The share of correct answers, 0 to 1."}
    )
    wrong = fields.List(fields.Nested(WrongAnswerSchema), metadata={"description": "By learner."})


class ExamReportSchema(ma.Schema):
    """An exam over its learners; its questions with the fewest correct answers first."""

    activity = fields.String()
    learners = fields.Integer(metadata={"description": "Learners with a statement about it."})
    closed = fields.Integer(metadata={"description": "Learners who closed it."})
    average_score = fields.Float(allow_none=True)
    questions = fields.List(fields.Nested(QuestionTotalsSchema))
    needs_help = fields.List(
        fields.Nested(_Learner),
        metadata={"description": "Failed it, or 3 wrong answers or more in a try not mastered."},
    )


class RebuildSchema(ma.Schema):
    """Which records to derive again: all, or one learner's, or one course's."""

    username = username_field("Only this user's records.", required=False)
    agent = fields.String(
        validate=validate.Length(min=1),
        metadata={"description": "Only this learner's records, by agent key."},
    )
    course_key = fields.String(
        validate=validate.Length(min=1), metadata={"description": "Only this course's records."}
    )


class RebuiltSchema(ma.Schema):
    """What a rebuild did."""

    statements = fields.Integer(metadata={"description": "Statements read."})
    keys = fields.Integer(metadata={"description": "(learner, content) records derived."})
