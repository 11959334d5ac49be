"""Forwarding targets over HTTP: ``/api/v1/forwarding`` (admins; docs/forwarding.md)."""

from typing import Any

from flask import current_app
from flask.views import MethodView

from lrs.api.auth import access
from lrs.api.blueprint import Blueprint
from lrs.api.schemas.forwarding import (
    DeadLetterSchema,
    RetriedSchema,
    TargetChangeSchema,
    TargetCreateSchema,
    TargetSchema,
)
from lrs.clock import from_us, to_us
from lrs.usecases import forwarding
from lrs.usecases.storage import Storage

blp = Blueprint(
    "forwarding",
    __name__,
    url_prefix="/api/v1",
    description="Other LRSs that every statement stored here is forwarded to.",
)


def _storage() -> Storage:
    found: Storage = current_app.extensions["lrs"]
    return found


def _transport() -> Any:
    """How targets are reached: the network, unless a test put its own transport here."""
    return current_app.extensions.get("lrs-forwarding-transport")


def _shown(target_id: str) -> dict[str, Any]:
    """A target with its status, as the API shows it."""
    found = forwarding.status(_storage(), target_id)
    target = found.target
    return {
        **target.as_json(),
        "dead": found.dead,
        "queued": found.queued,
        "lag_seconds": found.lag_seconds,
        "next_try": from_us(target.next_try_us) if target.next_try_us else None,
    }


@blp.route("/forwarding")
class Targets(MethodView):
    """The targets."""

    @blp.no_query_args()
    @blp.response(200, TargetSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """List the targets with their status, oldest first."""
        access().require_admin()
        return [_shown(target.id) for target in _storage().forwarding.targets()]

    @blp.arguments(TargetCreateSchema(), location="json")
    @blp.no_query_args()
    @blp.response(201, TargetSchema())
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Add a target, checked first: a bad URL, credential or filter is a 400, nothing added."""
        access().require_admin()
        if body["direction"] == "pull":
            since = body.get("since")
            source = forwarding.add_source(
                _storage(),
                body["url"],
                body["auth"],
                version=body["version"],
                since_us=None if since is None else to_us(since),
                transport=_transport(),
            )
            return _shown(source.id)
        filters = forwarding.checked_filters(**body["filters"])
        target = forwarding.add_target(
            _storage(),
            body["url"],
            body["auth"],
            version=body["version"],
            filters=filters,
            from_start=body["from_start"],
            since_us=None if body.get("since") is None else to_us(body["since"]),
            transport=_transport(),
        )
        return _shown(target.id)


@blp.route("/forwarding/<string:target_id>")
class TargetItem(MethodView):
    """One target."""

    @blp.no_query_args()
    @blp.response(200, TargetSchema())
    def get(self, target_id: str) -> dict[str, Any]:
        """A target's status: queued, lag, delivered, dead letters, last error, next try."""
        access().require_admin()
        return _shown(target_id)

    @blp.arguments(TargetChangeSchema(), location="json")
    @blp.no_query_args()
    @blp.response(200, TargetSchema())
    def patch(self, body: dict[str, Any], target_id: str) -> dict[str, Any]:
        """Pause or resume a target."""
        access().require_admin()
        forwarding.set_state(_storage(), target_id, body["state"])
        return _shown(target_id)

    @blp.no_query_args()
    @blp.response(204)
    def delete(self, target_id: str) -> None:
        """Forget a target and its dead letters."""
        access().require_admin()
        _storage().forwarding.remove(target_id)


@blp.route("/forwarding/<string:target_id>/dead")
class DeadLetters(MethodView):
    """Its dead letters."""

    @blp.no_query_args()
    @blp.response(200, DeadLetterSchema(many=True))
    def get(self, target_id: str) -> list[dict[str, Any]]:
        """The statements a target refused for good, oldest first, with its answers."""
        access().require_admin()
        _storage().forwarding.get(target_id)
        return [
            {
                "statement_id": letter.statement_id,
                "time": from_us(letter.time_us),
                "status": letter.status,
                "answer": letter.answer,
            }
            for letter in _storage().forwarding.dead_letters(target_id)
        ]


@blp.route("/forwarding/<string:target_id>/retry-dead")
class RetryDead(MethodView):
    """Its dead letters, sent again."""

    @blp.no_query_args()
    @blp.response(200, RetriedSchema())
    def post(self, target_id: str) -> dict[str, int]:
        """Send a target's dead letters again; say how many it took."""
        access().require_admin()
        with forwarding.Sender(_storage(), transport=_transport()) as sender:
            delivered, still = sender.retry_dead(target_id)
        return {"delivered": delivered, "still_refused": still}
