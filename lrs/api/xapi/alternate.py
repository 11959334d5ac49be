"""The alternate request syntax (xAPI-Communication.md section 1.3), as WSGI middleware.

``POST /xAPI/...?method=PUT`` with a form body becomes the request it stands
for: the ``method`` parameter becomes the method, the form fields named like
headers become headers, ``content`` becomes the body, and the other form
fields become the query string. Everything after (authentication, version
negotiation, the views) then sees an ordinary request; the environ keeps a
mark so that 2.0.0, which forbids this syntax, can refuse it.
"""

import io
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request

ALTERNATE = "lrs.alternate_syntax"
ERROR = "lrs.alternate_syntax_error"
METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})
# The form fields that stand for headers, and their WSGI environ keys.
HEADERS = {
    "Authorization": "HTTP_AUTHORIZATION",
    "X-Experience-API-Version": "HTTP_X_EXPERIENCE_API_VERSION",
    "Content-Type": "CONTENT_TYPE",
    "Content-Length": "CONTENT_LENGTH",
    "If-Match": "HTTP_IF_MATCH",
    "If-None-Match": "HTTP_IF_NONE_MATCH",
}


class AlternateSyntax:
    """Turns alternate-syntax requests to ``/xAPI`` into ordinary ones."""

    def __init__(self, app: WSGIApplication, max_body_bytes: int) -> None:
        """Wrap the WSGI ``app``; bodies over ``max_body_bytes`` are not read."""
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Rewrite the request when it uses the alternate syntax, then serve it."""
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if (
            environ.get("REQUEST_METHOD") == "POST"
            and environ.get("PATH_INFO", "").startswith("/xAPI/")
            and any(name == "method" for name, _ in query)
        ):
            environ = self._rewrite(environ, query)
        return self.app(environ, start_response)

    def _rewrite(self, environ: WSGIEnvironment, query: list[tuple[str, str]]) -> WSGIEnvironment:
        marked = {**environ, ALTERNATE: True}
        request = Request(environ)
        request.max_content_length = self.max_body_bytes
        if request.mimetype != "application/x-www-form-urlencoded":
            marked[ERROR] = "the alternate request syntax sends application/x-www-form-urlencoded"
            return marked
        try:
            form = request.form
        except RequestEntityTooLarge:
            marked[ERROR] = "the request body is too large"
            return marked
        # The form's headers count even when the request is refused, so that
        # the refusal reaches a caller whose credentials are in the form.
        rewritten = dict(marked)
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            rewritten.pop(name, None)
        parameters = []
        for name, value in form.items(multi=True):
            if name in HEADERS:
                rewritten[HEADERS[name]] = value
            elif name != "content":
                parameters.append((name, value))
        content = form.get("content", "").encode()
        rewritten["QUERY_STRING"] = urlencode(parameters)
        rewritten["wsgi.input"] = io.BytesIO(content)
        rewritten["CONTENT_LENGTH"] = str(len(content))
        if content and "CONTENT_TYPE" not in rewritten:
            rewritten["CONTENT_TYPE"] = "application/json"
        method = query[0][1].upper()
        if len(query) != 1:
            rewritten[ERROR] = (
                "with the alternate request syntax, method is the only query parameter"
            )
        elif method not in METHODS:
            rewritten[ERROR] = f"method must be one of {', '.join(sorted(METHODS))}, not {method!r}"
        else:
            rewritten["REQUEST_METHOD"] = method
        return rewritten
