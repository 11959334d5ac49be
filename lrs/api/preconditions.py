"""A request's ``If-Match`` and ``If-None-Match``, read into ``lrs.conditions.Conditions``.

Both doors onto learner state, and the xAPI document resources, read them here.
"""

from flask import request
from werkzeug.http import parse_etags

from lrs.conditions import Conditions


def _etags(header: str) -> frozenset[str] | None:
    if header not in request.headers:
        return None
    value = request.headers[header]
    if value.strip() == "*":
        return frozenset({"*"})
    return frozenset(parse_etags(value).as_set())


def request_conditions(*, required: bool = False, required_for_new: bool = False) -> Conditions:
    """The preconditions of the request being served (see ``Conditions`` for the flags)."""
    return Conditions(_etags("If-Match"), _etags("If-None-Match"), required, required_for_new)
