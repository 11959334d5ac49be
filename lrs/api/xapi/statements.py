"""``/xAPI/statements`` (xAPI-Communication.md section 2.1): PUT, POST, GET and HEAD.

``format=canonical`` filters language maps by ``Accept-Language``; the
activity definitions are those of the statement until the Activities resource
keeps merged, canonical ones.
"""

import base64
import binascii
import functools
from dataclasses import replace
from email.utils import format_datetime
from typing import Any

import orjson
from flask import Response, current_app, request
from flask.typing import ResponseReturnValue

from lrs import strict_json
from lrs.api.auth import access, current_credential
from lrs.api.errors import refuse
from lrs.api.xapi.blueprint import accounts, blp, version
from lrs.clock import default_clock, from_us, to_us
from lrs.exceptions import PermissionDenied
from lrs.usecases.ingest import store_batch
from lrs.xapi import multipart, syntax
from lrs.xapi.agents import agent_key
from lrs.xapi.attachments import AttachmentData, attachment_parts
from lrs.xapi.prepare import iso, prepare
from lrs.xapi.result_formats import canonical, ids_only
from lrs.xapi.statements.base import Record, StatementQuery, StatementStore
from lrs.xapi.validation import StatementError, validate_actor

MAX_LIMIT = 1000
QUERY_PARAMETERS = frozenset(
    {
        "statementId",
        "voidedStatementId",
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "format",
        "attachments",
        "ascending",
        "more",
    }
)
SINGLE_PARAMETERS = frozenset({"statementId", "voidedStatementId", "attachments", "format"})
STATEMENT_ENDPOINTS = frozenset(
    {"xapi.put_statement", "xapi.post_statements", "xapi.get_statements"}
)


def _store() -> StatementStore:
    store: StatementStore = current_app.extensions["lrs"].statements
    return store


def _require_own(statements: list[Any], own: str | None) -> None:
    """A learner may store only statements whose actor is its own account agent."""
    if own is None:
        return
    for item in statements:
        actor = item.get("actor") if isinstance(item, dict) else None
        if agent_key(actor) != own:
            raise PermissionDenied(
                "a learner credential may store only statements whose actor is its own "
                "account agent (homePage LRS_ACCOUNT_HOMEPAGE, name its username)"
            )


def _authority() -> dict[str, Any]:
    """The agent of the credential making the request (section 2.4.9)."""
    credential = current_credential()
    return {
        "objectType": "Agent",
        "name": credential.name or credential.key,
        **accounts().agent(credential.username or credential.key),
    }


def _body() -> tuple[Any, dict[str, AttachmentData]]:
    """The statements sent, and the attachment data sent with them (by SHA-2)."""
    if request.mimetype == "multipart/mixed":
        boundary = request.mimetype_params.get("boundary")
        if not boundary:
            refuse(400, "a multipart/mixed body needs a boundary parameter in Content-Type")
        first, *rest = multipart.parse(request.get_data(cache=True), boundary)
        received = attachment_parts(rest)
        if first.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            refuse(400, "the first part of a multipart request must be application/json")
        return _json(first.data), received
    if request.mimetype != "application/json":
        refuse(400, "send statements as application/json, or multipart/mixed with attachments")
    return _json(request.get_data(cache=True)), {}


def _json(data: bytes) -> Any:
    name = "statements" if data.lstrip()[:1] == b"[" else "statement"
    try:
        return strict_json.loads(data, name)
    except strict_json.InexactNumber as exc:
        refuse(400, str(exc))
    except strict_json.JSONError as exc:
        refuse(400, f"the statements are not valid JSON: {exc}")


@blp.after_request
def consistent_through(response: Response) -> Response:
    """Every Statement resource response, errors too, says what it is consistent through."""
    if request.endpoint in STATEMENT_ENDPOINTS:
        # Through when every statement stamped is visible: a write's margin
        # back from now on memory and SQLite; on MongoDB, before the oldest
        # batch still being stored.
        through = _store().consistent_through_us(default_clock.now_us())
        response.headers["X-Experience-API-Consistent-Through"] = iso(through)
    return response


@blp.route("/statements", methods=["PUT"], strict_slashes=False)
def put_statement() -> ResponseReturnValue:
    """Store one statement with the id given as ``statementId`` (section 2.1.1)."""
    own = access().statement_actor()
    unknown = set(request.args) - {"statementId"}
    if unknown:
        refuse(400, f"unknown parameters: {', '.join(sorted(unknown))}")
    statement_id = request.args.get("statementId", "")
    if not syntax.is_uuid(statement_id):
        refuse(400, "statementId must be the UUID of the statement")
    data, received = _body()
    if not isinstance(data, dict):
        refuse(400, "the body must be one statement (a JSON object)")
    if "id" in data and str(data["id"]).lower() != statement_id.lower():
        refuse(400, "the statement's id does not match statementId")
    _require_own([data], own)
    prepared = prepare({**data, "id": statement_id}, version=version(), authority=_authority())
    store_batch(
        current_app.extensions["lrs"],
        [prepared],
        [data],
        ["statement"],
        received,
        on_stored=current_app.extensions["lrs-assignments"].on_events,
    )
    return Response(status=204)


@blp.route("/statements", methods=["POST"], strict_slashes=False)
def post_statements() -> ResponseReturnValue:
    """Store one statement or a batch, all or nothing; answer their ids (section 2.1.2)."""
    own = access().statement_actor()
    if request.args:
        refuse(400, f"POST /statements takes no parameters, not {sorted(request.args)}")
    data, received = _body()
    batch = data if isinstance(data, list) else [data]
    if not batch:
        refuse(400, "the batch holds no statements")
    _require_own(batch, own)
    authority = _authority()
    paths = [
        f"statements[{index}]" if isinstance(data, list) else "statement"
        for index in range(len(batch))
    ]
    xapi_version = version()
    prepared = [
        prepare(item, version=xapi_version, authority=authority, path=path)
        for item, path in zip(batch, paths, strict=True)
    ]
    ids = [item.id for item in prepared]
    if len(set(ids)) != len(ids):
        refuse(400, "the batch holds two statements with one id")
    store_batch(
        current_app.extensions["lrs"],
        prepared,
        batch,
        paths,
        received,
        on_stored=current_app.extensions["lrs-assignments"].on_events,
    )
    return current_app.response_class(orjson.dumps(ids), mimetype="application/json")


@blp.route("/statements", methods=["GET"], strict_slashes=False)
def get_statements() -> ResponseReturnValue:
    """One statement by id, or a page of statements matching filters (section 2.1.3)."""
    readable = access().statement_readers()
    args = request.args
    unknown = set(args) - QUERY_PARAMETERS
    if unknown:
        refuse(400, f"unknown parameters: {', '.join(sorted(unknown))}")
    statement_format = args.get("format", "exact")
    if statement_format not in ("ids", "exact", "canonical"):
        refuse(400, "format must be ids, exact or canonical")
    attachments = _boolean("attachments")
    if "statementId" in args or "voidedStatementId" in args:
        return _single(statement_format, attachments, readable)
    query, until_us = _query()
    if readable is None:
        records = _store().query(query)
    else:
        # Only statements whose actor it may read: asking for related agents
        # must not reach statements that merely mention the reader.
        query = replace(query, agent=_readable_agent(query.agent, readable), related_agents=False)
        records = _visible_page(query, readable)
    more = ""
    if len(records) > query.limit - 1 and records:
        records = records[: query.limit - 1]
        last = records[-1]
        more = "/xAPI/statements?more=" + _token(query, (last.stored_us, last.id), until_us)
    texts = [_formatted(record, statement_format) for record in records]
    body = b'{"statements":[' + b",".join(texts) + b'],"more":' + orjson.dumps(more) + b"}"
    response = _response(body, records if attachments else None)
    newest = max((record.stored_us for record in records), default=until_us)
    response.headers["Last-Modified"] = http_date(newest)
    return response


def _readable_agent(asked: str | None, readable: frozenset[str]) -> str:
    """The agent a restricted credential's query is about: one it may read."""
    if asked is None and len(readable) == 1:
        # A learner's queries are about its own statements, whatever it asks.
        return next(iter(readable))
    if asked is None:
        raise PermissionDenied("a coach credential must name the learner (agent parameter)")
    if asked not in readable:
        raise PermissionDenied(
            "these credentials may read only their own statements, or those of the learners "
            "of the courses they coach"
        )
    return asked


def actor_key(record: Record) -> str | None:
    """The agent key of a stored statement's actor."""
    return agent_key(orjson.loads(record.text).get("actor"))


def _visible_page(query: StatementQuery, readable: frozenset[str]) -> list[Record]:
    """Up to ``query.limit`` matching records whose actor is one of ``readable``.

    The store's query (by agent, which also matches objects, group members and
    statements targeting a match) finds a superset; the page is filled from
    as many of its pages as it takes.
    """
    found: list[Record] = []
    page = query
    while True:
        records = _store().query(page)
        found += [record for record in records if actor_key(record) in readable]
        if len(found) >= query.limit or len(records) < page.limit:
            return found[: query.limit]
        last = records[-1]
        page = replace(page, after=(last.stored_us, last.id))


def _single(statement_format: str, attachments: bool, readable: frozenset[str] | None) -> Response:
    args = request.args
    if "statementId" in args and "voidedStatementId" in args:
        refuse(400, "give statementId or voidedStatementId, not both")
    extra = set(args) - SINGLE_PARAMETERS
    if extra:
        refuse(
            400,
            f"with a statement id, only attachments and format may be given, not {sorted(extra)}",
        )
    voided = "voidedStatementId" in args
    statement_id = args["voidedStatementId" if voided else "statementId"]
    if not syntax.is_uuid(statement_id):
        refuse(400, "the statement id must be a UUID")
    record = _store().get(statement_id.lower())
    if record is not None and readable is not None and actor_key(record) not in readable:
        record = None  # a statement these credentials may not read: as if it did not exist
    if record is None or record.voided != voided:
        # A voided statement is found only through voidedStatementId (section 2.3.2).
        refuse(404, f"no {'voided ' if voided else ''}statement {statement_id}")
    response = _response(_formatted(record, statement_format), [record] if attachments else None)
    response.headers["Last-Modified"] = http_date(record.stored_us)
    return response


def _formatted(record: Record, statement_format: str) -> bytes:
    if statement_format == "ids":
        return orjson.dumps(ids_only(orjson.loads(record.text)))
    if statement_format == "canonical":
        accepted = [tag for tag, _ in request.accept_languages]
        return orjson.dumps(canonical(orjson.loads(record.text), accepted))
    return record.text.encode()


def _response(body: bytes, with_attachments: list[Record] | None) -> Response:
    """JSON, or with ``attachments=true`` multipart with the data of the statements' attachments."""
    if with_attachments is None:
        return current_app.response_class(body, mimetype="application/json")
    store = current_app.extensions["lrs"].attachments
    hashes: dict[str, None] = {}
    for record in with_attachments:
        for attachment in orjson.loads(record.text).get("attachments", ()):
            hashes.setdefault(attachment["sha2"].lower())
    found = [data for data in (store.get(sha2) for sha2 in hashes) if data is not None]
    content, boundary = multipart.build(body, found)
    return current_app.response_class(content, mimetype=f"multipart/mixed; boundary={boundary}")


def http_date(us: int) -> str:
    """A time in microseconds as an HTTP date (``Last-Modified``), to the second."""
    return _http_date(us // 1_000_000)


@functools.lru_cache(maxsize=256)
def _http_date(seconds: int) -> str:
    # email.utils formats slowly (5 µs), and responses close in time share a second.
    return format_datetime(from_us(seconds * 1_000_000), usegmt=True)


def _boolean(name: str) -> bool:
    # Case-insensitive: TinCanPython, the most used Python client, sends True/False.
    value = request.args.get(name, "false").lower()
    if value not in ("true", "false"):
        refuse(400, f"{name} must be true or false")
    return value == "true"


def _query() -> tuple[StatementQuery, int]:
    """The store query that the request's parameters (or its ``more`` token) ask for."""
    args = request.args
    if "more" in args:
        if len(args) > 1:
            refuse(400, "more takes no other parameters")
        return _from_token(args["more"])
    until_us = default_clock.now_us()
    filters: dict[str, Any] = {}
    if "agent" in args:
        try:
            agent = orjson.loads(args["agent"])
            validate_actor(agent, version())
        except (orjson.JSONDecodeError, StatementError) as exc:
            refuse(400, f"agent must be an Agent or identified Group as JSON: {exc}")
        key = agent_key(agent)
        if key is None:
            refuse(400, "agent must have an inverse functional identifier")
        filters["agent"] = key
    for name, check, what in (
        ("verb", syntax.is_iri, "an IRI"),
        ("activity", syntax.is_iri, "an IRI"),
        ("registration", syntax.is_uuid, "a UUID"),
    ):
        if name in args:
            if not check(args[name]):
                refuse(400, f"{name} must be {what}")
            filters[name] = args[name].lower() if name == "registration" else args[name]
    for name in ("related_agents", "related_activities", "ascending"):
        filters[name] = _boolean(name)
    for name in ("since", "until"):
        if name in args:
            filters[f"{name}_us"] = timestamp_parameter(name)
    if "since_us" in filters or filters["ascending"]:
        # A reader that walks forward in stored order (a poller of ``since``,
        # a sync) stops where every statement is visible: a batch stamped
        # earlier than one it saw cannot show up behind its back.
        until_us = _store().readable_through_us(until_us)
    if "until_us" in filters:
        until_us = min(until_us, filters["until_us"])
    filters["until_us"] = until_us
    limit = args.get("limit", "0")
    if not limit.isdigit():
        refuse(400, "limit must be a non-negative integer")
    # One more than the page, to know whether there is a next one.
    filters["limit"] = (min(int(limit), MAX_LIMIT) or MAX_LIMIT) + 1
    return StatementQuery(**filters), until_us


def timestamp_parameter(name: str) -> int:
    """The timestamp a query parameter holds, in microseconds; 400 when it holds none."""
    value = request.args[name]
    if not syntax.is_timestamp(value, offset_required=False):
        refuse(400, f"{name} must be an ISO 8601 timestamp")
    return to_us(syntax.parse_timestamp(value))


_TOKEN_FIELDS = (
    "agent",
    "verb",
    "activity",
    "registration",
    "related_agents",
    "related_activities",
    "since_us",
    "until_us",
    "ascending",
    "limit",
)


def _token(query: StatementQuery, after: tuple[int, str], until_us: int) -> str:
    """An opaque ``more`` token: the query, where the page ended, and its fixed ``until``.

    Fixing ``until`` at the first page keeps paging stable while new
    statements arrive.
    """
    state = {name: getattr(query, name) for name in _TOKEN_FIELDS}
    # Defaults (None, False) are left out to keep the link short.
    state = {name: value for name, value in state.items() if value not in (None, False)}
    state.update(after=list(after), until_us=until_us)
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode().rstrip("=")


def _from_token(token: str) -> tuple[StatementQuery, int]:
    try:
        state = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after = tuple(state.pop("after"))
        query = StatementQuery(**state, after=(int(after[0]), str(after[1])))
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError):
        refuse(400, "more is not a token this LRS gave")
    return query, int(state["until_us"])
