"""Schemas of the progress resources (``/api/v1/progress/...``)."""

import marshmallow as ma
from marshmallow import fields, validate

from lrs.api.pagination import page_field, page_size_field
from lrs.api.schemas import username_field


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
    page = page_field
    page_size = page_size_field


class _Learner(ma.Schema):
    username = fields.String(
        allow_none=True,
        metadata={"description": "The learner's username, when an account agent of this LRS."},
    )
    agent = fields.String(metadata={"description": "The learner's agent key."})


class UserSessionQueryArgsSchema(ProgressQueryArgsSchema):
    """Whose user sessions, touching which course; a page at a time."""

    class Meta:
        """No activity: a user session is about every content."""

        exclude = ("activity",)


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
    """One activity of the course, over its learners."""

    activity = fields.String()
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


class LearnerRowSchema(_Learner):
    """One learner of the course, and each activity they started."""

    completed = fields.Integer(metadata={"description": "Activities completed."})
    time_spent = fields.Float(metadata={"description": "Seconds, in all activities."})
    cells = fields.List(fields.Nested(CellSchema))


class CourseReportSchema(ma.Schema):
    """Learners x activities of a course, with totals per activity (docs/progress.md)."""

    course_key = fields.String()
    activities = fields.List(fields.Nested(ActivityTotalsSchema))
    learners = fields.List(
        fields.Nested(LearnerRowSchema),
        metadata={"description": "One page of them (X-Pagination), by agent key."},
    )


class ExamQueryArgsSchema(UserSessionQueryArgsSchema):
    """Whose exams, in which course; a page at a time."""
