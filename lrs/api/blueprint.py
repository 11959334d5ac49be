"""The project's Blueprint: request validation errors are 400, JSON is parsed by orjson.

flask-smorest (through webargs) answers invalid arguments with 422 and leaves
unknown query parameters out silently. Clients of an LRS expect 400 for both
(xAPI requires it), so every blueprint of this project parses with a parser
that says 400 and refuses unknown parameters in every location.

Request bodies are parsed by orjson (``lrs.strict_json``): it is fast, rejects
invalid UTF-8, refuses deeply nested documents with an error rather than a
``RecursionError``, and integers that would not be kept exactly are refused.
"""

import json
from typing import Any

import flask
import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser, abort, is_json_request

from lrs import strict_json


class StrictParser(FlaskParser):
    """A webargs parser for this project: 400 on invalid input, unknown names refused."""

    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def _raw_load_json(self, req: flask.Request) -> Any:
        # Every JSON body of this API is required: a missing one must not be
        # read as an empty object (which would make a write a silent no-op).
        if not is_json_request(req):
            abort(400, message="send the request body as JSON, with Content-Type: application/json")
        data = req.get_data(cache=True)
        if not data:
            abort(400, message="the request body is empty; send a JSON object")
        try:
            return strict_json.loads(data, "body")
        except strict_json.InexactNumber as exc:
            abort(400, message=f"the request body cannot be stored as sent: {exc}")
        except strict_json.JSONError as exc:
            raise json.JSONDecodeError(str(exc), doc="(request body)", pos=0) from None

    def _handle_invalid_json_error(
        self,
        error: json.JSONDecodeError | UnicodeDecodeError,
        req: flask.Request,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        abort(400, message=f"the request body is not valid JSON: {reason}")


class NoQueryArgsSchema(ma.Schema):
    """For endpoints that take no query parameters: any one given is refused."""


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest Blueprint with this project's ``StrictParser``."""

    ARGUMENTS_PARSER = StrictParser()

    def no_query_args(self) -> Any:
        """Refuse query parameters on an endpoint that takes none (400)."""
        return self.arguments(NoQueryArgsSchema(), location="query", as_kwargs=True)
