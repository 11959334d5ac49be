"""Request and response schemas, one module per resource; the fields they share."""

from typing import Any

from marshmallow import ValidationError, fields

from lrs.usernames import is_username


def _check_username(value: str) -> None:
    if not is_username(value):
        raise ValidationError("1 to 150 letters, digits or _ . @ + -")


def username_field(description: str = "The user.", **options: Any) -> fields.String:
    """A username, by the one rule every part of the LRS follows (``lrs.usernames``)."""
    options.setdefault("required", True)
    return fields.String(validate=_check_username, metadata={"description": description}, **options)
