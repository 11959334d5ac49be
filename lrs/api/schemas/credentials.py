"""Schemas of the credentials resource (``/api/v1/credentials``)."""

import marshmallow as ma
from marshmallow import fields, validate

from lrs.credentials.base import Role

ROLES = [role.value for role in Role]


class CredentialSchema(ma.Schema):
    """A credential as listed: never its secret."""

    key = fields.String()
    role = fields.String(metadata={"enum": ROLES})
    username = fields.String(allow_none=True)
    name = fields.String()
    created = fields.DateTime()
    revoked = fields.DateTime(allow_none=True)


class NewCredentialSchema(CredentialSchema):
    """A credential just created, with its secret: shown this once only."""

    secret = fields.String(metadata={"description": "Shown only in this response."})


class CredentialCreateSchema(ma.Schema):
    """What a new credential is for."""

    role = fields.String(
        required=True,
        validate=validate.OneOf(ROLES, error="unknown role {input!r}; known: {choices}"),
    )
    username = fields.String(
        validate=validate.Length(min=1),
        metadata={"description": "The user it acts for; required for coach and learner."},
    )
    name = fields.String(load_default="", validate=validate.Length(max=200))
    allow_unknown_user = fields.Boolean(
        load_default=False,
        metadata={"description": "Create it even if no user has the username (yet)."},
    )


class CredentialListQueryArgsSchema(ma.Schema):
    """Which credentials to list."""

    include_revoked = fields.Boolean(load_default=False)
