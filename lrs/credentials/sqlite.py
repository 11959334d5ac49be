"""Credentials in a SQLite file: the ``credentials`` table (see ``lrs.sqlite_schema``)."""

import sqlite3
from typing import Any

from lrs.clock import from_us, to_us
from lrs.credentials.base import Credential, CredentialStore, Role
from lrs.exceptions import InvalidInput
from lrs.sqlite import SqliteDatabase, translate_errors

_COLUMNS = "key, role, username, name, created_us, revoked_us"


def _credential(row: tuple[Any, ...]) -> Credential:
    key, role, username, name, created_us, revoked_us = row[:6]
    revoked = None if revoked_us is None else from_us(revoked_us)
    return Credential(key, Role(role), username, name, from_us(created_us), revoked)


class SqliteCredentialStore(CredentialStore):
    """Credentials in the ``credentials`` table, keyed by the credential key."""

    def __init__(self, database: SqliteDatabase, *, owns: bool = False) -> None:
        """Keep credentials in ``database``; close it with this store when it ``owns`` it."""
        self._database = database
        self._owns = owns

    def list(self, include_revoked: bool = False) -> list[Credential]:
        """Return the credentials, oldest first."""
        where = "" if include_revoked else "WHERE revoked_us IS NULL"
        with translate_errors():
            rows = self._database.connection().execute(
                f"SELECT {_COLUMNS} FROM credentials {where} ORDER BY created_us, rowid"
            )
            return [_credential(row) for row in rows]

    def count(self) -> int:
        """Return how many credentials exist, revoked ones included."""
        with translate_errors():
            row = self._database.connection().execute("SELECT count(*) FROM credentials")
            return int(row.fetchone()[0])

    def delete(self, key: str) -> None:
        """Remove a credential entirely."""
        with self._database.transaction() as connection:
            connection.execute("DELETE FROM credentials WHERE key = ?", (key,))

    def _insert(self, credential: Credential, secret_digest: str) -> None:
        with self._database.transaction() as connection:
            try:
                connection.execute(
                    f"INSERT INTO credentials ({_COLUMNS}, digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        credential.key,
                        credential.role.value,
                        credential.username,
                        credential.name,
                        to_us(credential.created),
                        None if credential.revoked is None else to_us(credential.revoked),
                        secret_digest,
                    ),
                )
            except sqlite3.IntegrityError:
                raise InvalidInput(
                    f"a credential with key {credential.key!r} exists already"
                ) from None

    def _find(self, key: str) -> tuple[Credential, str] | None:
        with translate_errors():
            row = (
                self._database.connection()
                .execute(f"SELECT {_COLUMNS}, digest FROM credentials WHERE key = ?", (key,))
                .fetchone()
            )
        return None if row is None else (_credential(row), row[6])

    def _update(self, credential: Credential) -> None:
        revoked = None if credential.revoked is None else to_us(credential.revoked)
        with self._database.transaction() as connection:
            connection.execute(
                "UPDATE credentials SET revoked_us = ?, name = ?, username = ? WHERE key = ?",
                (revoked, credential.name, credential.username, credential.key),
            )

    def _insert_session(self, token_digest: str, key: str, expires_us: int) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                "INSERT INTO sign_in_sessions (digest, key, expires_us) VALUES (?, ?, ?)",
                (token_digest, key, expires_us),
            )

    def _find_session(self, token_digest: str) -> tuple[str, int] | None:
        with translate_errors():
            row = (
                self._database.connection()
                .execute(
                    "SELECT key, expires_us FROM sign_in_sessions WHERE digest = ?", (token_digest,)
                )
                .fetchone()
            )
        return None if row is None else (str(row[0]), int(row[1]))

    def _delete_session(self, token_digest: str) -> None:
        with self._database.transaction() as connection:
            connection.execute("DELETE FROM sign_in_sessions WHERE digest = ?", (token_digest,))

    def _drop_sessions(self, before_us: int) -> None:
        with self._database.transaction() as connection:
            connection.execute("DELETE FROM sign_in_sessions WHERE expires_us < ?", (before_us,))

    def close(self) -> None:
        """Close the database if this store owns it."""
        if self._owns:
            self._database.close()
