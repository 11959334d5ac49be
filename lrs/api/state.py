"""Learner state over HTTP: ``/api/v1/state``, everything the client library does.

Block keys may hold any character (``/``, ``:``, ``+``, ``@``, spaces, unicode),
so they never appear in the path: one block is named by the query parameters
``username``, ``block`` and ``scope``, and batches carry their keys in a JSON body.
"""

from collections.abc import Iterable
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView

from lrs.api.auth import access
from lrs.api.blueprint import Blueprint
from lrs.api.pagination import paginate
from lrs.api.preconditions import request_conditions
from lrs.api.schemas.state import (
    BlockDeleteQueryArgsSchema,
    BlockGetQueryArgsSchema,
    BlockQueryArgsSchema,
    BlocksSchema,
    BlockStateSchema,
    ByBlockQueryArgsSchema,
    ByCourseQueryArgsSchema,
    HistoryQueryArgsSchema,
    SetManySchema,
    StateListSchema,
    StateSchema,
)
from lrs.clients.base import LocatedKey, UserState, UserStateClient, block_location
from lrs.clients.values import BlockChange

blp = Blueprint(
    "state",
    __name__,
    url_prefix="/api/v1/state",
    description="Per-block learner state, its history, and whole-block or whole-course reads.",
)


def _client() -> UserStateClient:
    client: UserStateClient = current_app.extensions["lrs"].state
    return client


def _as_json(result: UserState) -> dict[str, Any]:
    return {
        "username": result.username,
        "block": str(result.block_key),
        "scope": result.scope.value,
        "state": result.state,
        "updated": result.updated,
    }


def _respond_with(result: UserState | None) -> Any:
    """The block as a write left it: its state and ETag, or 204 when it has none."""
    if result is None:
        return Response(status=204)
    return _as_json(result), {"ETag": f'"{result.etag}"'}


@blp.route("")
class BlockState(MethodView):
    """One block of one learner."""

    @blp.arguments(BlockGetQueryArgsSchema(), location="query")
    @blp.response(200, BlockStateSchema())
    @blp.alt_response(304, description="Not modified (If-None-Match matched the ETag)")
    @blp.alt_response(404, description="The block has no state")
    def get(self, args: dict[str, Any]) -> Any:
        """Read one block's state.

        Returns the block's fields (only those named by ``fields``, when given),
        the time of the last write, and an ``ETag`` for conditional requests.
        """
        access().require_learner_state(args["username"], [args["block"]], write=False)
        result = _client().get(args["username"], args["block"], args["scope"])
        etag = str(result.etag)
        if request.if_none_match.contains(etag):
            response = Response(status=304)
            response.set_etag(etag)
            return response
        body = _as_json(result)
        names = args.get("fields_")
        if names is not None:
            body["state"] = {k: v for k, v in (result.state or {}).items() if k in names}
        return body, {"ETag": f'"{etag}"'}

    @blp.arguments(StateSchema(), location="json")
    @blp.arguments(BlockQueryArgsSchema(), location="query")
    @blp.response(200, BlockStateSchema())
    @blp.alt_response(412, description="A precondition (If-Match, If-None-Match) failed")
    def patch(self, state: dict[str, Any], args: dict[str, Any]) -> Any:
        """Overlay fields on one block's state.

        The body is a JSON object of the fields to set; the block's other
        fields stay. Honours ``If-Match`` and ``If-None-Match: *`` (create
        only), checked atomically with the write.
        """
        access().require_learner_state(args["username"], [args["block"]], write=True)
        change = BlockChange.setting(args["block"], state)
        return _respond_with(_update(args, change))

    @blp.arguments(StateSchema(), location="json")
    @blp.arguments(BlockQueryArgsSchema(), location="query")
    @blp.response(200, BlockStateSchema())
    @blp.alt_response(204, description="The new state is empty: the block was deleted")
    @blp.alt_response(412, description="A precondition (If-Match, If-None-Match) failed")
    def put(self, state: dict[str, Any], args: dict[str, Any]) -> Any:
        """Replace one block's state.

        The body becomes the block's whole state, in one write with one history
        entry. An empty object deletes the block. Honours ``If-Match`` and
        ``If-None-Match``, checked atomically with the write.
        """
        access().require_learner_state(args["username"], [args["block"]], write=True)
        change = BlockChange.replacing(args["block"], state)
        return _respond_with(_update(args, change))

    @blp.arguments(BlockDeleteQueryArgsSchema(), location="query")
    @blp.response(204)
    @blp.alt_response(412, description="A precondition (If-Match) failed")
    def delete(self, args: dict[str, Any]) -> None:
        """Delete one block's state, or only the fields named by ``fields``.

        Deleting what is not stored is not an error. Honours ``If-Match``,
        checked atomically with the write.
        """
        access().require_learner_state(args["username"], [args["block"]], write=True)
        _update(args, BlockChange.deleting(args.get("fields_")))


def _update(args: dict[str, Any], change: BlockChange) -> UserState | None:
    """Apply ``change`` to the block the query names, under the request's preconditions."""
    return _client().update(
        args["username"], args["block"], change, args["scope"], request_conditions()
    )


@blp.route("/get-many")
class GetMany(MethodView):
    """Several blocks of one learner."""

    @blp.arguments(BlocksSchema(), location="json")
    @blp.no_query_args()
    @blp.response(200, StateListSchema())
    def post(self, body: dict[str, Any]) -> Any:
        """Read several blocks of one learner in one request.

        Results come in the order asked; blocks without state are left out.
        """
        access().require_learner_state(body["username"], body["blocks"], write=False)
        results = _client().get_many(
            body["username"], body["blocks"], body["scope"], body["fields_"]
        )
        return {"results": [_as_json(result) for result in results]}


@blp.route("/set-many")
class SetMany(MethodView):
    """New fields for several blocks of one learner."""

    @blp.arguments(SetManySchema(), location="json")
    @blp.no_query_args()
    @blp.response(204)
    def post(self, body: dict[str, Any]) -> None:
        """Overlay fields on several blocks of one learner, all or nothing."""
        access().require_learner_state(body["username"], body["states"], write=True)
        locations = body["locations"]
        states = {
            (
                LocatedKey(block, locations[block]["course"], locations[block]["block_type"])
                if block in locations
                else block
            ): state
            for block, state in body["states"].items()
        }
        _client().set_many(body["username"], states, body["scope"])


@blp.route("/delete-many")
class DeleteMany(MethodView):
    """Deletion of several blocks of one learner."""

    @blp.arguments(BlocksSchema(), location="json")
    @blp.no_query_args()
    @blp.response(204)
    def post(self, body: dict[str, Any]) -> None:
        """Delete several blocks of one learner, or only some of their fields."""
        access().require_learner_state(body["username"], body["blocks"], write=True)
        _client().delete_many(body["username"], body["blocks"], body["scope"], body["fields_"])


def _enrolled_only(course: str | None, states: Iterable[UserState]) -> Iterable[UserState]:
    """Only the states whose learner the credential sees (a coach: the course's enrolled)."""
    visible = access().visible_learners(course)
    if visible is None:
        return states
    return (state for state in states if state.username in visible)


@blp.route("/history")
class History(MethodView):
    """The history of one block."""

    @blp.arguments(HistoryQueryArgsSchema(), location="query")
    @blp.response(200, BlockStateSchema(many=True))
    @blp.alt_response(404, description="The block never had state")
    def get(self, args: dict[str, Any]) -> Any:
        """Read one block's history, newest first, a page at a time.

        Each entry is the block's full state after one write (``null`` after a
        deletion). ``X-Pagination`` tells the page and the next one.
        """
        access().require_learner_state(args["username"], [args["block"]], write=False)
        history = _client().get_history(args["username"], args["block"], args["scope"])
        page, headers = paginate(history, args["page"], args["page_size"])
        return [_as_json(result) for result in page], headers


@blp.route("/by-block")
class ByBlock(MethodView):
    """Every learner's state in one block."""

    @blp.arguments(ByBlockQueryArgsSchema(), location="query")
    @blp.response(200, BlockStateSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Read every learner's state in one block, by username, a page at a time."""
        course = block_location(args["block"])[0]
        access().require_course(course)
        states = _enrolled_only(course, _client().iter_all_for_block(args["block"], args["scope"]))
        page, headers = paginate(states, args["page"], args["page_size"])
        return [_as_json(result) for result in page], headers


@blp.route("/by-course")
class ByCourse(MethodView):
    """Every state in one course."""

    @blp.arguments(ByCourseQueryArgsSchema(), location="query")
    @blp.response(200, BlockStateSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Read every state in a course, optionally of one block type, a page at a time."""
        access().require_course(args["course"])
        states = _enrolled_only(
            args["course"],
            _client().iter_all_for_course(args["course"], args.get("block_type"), args["scope"]),
        )
        page, headers = paginate(states, args["page"], args["page_size"])
        return [_as_json(result) for result in page], headers
