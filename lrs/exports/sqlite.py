"""Export records in a SQLite file: the ``export_requests`` table."""

import orjson

from lrs.clock import to_us
from lrs.exports.base import ExportLog, ExportRequest, request_from
from lrs.sqlite import SqliteDatabase, translate_errors


class SqliteExportLog(ExportLog):
    """Export records, one row per id (the record as JSON)."""

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep records in ``database``."""
        self._database = database

    def put(self, request: ExportRequest) -> None:
        """Write a record."""
        with self._database.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO export_requests (id, requested_us, record) "
                "VALUES (?, ?, ?)",
                (request.id, to_us(request.requested), orjson.dumps(request.as_json()).decode()),
            )

    def _list(self, limit: int | None) -> list[ExportRequest]:
        with translate_errors():
            rows = (
                self._database.connection()
                .execute(
                    "SELECT record FROM export_requests ORDER BY requested_us DESC, id DESC "
                    "LIMIT ?",
                    (-1 if limit is None else limit,),
                )
                .fetchall()
            )
        return [request_from(orjson.loads(row[0])) for row in rows]
