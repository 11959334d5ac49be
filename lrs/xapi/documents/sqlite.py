"""Documents in a SQLite file: the ``documents`` table (see ``lrs.sqlite_schema``).

A conditional write reads the current document, checks the conditions and
writes inside one ``BEGIN IMMEDIATE`` transaction: of writers holding one
ETag, exactly one succeeds.
"""

import sqlite3
from collections.abc import Callable

from lrs.sqlite import SqliteDatabase, translate_errors
from lrs.xapi.documents.base import Context, Document, DocumentStore

_WHERE = "resource = ? AND activity_id = ? AND agent = ? AND registration = ?"


def _where(context: Context) -> tuple[str, str, str, str]:
    return (context.resource.value, context.activity_id, context.agent, context.registration)


class SqliteDocumentStore(DocumentStore):
    """Documents of the three document resources, by context and id."""

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep documents in ``database``."""
        self._database = database

    def get(self, context: Context, document_id: str) -> Document | None:
        """Return the document, or ``None``."""
        with translate_errors():
            return self._get(self._database.connection(), context, document_id)

    @staticmethod
    def _get(connection: sqlite3.Connection, context: Context, document_id: str) -> Document | None:
        row = connection.execute(
            f"SELECT content, content_type, updated_us FROM documents WHERE {_WHERE} AND id = ?",
            (*_where(context), document_id),
        ).fetchone()
        return None if row is None else Document(document_id, bytes(row[0]), row[1], row[2])

    def ids(self, context: Context, since_us: int | None = None) -> list[tuple[str, int]]:
        """Return the (id, updated_us) of the context's documents, updated after ``since_us``."""
        since = "" if since_us is None else " AND updated_us > ?"
        with translate_errors():
            rows = self._database.connection().execute(
                f"SELECT id, updated_us FROM documents WHERE {_WHERE}{since}",
                (*_where(context), *(() if since_us is None else (since_us,))),
            )
            return [(document_id, updated_us) for document_id, updated_us in rows]

    def _write(
        self,
        context: Context,
        document_id: str,
        written: Callable[[Document | None], Document],
    ) -> Document:
        with self._database.transaction() as connection:
            document = written(self._get(connection, context, document_id))
            connection.execute(
                "INSERT INTO documents (resource, activity_id, agent, registration, id, content, "
                "content_type, updated_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                "(resource, activity_id, agent, registration, id) DO UPDATE SET "
                "content = excluded.content, content_type = excluded.content_type, "
                "updated_us = excluded.updated_us",
                (
                    *_where(context),
                    document_id,
                    document.content,
                    document.content_type,
                    document.updated_us,
                ),
            )
        return document

    def _remove(
        self, context: Context, document_id: str, check: Callable[[Document | None], None]
    ) -> None:
        with self._database.transaction() as connection:
            check(self._get(connection, context, document_id))
            connection.execute(
                f"DELETE FROM documents WHERE {_WHERE} AND id = ?", (*_where(context), document_id)
            )

    def count_agents(self, keys: frozenset[str]) -> int:
        """How many documents these agents have."""
        connection = self._database.connection()
        with translate_errors():
            return sum(
                connection.execute(
                    "SELECT count(*) FROM documents WHERE agent = ?", (key,)
                ).fetchone()[0]
                for key in sorted(keys)
            )

    def forget_agents(self, keys: frozenset[str]) -> int:
        """Delete every document of these agents; return how many went."""
        with self._database.transaction() as connection:
            return sum(
                connection.execute("DELETE FROM documents WHERE agent = ?", (key,)).rowcount
                for key in sorted(keys)
            )

    def delete_all(self, context: Context) -> None:
        """Delete every document of the context."""
        with self._database.transaction() as connection:
            connection.execute(f"DELETE FROM documents WHERE {_WHERE}", _where(context))
