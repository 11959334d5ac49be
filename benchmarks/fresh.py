"""A fresh store for each benchmark run."""

from pathlib import Path

from lrs.urls import Backend, parse_storage_url


def remove_sqlite_file(url: str) -> None:
    """Remove the file a ``sqlite:`` storage URL names, with its log; other URLs are left."""
    parsed = parse_storage_url(url)
    if parsed.backend == Backend.sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.path}{suffix}").unlink(missing_ok=True)
