"""Page-number pagination for streams whose length is not known in advance.

A page is read by skipping to it and taking one item more than it holds, which
tells whether a next page exists without counting the whole stream. The
``X-Pagination`` header carries ``page``, ``page_size`` and, when there is
one, ``next_page``.
"""

import itertools
from collections.abc import Iterable
from typing import Any

import orjson
from marshmallow import fields, validate

from lrs.clients.base import MAX_PAGE_SIZE

DEFAULT_PAGE_SIZE = 100
# Far beyond any real stream, and small enough that the offset stays an index.
MAX_PAGE = 10**9

page_field = fields.Integer(
    load_default=1,
    validate=validate.Range(min=1, max=MAX_PAGE),
    metadata={"description": "Page number, from 1."},
)
page_size_field = fields.Integer(
    load_default=DEFAULT_PAGE_SIZE,
    validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
    metadata={"description": f"Items per page, at most {MAX_PAGE_SIZE}."},
)


def paginate(items: Iterable[Any], page: int, page_size: int) -> tuple[list[Any], dict[str, str]]:
    """Return one page of ``items`` and its ``X-Pagination`` header."""
    start = (page - 1) * page_size
    taken = list(itertools.islice(items, start, start + page_size + 1))
    metadata: dict[str, int] = {"page": page, "page_size": page_size}
    if len(taken) > page_size:
        metadata["next_page"] = page + 1
    return taken[:page_size], {"X-Pagination": orjson.dumps(metadata).decode()}
