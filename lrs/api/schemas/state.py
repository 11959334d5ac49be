"""Schemas of the learner-state resource (``/api/v1/state``)."""

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from lrs.api.pagination import page_field, page_size_field
from lrs.api.schemas import username_field
from lrs.clients.base import MAX_BLOCKS, Scope

SCOPES = [scope.value for scope in Scope]


class ScopeField(fields.String):
    """A scope name."""

    def __init__(self) -> None:
        """A scope name, ``user_state`` when not given."""
        super().__init__(
            load_default=Scope.user_state.value,
            validate=validate.OneOf(SCOPES, error="unknown scope {input!r}; known: {choices}"),
            metadata={"description": "The scope of the state.", "enum": SCOPES},
        )


def _non_empty(description: str) -> fields.String:
    return fields.String(
        required=True, validate=validate.Length(min=1), metadata={"description": description}
    )


class BlockQueryArgsSchema(ma.Schema):
    """Names one block of one learner."""

    username = username_field("The learner.")
    block = fields.String(
        required=True,
        metadata={"description": "The block key, any string (percent-encoded in the URL)."},
    )
    scope = ScopeField()


class BlockGetQueryArgsSchema(BlockQueryArgsSchema):
    """Names one block, and optionally which of its fields to return."""

    fields_ = fields.List(
        fields.String(),
        data_key="fields",
        metadata={"description": "Return only these fields (repeat the parameter)."},
    )


class BlockDeleteQueryArgsSchema(BlockQueryArgsSchema):
    """Names one block, and optionally which of its fields to delete."""

    fields_ = fields.List(
        fields.String(),
        data_key="fields",
        metadata={"description": "Delete only these fields (repeat the parameter)."},
    )


class StateSchema(ma.Schema):
    """A block's state: any JSON object (field name -> any JSON value)."""

    class Meta:
        """Take every field of the object."""

        unknown = ma.INCLUDE

    @ma.post_load(pass_original=True)
    def keep_original(self, data: dict[str, Any], original: dict[str, Any], **kwargs: Any) -> Any:
        """Return the object as sent: INCLUDE would lose the order of its fields."""
        return original


class BlockStateSchema(ma.Schema):
    """One block's state for one learner."""

    username = fields.String()
    block = fields.String()
    scope = fields.String()
    state = fields.Dict(allow_none=True, metadata={"description": "null after a deletion"})
    updated = fields.DateTime(metadata={"description": "UTC, with microseconds"})


class BlocksSchema(ma.Schema):
    """Several blocks of one learner (``get-many`` and ``delete-many``)."""

    username = username_field("The learner.")
    scope = ScopeField()
    blocks = fields.List(fields.String(), required=True, validate=validate.Length(max=MAX_BLOCKS))
    fields_ = fields.List(
        fields.String(),
        data_key="fields",
        load_default=None,
        allow_none=True,
        metadata={"description": "Only these fields (default: all)."},
    )


class LocationSchema(ma.Schema):
    """Where a block belongs, when its key does not show it."""

    course = fields.String(allow_none=True, load_default=None)
    block_type = fields.String(allow_none=True, load_default=None)


class SetManySchema(ma.Schema):
    """New fields for several blocks of one learner."""

    username = username_field("The learner.")
    scope = ScopeField()
    states = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        required=True,
        validate=validate.Length(max=MAX_BLOCKS),
        metadata={"description": "Block key -> the fields to overlay on its state."},
    )
    locations = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(LocationSchema),
        load_default=dict,
        metadata={
            "description": "Block key -> its course and block type, for keys whose "
            "text does not show them (edX usage keys do)."
        },
    )


class StateListSchema(ma.Schema):
    """Results of ``get-many``, in the order asked."""

    results = fields.List(fields.Nested(BlockStateSchema))


class PageArgs(ma.Schema):
    """Pagination parameters."""

    page = page_field
    page_size = page_size_field


class HistoryQueryArgsSchema(BlockQueryArgsSchema, PageArgs):
    """Names one block whose history is wanted."""


class ByBlockQueryArgsSchema(PageArgs):
    """Names a block whose every learner's state is wanted."""

    block = fields.String(required=True, metadata={"description": "The block key."})
    scope = ScopeField()


class ByCourseQueryArgsSchema(PageArgs):
    """Names a course whose every state is wanted."""

    course = _non_empty("The course key (course-v1:ORG+COURSE+RUN).")
    block_type = fields.String(
        validate=validate.Length(min=1), metadata={"description": "Only blocks of this type."}
    )
    scope = ScopeField()
