"""Storage URLs: the one place that knows which scheme names which store.

``connect`` (the client library), ``open_history``, ``open_storage`` (the
server) and the command line all read a URL through ``parse_storage_url``, so
a scheme means the same thing everywhere and an unknown one gets the same
message, listing the known ones.
"""

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from lrs.exceptions import InvalidInput

DEFAULT_DATABASE = "lrs"


class Backend(StrEnum):
    """The kinds of store a URL can name."""

    memory = "memory"
    mongodb = "mongodb"
    mongomock = "mongomock"
    http = "http"
    sqlite = "sqlite"


_SCHEMES = {
    "memory": Backend.memory,
    "mongodb": Backend.mongodb,
    "mongodb+srv": Backend.mongodb,
    "mongomock": Backend.mongomock,
    "http": Backend.http,
    "https": Backend.http,
    "sqlite": Backend.sqlite,
}

#: Every scheme a storage URL may have.
SCHEMES = tuple(_SCHEMES)


@dataclass(frozen=True)
class StorageURL:
    """A storage URL, read."""

    url: str
    scheme: str
    backend: Backend

    @property
    def database(self) -> str:
        """The database a MongoDB (or mongomock) URL names: its path, by default ``lrs``."""
        return urlsplit(self.url).path.strip("/") or DEFAULT_DATABASE

    @property
    def path(self) -> str:
        """The file a ``sqlite:`` URL names: ``sqlite:///relative.db``, ``sqlite:////absolute.db``.

        The SQLAlchemy spelling: what follows the third slash is the path.
        """
        return urlsplit(self.url).path[1:]

    @property
    def options(self) -> dict[str, str]:
        """The URL's query parameters (``?synchronous=full``)."""
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    @property
    def test_only(self) -> bool:
        """Whether the store is a fake for tests, on which no server may keep data."""
        return self.backend == Backend.mongomock

    def describe(self) -> str:
        """Where the store keeps data, and whether it survives a restart (no password)."""
        parts = urlsplit(self.url)
        if self.backend == Backend.memory:
            return "memory:// (this process's memory: everything is lost when the server stops)"
        if self.backend == Backend.mongodb:
            port = f":{parts.port}" if parts.port else ""
            where = f"{parts.hostname or 'localhost'}{port}"
            return f"MongoDB database {self.database!r} at {where} (survives restarts)"
        if self.backend == Backend.mongomock:
            return "mongomock:// (an in-process fake for tests: nothing survives)"
        if self.backend == Backend.sqlite:
            return f"SQLite file {Path(self.path).resolve()} (survives restarts)"
        return f"the lrs server at {parts.scheme}://{parts.hostname}"


def parse_storage_url(
    url: str, allowed: Collection[Backend] = tuple(Backend), name: str = "storage"
) -> StorageURL:
    """Read a storage URL.

    Args:
        url: ``memory://``, ``mongodb://host:27017/dbname``, ``mongodb+srv://...``,
            ``mongomock://[host/dbname]``, ``http(s)://host:port``,
            ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db[?synchronous=full]``.
        allowed: the kinds of store the caller can open.
        name: what the URL is for, in messages ("storage", "history").

    Raises:
        InvalidInput: the scheme is unknown, or names a store the caller cannot
            open; the message lists the schemes it can.
    """
    scheme = urlsplit(url).scheme
    backend = _SCHEMES.get(scheme)
    if backend is None or backend not in allowed:
        known = ", ".join(f"{name}://" for name, kind in _SCHEMES.items() if kind in allowed)
        what = "unknown" if backend is None else "unusable"
        raise InvalidInput(f"{what} {name} URL scheme {scheme!r} in {url!r}; known: {known}")
    parsed = StorageURL(url, scheme, backend)
    if backend == Backend.sqlite:
        _check_sqlite(parsed)
    return parsed


def _check_sqlite(url: StorageURL) -> None:
    parts = urlsplit(url.url)
    if parts.netloc or not url.path or url.path.endswith("/"):
        raise InvalidInput(
            f"a SQLite URL names a file: sqlite:///relative/path.db or "
            f"sqlite:////absolute/path.db, not {url.url!r}"
        )
    unknown = set(url.options) - {"synchronous"}
    if unknown:
        raise InvalidInput(f"unknown SQLite URL options {sorted(unknown)}; known: synchronous")
    if url.options.get("synchronous", "normal") not in ("normal", "full"):
        raise InvalidInput("synchronous must be normal or full")
