"""The Flask application class itself."""

from flask import Flask

from tests.support import make_app


def test_each_request_hook_is_made_ready_to_call_once(monkeypatch):
    asked = []
    flask_ensure_sync = Flask.ensure_sync

    def counting(self, func):
        asked.append(func)
        return flask_ensure_sync(self, func)

    # What reaches Flask's own ensure_sync, through the app's cache.
    monkeypatch.setattr(Flask, "ensure_sync", counting)
    http = make_app().test_client()
    for _ in range(3):
        assert http.get("/health").status_code == 200
    assert asked
    assert len(asked) == len(set(asked))  # each hook and view once, not once per request
