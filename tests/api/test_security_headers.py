"""What a browser is told about every response: inert, unframed, uncached, from here only."""

import json
import re
from urllib.parse import urlencode

import pytest

XAPI = {"X-Experience-API-Version": "2.0.0"}
AGENT = json.dumps({"mbox": "mailto:ada@example.org"})
SCRIPT = b"<html><body><script>fetch('/api/v1/credentials')</script></body></html>"


def state_path(state_id="page"):
    return "/xAPI/activities/state?" + urlencode(
        {"activityId": "http://example.org/a", "agent": AGENT, "stateId": state_id}
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "text/html; charset=utf-8",
        "image/svg+xml",
        "application/xml",
        "text/xml",
        "application/javascript",
        "text/javascript",
        "application/xhtml+xml",
        "application/atom+xml",
    ],
)
def test_a_stored_active_document_is_served_inert_and_as_an_attachment(http, admin, content_type):
    headers = {**admin, **XAPI}
    put = http.put(state_path(), data=SCRIPT, content_type=content_type, headers=headers)
    assert put.status_code == 204
    response = http.get(state_path(), headers=headers)
    assert response.data == SCRIPT  # byte for byte, as xAPI requires
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Disposition"] == "attachment"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_json_document_is_not_an_attachment(http, admin):
    headers = {**admin, **XAPI}
    http.put(state_path("json"), json={"a": 1}, headers=headers)
    response = http.get(state_path("json"), headers=headers)
    assert response.json == {"a": 1}
    assert "Content-Disposition" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path, authenticated",
    [
        ("/api/v1/me", True),
        ("/api/v1/state?username=u&block=b", True),
        ("/xAPI/statements", True),
        ("/xAPI/about", False),
        ("/health", False),
        ("/openapi.json", False),
        ("/api/v1/nothing-here", False),
    ],
)
def test_every_response_carries_the_headers_a_scanner_expects(http, admin, path, authenticated):
    response = http.get(path, headers={**admin, **XAPI})
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    if authenticated:
        assert headers["Cache-Control"] == "no-store"
    anonymous = http.get(path, headers=XAPI)
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"


def test_the_api_viewer_loads_nothing_from_another_site(http):
    page = http.get("/docs")
    assert page.status_code == 200
    assert "Content-Disposition" not in page.headers
    html = page.get_data(as_text=True)
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references, html
    for reference in references:
        assert reference.startswith("/"), reference
        asset = http.get(reference)
        assert asset.status_code == 200, reference
        assert asset.headers.get("Content-Disposition", "inline").startswith("inline")
        asset.close()
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "http" not in policy
    assert "validator.swagger.io" not in html
