"""The rows of a bulk request: a JSON array, a CSV file, or a form upload of one.

Bulk enrollments and bulk assignments read their rows the same way.
"""

from collections.abc import Sequence
from typing import Any

import orjson
from flask import request

from lrs.enrollments.bulk import parse_csv
from lrs.exceptions import InvalidInput


def request_body(example: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of a bulk endpoint whose rows look like ``example``."""
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"type": "object"}},
                "example": [example],
            },
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }


def request_rows(columns: Sequence[str]) -> list[Any]:
    """The rows of the request, whichever of its three forms it takes.

    Raises:
        InvalidInput: another media type, a form without ``file``, a body
            that is not a JSON array, or a CSV file with unknown columns.
    """
    if request.mimetype == "text/csv":
        return parse_csv(request.get_data(), columns)
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput("the form has no file field named 'file'")
        return parse_csv(upload.read(), columns)
    if request.mimetype != "application/json":
        raise InvalidInput("send a JSON array, text/csv, or a multipart/form-data file upload")
    try:
        rows = orjson.loads(request.get_data())
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(rows, list):
        raise InvalidInput("the JSON body must be an array of rows")
    return rows
