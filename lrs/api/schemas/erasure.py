"""Schemas of a learner's erasure (``/api/v1/users/{username}/erase``, ``/api/v1/erasures``)."""

import marshmallow as ma
from marshmallow import fields, validate


class EraseSchema(ma.Schema):
    """Why a learner is erased, and whether only to count."""

    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "Why (a request number...): kept in the audit record."},
    )
    delete_statements = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Delete the learner's statements instead of pseudonymizing them "
            "(their place in course reports goes with them)."
        },
    )
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "Only count what would change; nothing is changed or kept."},
    )


class EraseAgentSchema(EraseSchema):
    """An agent known only from statements, and why it is erased."""

    agent = fields.Dict(
        required=True,
        metadata={
            "description": 'The agent as xAPI JSON: {"mbox": "mailto:ada@example.org"}, '
            "an account of another system..."
        },
    )


class ErasureSchema(ma.Schema):
    """The audit record of one erasure: the learner by pseudonym only."""

    pseudonym = fields.String()
    started = fields.DateTime()
    finished = fields.DateTime(
        allow_none=True, metadata={"description": "Null for a dry run, or one cut short."}
    )
    credential = fields.String(metadata={"description": 'The key of who asked, or "cli".'})
    reason = fields.String()
    statements = fields.String(metadata={"description": "What became of the statements."})
    kind = fields.String(metadata={"description": '"erasure", or "purge" (by age).'})
    counts = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "Per store."}
    )
