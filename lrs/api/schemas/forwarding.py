"""Schemas of the forwarding resource (``/api/v1/forwarding``): targets and their status."""

import marshmallow as ma
from marshmallow import fields, validate


class FiltersSchema(ma.Schema):
    """Which statements go to a target: each filter given must hold."""

    verbs = fields.List(fields.String(), load_default=list, metadata={"description": "Verb IRIs."})
    activity_prefixes = fields.List(
        fields.String(), load_default=list, metadata={"description": "Activity id prefixes."}
    )
    course_keys = fields.List(fields.String(), load_default=list)


class TargetCreateSchema(ma.Schema):
    """A new target, checked before it is kept (its /about and its credential)."""

    url = fields.String(required=True, metadata={"description": "Its xAPI endpoint."})
    auth = fields.String(required=True, metadata={"description": "Its credential, KEY:SECRET."})
    version = fields.String(load_default="1.0.3", validate=validate.OneOf(["1.0.3", "2.0.0"]))
    filters = fields.Nested(FiltersSchema, load_default=dict)
    from_start = fields.Boolean(
        load_default=False, metadata={"description": "Send the statements stored before too."}
    )
    direction = fields.String(
        load_default="push",
        validate=validate.OneOf(["push", "pull"]),
        metadata={
            "description": "push: statements stored here go there; pull: what it stores is "
            "imported here (filters and from_start are for push)."
        },
    )
    since = fields.AwareDateTime(
        metadata={
            "description": "Push: also the statements stored here after this time; pull: only "
            "what it stored after this time (else all)."
        }
    )


class TargetChangeSchema(ma.Schema):
    """Pause or resume."""

    state = fields.String(required=True, validate=validate.OneOf(["active", "paused"]))


class TargetSchema(ma.Schema):
    """A target and where its stream stands (never its secret)."""

    id = fields.String()
    url = fields.String()
    key = fields.String(metadata={"description": "Its credential's key (the secret is kept)."})
    version = fields.String()
    direction = fields.String(metadata={"description": "push or pull."})
    filters = fields.Nested(FiltersSchema)
    state = fields.String()
    delivered = fields.Integer()
    dead = fields.Integer(metadata={"description": "Dead letters now."})
    queued = fields.Integer(
        metadata={"description": "Statements not yet done (counted to 100,000)."}
    )
    lag_seconds = fields.Float(metadata={"description": "Age of the oldest statement not done."})
    last_error = fields.String()
    next_try = fields.DateTime(allow_none=True)


class RetriedSchema(ma.Schema):
    """What re-sending the dead letters did."""

    delivered = fields.Integer()
    still_refused = fields.Integer()


class DeadLetterSchema(ma.Schema):
    """A statement a target refused for good, with its answer."""

    statement_id = fields.String()
    time = fields.DateTime()
    status = fields.Integer(metadata={"description": "The target's HTTP status; 0: never sent."})
    answer = fields.String(metadata={"description": "What the target answered (500 characters)."})
