"""The document resources, Activities and Agents (xAPI-Communication.md sections 2.2 to 2.7, 3.1).

``/xAPI/activities/state``, ``/xAPI/activities/profile`` and
``/xAPI/agents/profile`` keep documents of any content type, byte for byte,
with a SHA-1 ``ETag``; a POST of JSON merges top-level properties. Writes
honour ``If-Match`` and ``If-None-Match``; a PUT with neither header to a
profile that exists is a conflict (409), and so is one to a state document
under 2.0.0 (1.0.3 lets state PUTs through unconditionally, section 3.1).
State documents of a learner's account agent named after a scope are that
learner's blocks (``lrs.xapi.shared_state``).
"""

from typing import Any

import orjson
from flask import Response, current_app, request
from flask.typing import ResponseReturnValue

from lrs.api.auth import access
from lrs.api.errors import refuse
from lrs.api.preconditions import request_conditions
from lrs.api.xapi.blueprint import accounts, blp, version
from lrs.api.xapi.statements import http_date, timestamp_parameter
from lrs.clock import default_clock
from lrs.exceptions import DoesNotExist
from lrs.usecases.storage import Storage
from lrs.xapi import syntax
from lrs.xapi.activities import activity_object
from lrs.xapi.agents import agent_key
from lrs.xapi.documents import Context, DocumentStore, Resource, check_json
from lrs.xapi.shared_state import SharedStateDocuments
from lrs.xapi.validation import IFIS, StatementError, Version, validate_actor

# The parameters that name a document, per resource; GET (and HEAD) also take ``since``.
_PARAMETERS = {
    Resource.state: ("activityId", "agent", "registration", "stateId"),
    Resource.activity_profile: ("activityId", "profileId"),
    Resource.agent_profile: ("agent", "profileId"),
}
MAX_ID_LENGTH = 1000
_ID = {
    Resource.state: "stateId",
    Resource.activity_profile: "profileId",
    Resource.agent_profile: "profileId",
}


def _storage() -> Storage:
    storage: Storage = current_app.extensions["lrs"]
    return storage


def _store(resource: Resource) -> DocumentStore:
    storage = _storage()
    if resource == Resource.state:
        return SharedStateDocuments(storage.documents, storage.state, accounts())
    return storage.documents


def _parameters(allowed: tuple[str, ...]) -> None:
    """Refuse parameters the request does not take, or gives twice."""
    args = request.args
    unknown = set(args) - set(allowed)
    if unknown:
        refuse(
            400, f"unknown parameters: {', '.join(sorted(unknown))} (allowed: {', '.join(allowed)})"
        )
    for name in args:
        if len(args.getlist(name)) > 1:
            refuse(400, f"{name} is given more than once")


def _agent(name: str = "agent") -> dict[str, Any]:
    """The Agent a parameter holds (as JSON); not a Group (sections 2.3, 2.4, 2.6)."""
    text = request.args.get(name)
    if text is None:
        refuse(400, f"{name} is required: an Agent as JSON")
    try:
        agent = orjson.loads(text)
        validate_actor(agent, version(), name)
    except orjson.JSONDecodeError:
        refuse(400, f"{name} must be an Agent as JSON, not {text[:100]!r}")
    except StatementError as exc:
        refuse(400, f"{name} must be an Agent: {exc}")
    if agent.get("objectType", "Agent") != "Agent":
        refuse(
            400, f"{name} must be an Agent, not a Group (use the group's identifier in an Agent)"
        )
    return agent  # type: ignore[no-any-return]


def _activity_id() -> str:
    activity_id = request.args.get("activityId")
    if activity_id is None:
        refuse(400, "activityId is required")
    if not syntax.is_iri(activity_id):
        refuse(400, f"activityId must be an IRI, not {activity_id[:100]!r}")
    return activity_id


def _context(resource: Resource) -> tuple[Context, str | None]:
    """The document context that the request's parameters name, and the document id if any."""
    allowed = _PARAMETERS[resource]
    if request.method in ("GET", "HEAD"):
        allowed = (*allowed, "since")
    _parameters(allowed)
    activity_id = _activity_id() if "activityId" in allowed else ""
    agent = agent_key(_agent()) or "" if "agent" in allowed else ""
    registration = request.args.get("registration", "")
    if registration and not syntax.is_uuid(registration):
        refuse(400, f"registration must be a UUID, not {registration[:100]!r}")
    context = Context(resource, activity_id, agent, registration.lower())
    document_id = request.args.get(_ID[resource])
    if document_id is not None and not 0 < len(document_id) <= MAX_ID_LENGTH:
        refuse(400, f"{_ID[resource]} must be 1 to {MAX_ID_LENGTH} characters")
    return context, document_id


def _since() -> int | None:
    return None if "since" not in request.args else timestamp_parameter("since")


def _serve(resource: Resource) -> ResponseReturnValue:
    context, document_id = _context(resource)
    since_us = _since()
    store = _store(resource)
    name = _ID[resource]
    if request.method in ("GET", "HEAD"):
        access().require_document(context, write=False)
        if document_id is None:
            found = store.ids(context, since_us)
            response = current_app.response_class(
                orjson.dumps(sorted(item for item, _ in found)), mimetype="application/json"
            )
            if found:
                response.headers["Last-Modified"] = http_date(max(us for _, us in found))
            return response
        document = store.get(context, document_id)
        if document is None:
            refuse(404, f"no document with this {name} here")
        response = Response(document.content, content_type=document.content_type)
        response.set_etag(document.etag)
        response.headers["Last-Modified"] = http_date(document.updated_us)
        return response.make_conditional(request)
    access().require_document(context, write=True)
    if document_id is None:
        if request.method == "DELETE" and resource == Resource.state:
            store.delete_all(context)  # Multiple Document DELETE (section 2.3)
            return Response(status=204)
        refuse(400, f"{name} is required")
    if request.method == "DELETE":
        store.delete(context, document_id, request_conditions())
        return Response(status=204)
    # Section 3.1: a PUT without If-Match or If-None-Match must not replace a
    # profile that exists; 2.0.0 holds state documents to the same rule.
    # Under 1.0.3 a client MUST send one of them with a PUT of a profile, and
    # one that did not is refused even when the profile is new (XAPI-NOTES.md).
    put = request.method == "PUT"
    required = put and (resource != Resource.state or version() == Version.V2_0_0)
    required_for_new = put and resource != Resource.state and version() == Version.V1_0_3
    content, content_type = request.get_data(), request.content_type or "application/octet-stream"
    if request.method == "POST":
        # A POST merges JSON (section 2.2): what claims to be JSON must be,
        # also when there is nothing to merge with yet.
        check_json(content, content_type)
    store.put(
        context,
        document_id,
        content,
        content_type,
        updated_us=default_clock.now_us(),
        merge=request.method == "POST",
        conditions=request_conditions(required=required, required_for_new=required_for_new),
    )
    return Response(status=204)


_METHODS = ["GET", "PUT", "POST", "DELETE"]


@blp.route("/activities/state", methods=_METHODS, strict_slashes=False)
def state_documents() -> ResponseReturnValue:
    """The State resource (section 2.3)."""
    return _serve(Resource.state)


@blp.route("/activities/profile", methods=_METHODS, strict_slashes=False)
def activity_profiles() -> ResponseReturnValue:
    """The Activity Profile resource (section 2.7)."""
    return _serve(Resource.activity_profile)


@blp.route("/agents/profile", methods=_METHODS, strict_slashes=False)
def agent_profiles() -> ResponseReturnValue:
    """The Agent Profile resource (section 2.6)."""
    return _serve(Resource.agent_profile)


@blp.route("/activities", methods=["GET"], strict_slashes=False)
def activities() -> ResponseReturnValue:
    """The Activity Object the LRS holds for ``activityId``, merged from statements (2.5)."""
    _parameters(("activityId",))
    activity_id = _activity_id()
    definition = _storage().activities.get(activity_id)
    return current_app.response_class(
        orjson.dumps(activity_object(activity_id, definition)), mimetype="application/json"
    )


@blp.route("/agents", methods=["GET"], strict_slashes=False)
def agents() -> ResponseReturnValue:
    """The Person object for ``agent``: what the LRS knows of it (section 2.4)."""
    _parameters(("agent",))
    agent = _agent()
    access().require_agent_lookup(agent_key(agent))
    person: dict[str, list[Any]] = {}
    if "name" in agent:
        person["name"] = [agent["name"]]
    for ifi in IFIS:
        if ifi in agent:
            person[ifi] = [agent[ifi]]
    if access().sees_user_records:
        _add_user_record(person, agent)
    return current_app.response_class(
        orjson.dumps({"objectType": "Person", **person}), mimetype="application/json"
    )


def _add_user_record(person: dict[str, list[Any]], agent: dict[str, Any]) -> None:
    """What the LRS's user record adds to a learner's account agent: full name and email."""
    username = accounts().username(agent_key(agent))
    if username is None:
        return
    try:
        user = _storage().enrollments.get_user(username)
    except DoesNotExist:
        return
    if user.full_name and user.full_name not in person.get("name", []):
        person.setdefault("name", []).append(user.full_name)
    if user.email:
        # A second identifier: section 2.4 reserves it for privileged credentials,
        # which the learner itself and admin and service credentials are.
        person.setdefault("mbox", []).append(f"mailto:{user.email}")
