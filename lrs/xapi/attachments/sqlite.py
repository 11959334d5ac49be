"""Attachment data in a SQLite file: the ``attachments`` table (see ``lrs.sqlite_schema``)."""

from lrs.sqlite import SqliteDatabase, translate_errors
from lrs.xapi.attachments.base import AttachmentData, AttachmentStore


class SqliteAttachmentStore(AttachmentStore):
    """Attachment data by SHA-2; data already stored is never overwritten."""

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep attachment data in ``database``."""
        self._database = database

    def _put(self, attachments: list[AttachmentData]) -> None:
        rows = [(item.sha2, item.content_type, item.data) for item in attachments]
        with self._database.transaction() as connection:
            connection.executemany(
                "INSERT INTO attachments (sha2, content_type, data) VALUES (?, ?, ?) "
                "ON CONFLICT (sha2) DO NOTHING",
                rows,
            )

    def _get(self, sha2: str) -> AttachmentData | None:
        with translate_errors():
            row = (
                self._database.connection()
                .execute(
                    "SELECT sha2, content_type, data FROM attachments WHERE sha2 = ?",
                    (sha2,),
                )
                .fetchone()
            )
        return None if row is None else AttachmentData(row[0], row[1], bytes(row[2]))

    def _delete(self, hashes: list[str]) -> int:
        with self._database.transaction() as connection:
            return sum(
                connection.execute("DELETE FROM attachments WHERE sha2 = ?", (sha2,)).rowcount
                for sha2 in hashes
            )
