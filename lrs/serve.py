"""Running the server under gunicorn, as ``lrs serve`` does."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn, configured from a dict instead of its command line."""

    def __init__(self, load_app: Callable[[], Flask], options: dict[str, Any]) -> None:
        """Serve the app that ``load_app`` returns, with gunicorn ``options``."""
        self._load_app = load_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the options."""
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        """Build (or hand over) the application."""
        return self._load_app()


def curl_example(url: str, key: str, secret: str) -> str:
    """A command a newcomer can paste to try a credential."""
    # Query values are percent-encoded: a raw "+" would arrive as a space.
    query = urlencode({"username": "ada", "block": "block-v1:Org+Demo+2026+type@problem+block@p1"})
    return (
        f"curl -u '{key}:{secret}' -X PATCH -H 'Content-Type: application/json' \\\n"
        f"     -d '{{\"answer\": 42}}' '{url}/api/v1/state?{query}'"
    )
