"""The closing protocol that every store shares."""

from types import TracebackType
from typing import Self


class Closeable:
    """Something holding connections, usable in a ``with`` block that closes it."""

    def close(self) -> None:  # noqa: B027 - optional: most stores need no closing
        """Release connections; the default has none."""

    def __enter__(self) -> Self:
        """Use the store in a ``with`` block that closes it."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()
