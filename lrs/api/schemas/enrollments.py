"""Schemas of the users and enrollments resources (``/api/v1/users``, ``/api/v1/enrollments``)."""

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from lrs.api.pagination import page_field, page_size_field
from lrs.api.schemas import username_field
from lrs.enrollments.base import MODES, CourseRole

ROLES = [role.value for role in CourseRole]
_MODES = sorted(MODES)
_REASON = fields.String(
    load_default="",
    validate=validate.Length(max=1000),
    metadata={"description": "Why the change is made; kept in its history."},
)


class StrictBoolean(fields.Boolean):
    """A JSON ``true`` or ``false``, not ``1`` or ``"yes"``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def _mode(description: str = "") -> fields.String:
    return fields.String(
        validate=validate.OneOf(_MODES, error="unknown mode {input!r}; known: {choices}"),
        metadata={"enum": _MODES, "description": description},
    )


def _role(description: str = "") -> fields.String:
    return fields.String(
        validate=validate.OneOf(ROLES, error="unknown role {input!r}; known: {choices}"),
        metadata={"enum": ROLES, "description": description},
    )


class UserSchema(ma.Schema):
    """A user."""

    username = fields.String()
    email = fields.String()
    full_name = fields.String()
    language = fields.String()
    is_staff = fields.Boolean()
    is_active = fields.Boolean()
    profile = fields.Dict(metadata={"description": "Any extra fields, as a JSON object."})
    created = fields.DateTime()
    updated = fields.DateTime()


class UserFieldsSchema(ma.Schema):
    """The fields of a user that can be set."""

    email = fields.String(validate=validate.Length(max=254))
    full_name = fields.String(validate=validate.Length(max=254))
    language = fields.String(validate=validate.Length(max=35))
    is_staff = StrictBoolean()
    is_active = StrictBoolean()
    profile = fields.Dict(keys=fields.String())
    reason = _REASON


class UserCreateSchema(UserFieldsSchema):
    """A new user."""

    username = username_field()


class UserListQueryArgsSchema(ma.Schema):
    """Which users to list."""

    is_active = fields.Boolean()
    is_staff = fields.Boolean()
    page = page_field
    page_size = page_size_field


class PageQueryArgsSchema(ma.Schema):
    """A page of a list."""

    page = page_field
    page_size = page_size_field


class ChangeSchema(ma.Schema):
    """One recorded change of a user or an enrollment."""

    kind = fields.String(metadata={"enum": ["user", "enrollment"]})
    username = fields.String()
    course_key = fields.String(allow_none=True)
    action = fields.String(metadata={"enum": ["created", "updated", "reactivated", "unenrolled"]})
    time = fields.DateTime()
    actor = fields.String(
        metadata={
            "description": "The key of the credential that made it (its role, for learner "
            "and coach credentials), or cli:USER for the command line."
        }
    )
    reason = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict()


class EnrollmentSchema(ma.Schema):
    """One user's enrollment in one course."""

    username = fields.String()
    course_key = fields.String()
    mode = fields.String(metadata={"enum": _MODES})
    role = fields.String(metadata={"enum": ROLES})
    is_active = fields.Boolean()
    created = fields.DateTime()
    updated = fields.DateTime()


class EnrollResultSchema(EnrollmentSchema):
    """An enrollment, and what enrolling did."""

    outcome = fields.String(metadata={"enum": ["created", "reactivated", "unchanged"]})


class EnrollSchema(ma.Schema):
    """Enroll a user in a course."""

    username = username_field()
    course_key = fields.String(required=True, validate=validate.Length(min=1))
    mode = _mode("audit when not given (new enrollments).")
    role = _role("staff for staff users, learner otherwise, when not given.")
    reason = _REASON


class EnrollmentQueryArgsSchema(ma.Schema):
    """Names one enrollment."""

    username = username_field()
    course_key = fields.String(required=True, validate=validate.Length(min=1))


class EnrollmentHistoryQueryArgsSchema(EnrollmentQueryArgsSchema):
    """Names one enrollment, and a page of its history."""

    page = page_field
    page_size = page_size_field


class UnenrollQueryArgsSchema(EnrollmentQueryArgsSchema):
    """Names one enrollment, and why it ends."""

    reason = _REASON


class EnrollmentChangeSchema(ma.Schema):
    """Change an enrollment."""

    mode = _mode()
    role = _role()
    is_active = StrictBoolean()
    reason = _REASON


class EnrollmentListQueryArgsSchema(ma.Schema):
    """Which enrollments to list."""

    username = username_field(required=False)
    course_key = fields.String(validate=validate.Length(min=1))
    is_active = fields.Boolean()
    role = _role()
    mode = _mode()
    page = page_field
    page_size = page_size_field


class CourseQueryArgsSchema(ma.Schema):
    """Names a course."""

    course_key = fields.String(required=True, validate=validate.Length(min=1))


class CountsSchema(ma.Schema):
    """How many enrollments a course has."""

    course_key = fields.String()
    active = fields.Integer()
    inactive = fields.Integer()
    by_mode = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_role = fields.Dict(keys=fields.String(), values=fields.Integer())


class BulkQueryArgsSchema(ma.Schema):
    """How to apply a bulk enrollment."""

    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Say what would happen; write nothing."}
    )
    reason = _REASON


class RowResultSchema(ma.Schema):
    """What became of one row of a bulk enrollment."""

    row = fields.Integer()
    username = fields.String()
    course_key = fields.String()
    result = fields.String(metadata={"enum": ["created", "reactivated", "unchanged", "error"]})
    reason = fields.String()


class BulkResultSchema(ma.Schema):
    """The result of every row, and how many had each result."""

    dry_run = fields.Boolean()
    summary = fields.Dict(keys=fields.String(), values=fields.Integer())
    results = fields.List(fields.Nested(RowResultSchema))
