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


def test_the_openapi_document_signs_in_and_lists_the_xapi_resources():
    from tests.support import make_app

    spec = make_app().test_client().get("/openapi.json").json
    assert spec["components"]["securitySchemes"]["basic"] == {
        "type": "http",
        "scheme": "basic",
        "description": "A credential's key and secret.",
    }
    assert spec["security"] == [{"basic": []}]  # /docs shows Authorize
    xapi = {path: ops for path, ops in spec["paths"].items() if path.startswith("/xAPI")}
    assert set(xapi) == {
        "/xAPI/about",
        "/xAPI/statements",
        "/xAPI/activities/state",
        "/xAPI/activities/profile",
        "/xAPI/agents/profile",
        "/xAPI/activities",
        "/xAPI/agents",
    }
    assert set(xapi["/xAPI/statements"]) == {"get", "post", "put"}
    header = xapi["/xAPI/statements"]["get"]["parameters"][0]
    assert header["name"] == "X-Experience-API-Version" and header["required"]
    assert xapi["/xAPI/about"]["get"]["security"] == []
