"""API credentials over HTTP: ``/api/v1/credentials`` (admins) and ``/api/v1/me``."""

from typing import Any

from flask import current_app
from flask.views import MethodView

from lrs.api.auth import access, current_credential
from lrs.api.blueprint import Blueprint
from lrs.api.schemas.credentials import (
    CredentialCreateSchema,
    CredentialListQueryArgsSchema,
    CredentialSchema,
    NewCredentialSchema,
)
from lrs.credentials.base import Credential, CredentialStore
from lrs.usecases.credentials import create_credential

blp = Blueprint(
    "credentials",
    __name__,
    url_prefix="/api/v1",
    description="API credentials (key/secret pairs for HTTP Basic auth) and their roles.",
)


def _store() -> CredentialStore:
    store: CredentialStore = current_app.extensions["lrs"].credentials
    return store


@blp.route("/credentials")
class Credentials(MethodView):
    """All credentials (admin only)."""

    @blp.arguments(CredentialListQueryArgsSchema(), location="query")
    @blp.response(200, CredentialSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[Credential]:
        """List credentials, oldest first (revoked ones only when asked)."""
        access().require_admin()
        return _store().list(include_revoked=args["include_revoked"])

    @blp.arguments(CredentialCreateSchema(), location="json")
    @blp.no_query_args()
    @blp.response(201, NewCredentialSchema())
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a credential; its secret is in this response and nowhere else."""
        access().require_admin()
        credential, secret = create_credential(
            current_app.extensions["lrs"],
            body["role"],
            username=body.get("username"),
            name=body["name"],
            allow_unknown_user=body["allow_unknown_user"],
        )
        return {**vars(credential), "secret": secret}


@blp.route("/credentials/<string:key>")
class CredentialItem(MethodView):
    """One credential (admin only)."""

    @blp.no_query_args()
    @blp.response(200, CredentialSchema())
    def get(self, key: str) -> Credential:
        """Read one credential."""
        access().require_admin()
        return _store().get(key)

    @blp.no_query_args()
    @blp.response(200, CredentialSchema())
    def delete(self, key: str) -> Credential:
        """Revoke a credential: it stays listed and no longer authenticates."""
        access().require_admin()
        return _store().revoke(key)


@blp.route("/me")
class Me(MethodView):
    """The credential making the request."""

    @blp.no_query_args()
    @blp.response(200, CredentialSchema())
    def get(self) -> Credential:
        """Tell which credential (and so which role and user) this request uses."""
        return current_credential()
