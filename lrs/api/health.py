"""``/health``: for load balancers; needs no credentials."""

from typing import Any

from flask import current_app
from flask.views import MethodView

from lrs.api.blueprint import Blueprint

blp = Blueprint(
    "health", __name__, url_prefix="/health", description="Liveness of the server and its store."
)


@blp.route("")
class Health(MethodView):
    """The server's health."""

    @blp.response(200)
    @blp.alt_response(503, description="The store cannot be reached")
    def get(self) -> Any:
        """Check that the server answers and its store can be read."""
        current_app.extensions["lrs"].credentials.count()
        return {"status": "ok"}
