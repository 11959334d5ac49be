"""The preconditions of a write (``If-Match``, ``If-None-Match``), checked against an ETag.

One type for every conditional write: xAPI documents and learners' blocks
alike (xAPI-Communication.md section 3.1; RFC 9110 section 13.1). A store
checks the conditions against the current ETag and writes in one atomic step.
"""

from dataclasses import dataclass

from lrs.exceptions import Conflict, InvalidInput, PreconditionFailed


@dataclass(frozen=True)
class Conditions:
    """A write's preconditions.

    ``if_match`` and ``if_none_match`` are the ETags the headers list (``"*"``
    for any), or ``None`` when the header is absent. With ``required``, a
    write with neither header to something that exists is a conflict; with
    ``required_for_new`` too, one to something that does not exist yet is
    refused as a bad request.
    """

    if_match: frozenset[str] | None = None
    if_none_match: frozenset[str] | None = None
    required: bool = False
    required_for_new: bool = False

    def check(self, etag: str | None) -> None:
        """Raise unless a write may go ahead over what has ``etag`` (``None``: nothing).

        Raises:
            PreconditionFailed: If-Match or If-None-Match fails (412).
            Conflict: ``required``, neither header, and it exists (409).
            InvalidInput: ``required_for_new``, neither header, and it does not exist (400).
        """
        if self.if_match is not None and (
            etag is None or not ("*" in self.if_match or etag in self.if_match)
        ):
            raise PreconditionFailed(
                "If-Match does not match the current ETag"
                + ("" if etag is not None else " (there is nothing here yet)")
            )
        if self.if_none_match is not None and (
            etag is not None and ("*" in self.if_none_match or etag in self.if_none_match)
        ):
            raise PreconditionFailed("If-None-Match: it exists (or matches)")
        no_headers = self.if_match is self.if_none_match is None
        if self.required_for_new and etag is None and no_headers:
            raise InvalidInput(
                "send If-None-Match: * to create this document (or If-Match with its ETag to "
                "replace one): a PUT of a profile needs one of them (Communication 3.1)"
            )
        if self.required and etag is not None and no_headers:
            raise Conflict(
                "it exists: check its current state, then send If-Match with its ETag to "
                "replace it (or If-None-Match: * to create only)"
            )

    @property
    def unconditional(self) -> bool:
        """Whether these conditions hold whatever there is."""
        return self is UNCONDITIONAL or (
            self.if_match is None
            and self.if_none_match is None
            and not self.required
            and not self.required_for_new
        )


#: A write with no preconditions.
UNCONDITIONAL = Conditions()
