"""Erasures over HTTP: ``POST /api/v1/users/{username}/erase``, ``/agents/erase``, ``/erasures``.

Admin credentials only. The rules are ``lrs.usecases.erasure``'s; this module
reads the request and writes the answer.
"""

from dataclasses import asdict
from typing import Any

from flask import current_app
from flask.views import MethodView

from lrs.api.auth import access, current_credential
from lrs.api.blueprint import Blueprint
from lrs.api.schemas.erasure import EraseAgentSchema, EraseSchema, ErasureSchema
from lrs.usecases.erasure import erase_agent, erase_learner
from lrs.usernames import check_username

blp = Blueprint(
    "erasure",
    __name__,
    url_prefix="/api/v1",
    description="A learner's erasure from every store, and the audit records of erasures.",
)


@blp.route("/users/<string:username>/erase")
class Erase(MethodView):
    """Erase a learner."""

    @blp.arguments(EraseSchema())
    @blp.response(200, ErasureSchema())
    def post(self, args: dict[str, Any], username: str) -> Any:
        """Erase a learner everywhere (docs/erasure.md); with ``dry_run``, count only.

        Statements are pseudonymized (or deleted, with ``delete_statements``);
        documents, learner state, progress and personal user data are
        removed; credentials revoked. Answers the
        audit record. Running it again for an erased learner changes
        nothing and answers the same record; an erasure cut short is
        finished.
        """
        access().require_admin()
        check_username(username)
        erasure = erase_learner(
            current_app.extensions["lrs"],
            current_app.extensions["lrs-accounts"],
            username,
            reason=args["reason"],
            credential=current_credential().key,
            dry_run=args["dry_run"],
            delete_statements=args["delete_statements"],
        )
        return asdict(erasure)


@blp.route("/agents/erase")
class EraseAgent(MethodView):
    """Erase an agent known only from statements."""

    @blp.arguments(EraseAgentSchema())
    @blp.response(200, ErasureSchema())
    def post(self, args: dict[str, Any]) -> Any:
        """Erase an agent that has no user here (an address, another system's account).

        As a learner's erasure (docs/erasure.md): statements pseudonymized
        (or deleted), documents removed, progress derived again; an ``mbox``
        goes with its ``mbox_sha1sum``. The account of one of this LRS's users
        is that user's erasure. With ``dry_run``, count only.
        """
        access().require_admin()
        erasure = erase_agent(
            current_app.extensions["lrs"],
            current_app.extensions["lrs-accounts"],
            args["agent"],
            reason=args["reason"],
            credential=current_credential().key,
            dry_run=args["dry_run"],
            delete_statements=args["delete_statements"],
        )
        return asdict(erasure)


@blp.route("/erasures")
class Erasures(MethodView):
    """The audit records of erasures."""

    @blp.response(200, ErasureSchema(many=True))
    def get(self) -> Any:
        """List every erasure, oldest first (admin)."""
        access().require_admin()
        return [asdict(erasure) for erasure in current_app.extensions["lrs"].erasures.list()]
