"""Schemas of exports (``/api/v1/exports``)."""

import marshmallow as ma
from marshmallow import fields, validate

from lrs.usecases.export_formats import FORMATS


class ExportQueryArgsSchema(ma.Schema):
    """Which records, and how they are written."""

    format = fields.String(
        load_default="ndjson",
        validate=validate.OneOf(FORMATS),
        metadata={"description": "ndjson for machines (and lrs import), csv for people."},
    )
    since = fields.String(
        metadata={"description": "Only records after this time (ISO 8601; a date is midnight UTC)."}
    )
    until = fields.String(metadata={"description": "Only records up to this time (ISO 8601)."})
    course_key = fields.String(
        validate=validate.Length(min=1),
        metadata={"description": "Only this course's records (required of coach credentials)."},
    )
    bom = fields.Boolean(
        load_default=False,
        metadata={"description": "CSV: start with a byte-order mark, for spreadsheet programs."},
    )


class ExportRequestSchema(ma.Schema):
    """The record of one export."""

    id = fields.String()
    requested = fields.DateTime()
    credential = fields.String(metadata={"description": 'The key of who asked, or "cli:<user>".'})
    kind = fields.String()
    format = fields.String()
    filters = fields.Dict(keys=fields.String())
    rows = fields.Integer(
        allow_none=True,
        metadata={"description": "Rows written; null while it runs or if cut short."},
    )
    finished = fields.DateTime(allow_none=True)


class ExportRequestsQueryArgsSchema(ma.Schema):
    """How many records."""

    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=10_000),
        metadata={"description": "The newest this many."},
    )
