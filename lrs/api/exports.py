"""Exports over HTTP: ``GET /api/v1/exports/{kind}`` streams a download; ``/requests`` lists them.

Who exports what is the access policy's (``Access.export_scope``): admin and
service credentials every kind; a coach credential the progress records
(summaries, sessions, attempts, exams) of a course it coaches, limited to the
learners actively enrolled in it. Every export is recorded
(``lrs.usecases.exports``); the kinds and formats are
``lrs.usecases.export_kinds``' and ``lrs.usecases.export_formats``'.
"""

import os
import tempfile
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import IO, Any

from flask import Flask, Response, current_app, request
from flask.views import MethodView
from werkzeug.wsgi import wrap_file

from lrs.api.auth import access, current_credential
from lrs.api.blueprint import Blueprint
from lrs.api.schemas.exports import (
    ExportQueryArgsSchema,
    ExportRequestSchema,
    ExportRequestsQueryArgsSchema,
)
from lrs.exceptions import Busy, ServiceUnavailable
from lrs.settings import Settings
from lrs.usecases.export_formats import MEDIA_TYPES
from lrs.usecases.export_kinds import KINDS, Filters, kind_named, moment_us
from lrs.usecases.exports import start_export
from lrs.xapi.agents import AccountAgents

blp = Blueprint(
    "exports",
    __name__,
    url_prefix="/api/v1/exports",
    description="Records written out as NDJSON or CSV, streamed, and the record of every "
    "export (docs/transfer.md).",
)


@blp.route("/requests")
class ExportRequests(MethodView):
    """The record of every export."""

    @blp.arguments(ExportRequestsQueryArgsSchema(), location="query")
    @blp.response(200, ExportRequestSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List exports, newest first (admin): who, when, what, the filters, the rows written."""
        access().require_admin()
        found = current_app.extensions["lrs"].exports.list(limit=args["limit"])
        return [asdict(request) for request in found]


@blp.route("/<string:kind>")
class Exports(MethodView):
    """One kind of record, exported."""

    @blp.arguments(ExportQueryArgsSchema(), location="query")
    @blp.response(200, description=f"The records, streamed. Kinds: {', '.join(KINDS)}.")
    def get(self, args: dict[str, Any], kind: str) -> Any:
        """Stream every record of a kind as NDJSON or CSV, as a download named for what and when.

        Admin and service credentials export any kind; coach credentials
        the progress records of a course they coach (give ``course_key``).
        """
        found = kind_named(kind)
        accounts: AccountAgents = current_app.extensions["lrs-accounts"]
        course = args.get("course_key")
        learners = access().export_scope(found.progress, course)
        filters = Filters(
            None if "since" not in args else moment_us(args["since"], "since"),
            None if "until" not in args else moment_us(args["until"], "until"),
            course,
            learners,
        )
        with _slot():
            export = start_export(
                current_app.extensions["lrs"],
                accounts,
                found.name,
                args["format"],
                filters,
                credential=current_credential().key,
                bom=args["bom"],
            )
            spool = _spooled(export.chunks)
        body = wrap_file(request.environ, spool, _SEND_BLOCK)
        # The server closes the file once sent; a response dropped unread (a
        # test client's) closes it when it goes.
        weakref.finalize(body, spool.close)
        response = Response(
            body,
            mimetype=MEDIA_TYPES[args["format"]],
            direct_passthrough=True,
        )
        response.content_length = os.fstat(spool.fileno()).st_size
        response.headers["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
        response.headers["X-Export-Id"] = export.request.id
        return response


# The bytes a sending server reads from the spooled file at a time.
_SEND_BLOCK = 256 * 1024


@contextmanager
def _slot() -> Iterator[None]:
    """One of the ``LRS_EXPORTS_AT_ONCE`` exports this process writes at once.

    Raises:
        Busy: as many are being written already (503, with Retry-After);
            nothing is recorded then.
    """
    slots: threading.BoundedSemaphore = current_app.extensions["lrs-export-slots"]
    if not slots.acquire(blocking=False):
        raise Busy(
            "as many exports as this server writes at once are being written "
            "(LRS_EXPORTS_AT_ONCE): retry in a few seconds"
        )
    try:
        yield
    finally:
        slots.release()


def _spooled(chunks: Iterator[bytes]) -> IO[bytes]:
    """The export written whole to a temporary file, read from its start (deleted when closed).

    Written at the store's speed while an application thread is held, then
    sent by the server from the file: waitress sends a ``wsgi.file_wrapper``
    from its event loop, so a client that reads slowly holds no thread and no
    memory.

    Raises:
        ServiceUnavailable: the spool's disk is full.
    """
    spool = tempfile.TemporaryFile(dir=current_app.extensions["lrs-export-spool"])
    try:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
    except OSError as exc:
        spool.close()
        raise ServiceUnavailable(f"the export cannot be written: {exc.strerror}") from None
    except BaseException:
        spool.close()
        raise
    return spool


def install(app: Flask, settings: Settings) -> None:
    """Give ``app`` its export slots (``LRS_EXPORTS_AT_ONCE``) and spool folder."""
    app.extensions["lrs-export-slots"] = threading.BoundedSemaphore(settings.exports_at_once)
    app.extensions["lrs-export-spool"] = settings.export_spool_dir
