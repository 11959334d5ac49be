"""What a request must be before anything else reads it: a body within the limit, UTF-8 parameters.

Bodies are counted as they are read, whatever their framing. A body sent with
``Content-Length`` is refused when the header is over the limit. A body sent
with ``Transfer-Encoding: chunked`` has no length up front: werkzeug would read
such a stream only up to the limit and hand the view a truncated body, which
could then be stored. So ``BodyLimit``, the outermost layer of the app, reads a
body of unknown length completely, up to one byte past the limit, before
anything else sees it. A body past the limit is dropped, and the request is
marked so that the app answers ``413`` through its ordinary error handling
(JSON shape, xAPI version header, CORS) and runs no view. A body within it is
handed on with its ``Content-Length``, so that every later reader sees exactly
the bytes that were sent.

Query parameters must be UTF-8 once percent-decoded: werkzeug would keep an
undecodable ``%FF`` as the literal text ``%FF``, and a username ``%FF`` would
then name someone else's data.
"""

import io
from collections.abc import Iterable
from urllib.parse import unquote_to_bytes
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from flask import Flask, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

#: Set in the WSGI environ of a request whose body is over the limit.
TOO_LARGE = "lrs.body_too_large"

_CHUNK = 65536


class BodyLimit:
    """WSGI middleware: bodies of unknown length are read whole and counted."""

    def __init__(self, app: WSGIApplication, max_bytes: int) -> None:
        """Wrap ``app``; a body of more than ``max_bytes`` bytes is marked too large."""
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Count the body, then serve the request."""
        length = environ.get("CONTENT_LENGTH", "")
        if length:
            if length.isdigit() and int(length) > self.max_bytes:
                self._refuse(environ)
        elif self._has_body(environ):
            body = self._read(environ["wsgi.input"])
            if body is None:
                self._refuse(environ)
            else:
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
                environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    @staticmethod
    def _has_body(environ: WSGIEnvironment) -> bool:
        # A chunked body, or one the server says ends where the stream ends.
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        return chunked or bool(environ.get("wsgi.input_terminated"))

    def _read(self, stream: io.BufferedIOBase) -> bytes | None:
        """The whole body, or ``None`` once it is past the limit."""
        parts: list[bytes] = []
        size = 0
        while True:
            part = stream.read(min(_CHUNK, self.max_bytes + 1 - size))
            if not part:
                return b"".join(parts)
            parts.append(part)
            size += len(part)
            if size > self.max_bytes:
                return None

    @staticmethod
    def _refuse(environ: WSGIEnvironment) -> None:
        environ[TOO_LARGE] = True
        # Nothing downstream may read what is left of the body.
        environ["wsgi.input"] = io.BytesIO(b"")
        environ["CONTENT_LENGTH"] = "0"
        environ.pop("HTTP_TRANSFER_ENCODING", None)


def install(app: Flask, max_bytes: int) -> None:
    """Count every request body of ``app``; refuse one over ``max_bytes`` with 413.

    Also refuse (400) query parameters that are not UTF-8.

    Call it after every other middleware is installed: the counting must be the
    outermost layer, and the refusal the first thing a request meets, before
    authentication.
    """
    app.wsgi_app = BodyLimit(app.wsgi_app, max_bytes)  # type: ignore[method-assign]

    def refuse_large_bodies() -> None:
        if request.environ.get(TOO_LARGE):
            raise RequestEntityTooLarge(
                f"the request body is larger than {max_bytes} bytes (LRS_MAX_BODY_BYTES); "
                "nothing was stored"
            )

    def refuse_undecodable_parameters() -> None:
        raw = request.query_string
        if b"%" in raw:
            try:
                unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest(
                    "the query string is not UTF-8 once percent-decoded; encode parameters "
                    "as UTF-8 before percent-encoding them"
                ) from None

    app.before_request_funcs.setdefault(None, [])[:0] = [
        refuse_large_bodies,
        refuse_undecodable_parameters,
    ]
