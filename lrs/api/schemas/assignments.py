"""Schemas of assignments (``/api/v1/assignments``)."""

import marshmallow as ma
from marshmallow import fields, validate

from lrs.api.pagination import page_field, page_size_field
from lrs.api.schemas import username_field
from lrs.assignments.base import MAX_NOTE, State

_STATES = [state.value for state in State]


class AssignmentCreateSchema(ma.Schema):
    """One assignment to make."""

    content = fields.String(
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "An activity IRI, or a course key (course-v1:Org+Course+Run)."},
    )
    username = username_field("The learner, a user.", required=False)
    email = fields.String(
        validate=validate.Length(min=3, max=254),
        metadata={
            "description": "Or the learner's e-mail address: the assignment is linked to the "
            "user who has (or gets) it."
        },
    )
    course_key = fields.String(
        validate=validate.Length(min=1),
        metadata={"description": "The course an activity is in (coaches assign in theirs)."},
    )
    due = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "After this time it expires: ISO 8601; a date alone "
            "(2026-12-12) is the end of that day, UTC, as in bulk rows and the CLI."
        },
    )
    note = fields.String(load_default="", validate=validate.Length(max=MAX_NOTE))


class AssignmentSchema(ma.Schema):
    """An assignment."""

    id = fields.String()
    content = fields.String()
    course_key = fields.String(allow_none=True)
    username = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    assigned_by = fields.String()
    created = fields.DateTime()
    updated = fields.DateTime()
    state = fields.String(metadata={"enum": _STATES})
    due = fields.DateTime(allow_none=True)
    note = fields.String()
    version = fields.Integer()


class AssignmentListQueryArgsSchema(ma.Schema):
    """Which assignments; a page at a time."""

    course_key = fields.String(validate=validate.Length(min=1))
    content = fields.String(validate=validate.Length(min=1))
    username = username_field("The learner (a learner credential: its own).", required=False)
    email = fields.String(validate=validate.Length(min=1))
    state = fields.String(validate=validate.OneOf(_STATES))
    overdue = fields.Boolean(
        metadata={"description": "Only those whose due date passed before they were completed."}
    )
    page = page_field
    page_size = page_size_field


class ReasonSchema(ma.Schema):
    """Why."""

    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class ActionSchema(ma.Schema):
    """One action of an assignment's log."""

    kind = fields.String()
    time = fields.DateTime()
    actor = fields.String()
    ok = fields.Boolean()
    reason = fields.String()
    details = fields.Dict(keys=fields.String())


class AssignmentChangeSchema(ma.Schema):
    """One change of an assignment."""

    time = fields.DateTime()
    actor = fields.String()
    reason = fields.String()
    before = fields.Dict(keys=fields.String(), allow_none=True)
    after = fields.Dict(keys=fields.String())


class AssignmentCountsQueryArgsSchema(ma.Schema):
    """Which course."""

    course_key = fields.String(required=True, validate=validate.Length(min=1))


class AssignmentCountsSchema(ma.Schema):
    """How many assignments of a course are in each state."""

    course_key = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class BulkAssignQueryArgsSchema(ma.Schema):
    """How to apply a bulk assignment."""

    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Say what would happen; write nothing."}
    )


class RowOutcomeSchema(ma.Schema):
    """What became of one row."""

    row = fields.Integer()
    learner = fields.String()
    content = fields.String()
    result = fields.String(metadata={"enum": ["created", "error"]})
    reason = fields.String()
    id = fields.String(allow_none=True)
    state = fields.String(allow_none=True)


class BulkAssignResultSchema(ma.Schema):
    """The outcome of every row, and how many had each."""

    dry_run = fields.Boolean()
    summary = fields.Dict(keys=fields.String(), values=fields.Integer())
    results = fields.List(fields.Nested(RowOutcomeSchema))
