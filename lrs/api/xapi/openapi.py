"""The ``/xAPI`` resources in the OpenAPI document, so that ``/docs`` lists and tries them.

The resources follow the xAPI specification, not this API's conventions, and
are served by a plain Flask blueprint; their paths are described here, by
hand, from the specification (xAPI-Communication.md section 2): each
operation, its query parameters, and the version header every request but
``/about`` must send.
"""

from typing import Any

_VERSION = {
    "name": "X-Experience-API-Version",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "enum": ["1.0.3", "2.0.0"], "default": "2.0.0"},
    "description": "The xAPI version the request is made under (1.0.x or 2.0.x).",
}
_JSON = {"application/json": {"schema": {"type": "object"}}}


def _query(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": {"type": "string"},
        "description": description,
    }


_AGENT = _query("agent", "An Agent, as JSON.")
_ACTIVITY = _query("activityId", "The activity's IRI.")
_REGISTRATION = _query("registration", "A registration (UUID).")
_SINCE = _query("since", "Only what changed after this time (ISO 8601).")
_STATEMENT_QUERY = [
    _query("statementId", "One statement, by id."),
    _query("voidedStatementId", "One voided statement, by id."),
    _AGENT,
    _query("verb", "The verb's IRI."),
    _query("activity", "The activity's IRI."),
    _REGISTRATION,
    _query("related_activities", "true: activities in context too."),
    _query("related_agents", "true: agents anywhere in the statement."),
    _SINCE,
    _query("until", "Only statements stored up to this time."),
    _query("limit", "Statements a page (0: the server's most)."),
    _query("format", "ids, exact or canonical."),
    _query("attachments", "true: the attachments' data too (multipart)."),
    _query("ascending", "true: oldest first."),
]


def _operation(summary: str, parameters: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {
        "tags": ["xAPI"],
        "summary": summary,
        "parameters": [_VERSION, *parameters],
        "responses": {"200": {"description": "OK"}, "400": {"description": "A bad request"}},
        **more,
    }


def _documents(kind: str, scope: list[dict[str, Any]]) -> dict[str, Any]:
    """The operations of a document resource (State, Activity Profile, Agent Profile)."""
    one = [*scope, _query(f"{kind}Id", "The document's id (without it: the ids, or all).")]
    body = {"requestBody": {"content": {**_JSON, "application/octet-stream": {}}}}
    return {
        "get": _operation(f"Read a {kind} document, or list the ids", [*one, _SINCE]),
        "put": _operation(f"Store a {kind} document", one, **body),
        "post": _operation(f"Merge into a {kind} document (JSON objects)", one, **body),
        "delete": _operation(f"Delete a {kind} document (State: all without an id)", one),
    }


def xapi_paths() -> dict[str, dict[str, Any]]:
    """Every ``/xAPI`` path, with its operations."""
    statement_body = {"requestBody": {"content": {**_JSON, "multipart/mixed": {}}}}
    put_query = [_query("statementId", "The statement's id.", required=True)]
    return {
        "/xAPI/about": {
            "get": {
                "tags": ["xAPI"],
                "summary": "The versions this LRS speaks (no credentials needed)",
                "security": [],
                "responses": {"200": {"description": "OK"}},
            }
        },
        "/xAPI/statements": {
            "get": _operation("Read statements: one, or a page that matches", _STATEMENT_QUERY),
            "post": _operation("Store one statement or a batch", [], **statement_body),
            "put": _operation("Store one statement under an id", put_query, **statement_body),
        },
        "/xAPI/activities/state": _documents("state", [_ACTIVITY, _AGENT, _REGISTRATION]),
        "/xAPI/activities/profile": _documents("profile", [_ACTIVITY]),
        "/xAPI/agents/profile": _documents("profile", [_AGENT]),
        "/xAPI/activities": {
            "get": _operation("An activity, its definition merged from statements", [_ACTIVITY])
        },
        "/xAPI/agents": {"get": _operation("The Person object of an agent", [_AGENT])},
    }
