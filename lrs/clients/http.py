"""Learner state on a remote ``lrs`` server, over its REST API (``/api/v1/state``).

Every ``*_many`` call is one HTTP request per ``MAX_BLOCKS`` blocks (the
server's limit per request: larger calls are cut into chunks, each all or
nothing); connections are pooled and reused. The base class checks the
arguments locally first (scopes, usernames, JSON values), so the client raises
the same errors as the local backends before anything is sent. ``update``
sends the block's conditions as ``If-Match``/``If-None-Match``, and the server
checks them atomically with the write.
"""

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx
import orjson

from lrs import strict_json
from lrs.clients.base import (
    MAX_PAGE_SIZE,
    BlockKey,
    KeyParser,
    Scope,
    UserState,
    UserStateClient,
    block_location,
)
from lrs.clients.values import BlockChange
from lrs.conditions import Conditions
from lrs.exceptions import (
    Conflict,
    DoesNotExist,
    InvalidInput,
    PermissionDenied,
    PreconditionFailed,
    ServiceUnavailable,
    UserStateError,
)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def _precondition_headers(conditions: Conditions) -> dict[str, str]:
    """``If-Match`` and ``If-None-Match`` headers that carry ``conditions``."""
    headers = {}
    for name, etags in (
        ("If-Match", conditions.if_match),
        ("If-None-Match", conditions.if_none_match),
    ):
        if etags is not None:
            headers[name] = (
                "*" if "*" in etags else ", ".join(f'"{etag}"' for etag in sorted(etags))
            )
    return headers


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.text))
    except ValueError:
        return response.text or response.reason_phrase


class HttpUserStateClient(UserStateClient):
    """A learner-state client whose store is an ``lrs`` server."""

    def __init__(
        self,
        base_url: str,
        auth: tuple[str, str] | None = None,
        *,
        key_parser: KeyParser = str,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Talk to the server at ``base_url``.

        Args:
            base_url: the server, ``http://host:port``.
            auth: the credential's ``(key, secret)``.
            key_parser: rebuilds key objects for ``iter_all_for_course``.
            timeout: seconds, or an ``httpx.Timeout``.
            transport: an httpx transport (tests pass ``httpx.WSGITransport``).
        """
        self.key_parser = key_parser
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            auth=auth,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "lrs-client"},
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request and translate failures into the store's exceptions."""
        if "json" in kwargs:
            kwargs["content"] = strict_json.dumps(kwargs.pop("json"))
            kwargs["headers"] = {"Content-Type": "application/json"}
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"the lrs server cannot be reached: {exc}") from exc
        if response.is_success:
            return response
        message = _message(response)
        if response.status_code in (401, 403):
            raise PermissionDenied(message)
        if response.status_code == 404:
            raise DoesNotExist(message)
        if response.status_code >= 500:
            raise ServiceUnavailable(f"the lrs server failed ({response.status_code}): {message}")
        if response.status_code in (400, 413):
            raise InvalidInput(message)
        if response.status_code == 409:
            raise Conflict(message)
        if response.status_code == 412:
            raise PreconditionFailed(message)
        raise UserStateError(f"unexpected answer {response.status_code}: {message}")

    @staticmethod
    def _state(item: dict[str, Any], key: BlockKey, scope: Scope) -> UserState:
        return UserState(
            item["username"], key, item["state"], datetime.fromisoformat(item["updated"]), scope
        )

    def _get_many(
        self,
        username: str,
        scope: Scope,
        blocks: Mapping[str, BlockKey],
        fields: list[str] | None,
    ) -> Iterator[UserState]:
        body = {
            "username": username,
            "scope": scope.value,
            "blocks": list(blocks),
            "fields": fields,
        }
        results = self._request("POST", "/state/get-many", json=body).json()["results"]
        return iter([self._state(item, blocks[item["block"]], scope) for item in results])

    def _set_many(
        self, username: str, scope: Scope, changes: Mapping[str, tuple[BlockKey, BlockChange]]
    ) -> None:
        states = {
            block: orjson.loads(change.text or "{}") for block, (_, change) in changes.items()
        }
        body: dict[str, Any] = {"username": username, "scope": scope.value, "states": states}
        # Only a key object knows a location its string does not show.
        locations = {
            block: dict(zip(("course", "block_type"), block_location(key), strict=True))
            for block, (key, _) in changes.items()
            if not isinstance(key, str)
        }
        if locations:
            body["locations"] = locations
        self._request("POST", "/state/set-many", json=body)

    def _delete_many(
        self, username: str, scope: Scope, blocks: Mapping[str, BlockKey], change: BlockChange
    ) -> None:
        fields = None if change.remove is None else sorted(change.remove)
        body = {
            "username": username,
            "scope": scope.value,
            "blocks": list(blocks),
            "fields": fields,
        }
        self._request("POST", "/state/delete-many", json=body)

    def _update(
        self,
        username: str,
        scope: Scope,
        block_key: BlockKey,
        change: BlockChange,
        conditions: Conditions,
    ) -> UserState | None:
        params: dict[str, Any] = {
            "username": username,
            "block": str(block_key),
            "scope": scope.value,
        }
        headers = _precondition_headers(conditions)
        # The change's fields are already one validated JSON object: sent as they are.
        body: str | None
        if change.remove == frozenset():  # a merge
            method, body = "PATCH", change.text or "{}"
        elif change.remove is None and change.text:  # a replacement
            method, body = "PUT", change.text
        else:  # a deletion
            method, body = "DELETE", None
            if change.remove is not None:
                params["fields"] = sorted(change.remove)
        kwargs: dict[str, Any] = {"params": params, "headers": headers}
        if body is not None:
            kwargs["content"] = body.encode()
            headers["Content-Type"] = "application/json"
        response = self._request(method, "/state", **kwargs)
        if response.status_code == 200:
            return self._state(response.json(), block_key, scope)
        if method == "DELETE" and change.remove is not None:
            # Some fields may be left: read what the atomic deletion left.
            return next(
                iter(self._get_many(username, scope, {str(block_key): block_key}, None)), None
            )
        return None

    def _pages(self, path: str, params: dict[str, Any], page_size: int) -> Iterator[dict[str, Any]]:
        """Yield the items of every page, fetching each when the previous one is used up."""
        page = 1
        while True:
            response = self._request(
                "GET", path, params={**params, "page": page, "page_size": page_size}
            )
            yield from response.json()
            if "next_page" not in orjson.loads(response.headers.get("X-Pagination", "{}")):
                return
            page += 1

    def _get_history(self, username: str, scope: Scope, block_key: BlockKey) -> Iterator[UserState]:
        params = {"username": username, "block": str(block_key), "scope": scope.value}
        pages = self._pages("/state/history", params, 100)
        # Fetch the first page now, so that a missing block raises here.
        first = next(pages, None)

        def states() -> Iterator[UserState]:
            if first is None:
                return
            yield self._state(first, block_key, scope)
            for item in pages:
                yield self._state(item, block_key, scope)

        return states()

    def _iter_all_for_block(
        self, block_key: BlockKey, scope: Scope, batch_size: int
    ) -> Iterator[UserState]:
        size = min(batch_size, MAX_PAGE_SIZE)
        params = {"block": str(block_key), "scope": scope.value}
        return (
            self._state(item, block_key, scope)
            for item in self._pages("/state/by-block", params, size)
        )

    def _iter_all_for_course(
        self, course: str, block_type: str | None, scope: Scope, batch_size: int
    ) -> Iterator[UserState]:
        size = min(batch_size, MAX_PAGE_SIZE)
        params = {"course": course, "scope": scope.value}
        if block_type is not None:
            params["block_type"] = block_type
        return (
            self._state(item, self.key_parser(item["block"]), scope)
            for item in self._pages("/state/by-course", params, size)
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()
