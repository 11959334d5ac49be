"""Erasure records in a SQLite file: erasures, erased identities and secrets, a table each."""

from collections.abc import Sequence

import orjson

from lrs.clock import to_us
from lrs.erasure.base import Erasure, ErasureStore, erasure_from
from lrs.sqlite import SqliteDatabase, translate_errors


class SqliteErasureStore(ErasureStore):
    """Erasure records, one row per pseudonym (the record as JSON)."""

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep records in ``database``."""
        self._database = database

    def get(self, pseudonym: str) -> Erasure | None:
        """The record of the learner with this pseudonym, or ``None``."""
        with translate_errors():
            row = (
                self._database.connection()
                .execute("SELECT record FROM erasures WHERE pseudonym = ?", (pseudonym,))
                .fetchone()
            )
        return None if row is None else erasure_from(orjson.loads(row[0]))

    def put(self, erasure: Erasure) -> None:
        """Write a record."""
        with self._database.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO erasures (pseudonym, started_us, record) VALUES (?, ?, ?)",
                (
                    erasure.pseudonym,
                    to_us(erasure.started),
                    orjson.dumps(erasure.as_json()).decode(),
                ),
            )

    def list(self) -> list[Erasure]:
        """Every record, oldest first."""
        with translate_errors():
            rows = (
                self._database.connection()
                .execute("SELECT record FROM erasures ORDER BY started_us, pseudonym")
                .fetchall()
            )
        return [erasure_from(orjson.loads(row[0])) for row in rows]

    def _keep_identities(self, identities: dict[str, str]) -> None:
        with self._database.transaction() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO erased_identities (digest, replacement) VALUES (?, ?)",
                sorted(identities.items()),
            )

    def _identities(self, digests: Sequence[str]) -> dict[str, str]:
        marks = ", ".join("?" * len(digests))
        with translate_errors():
            rows = (
                self._database.connection()
                .execute(
                    f"SELECT digest, replacement FROM erased_identities WHERE digest IN ({marks})",
                    digests,
                )
                .fetchall()
            )
        return dict(rows)

    def _secret(self, name: str) -> bytes | None:
        with translate_errors():
            row = (
                self._database.connection()
                .execute("SELECT value FROM secrets WHERE name = ?", (name,))
                .fetchone()
            )
        return None if row is None else bytes(row[0])

    def _keep_secret(self, name: str, value: bytes) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, value)
            )
