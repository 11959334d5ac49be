"""Learner state on a remote ``lrs`` server, over its REST API (``/api/v1/state``).

Every ``*_many`` call is one HTTP request; connections are pooled and reused.
The client checks its arguments locally first (scopes, usernames, JSON values),
so it raises the same errors as the local backends before anything is sent.
"""

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx
import orjson

from lrs import strict_json
from lrs.clients.base import (
    BlockKey,
    KeyParser,
    Scope,
    UserState,
    UserStateClient,
    block_location,
    check_batch_size,
    check_fields,
    check_username,
    distinct_keys,
)
from lrs.clients.values import encode_state
from lrs.exceptions import DoesNotExist, PermissionDenied, ServiceUnavailable, UserStateError

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# The server's largest page (lrs.api.pagination.MAX_PAGE_SIZE).
MAX_PAGE_SIZE = 1000


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
            base_url=base_url.rstrip("/") + "/api/v1/state",
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
            raise ValueError(message)
        raise UserStateError(f"unexpected answer {response.status_code}: {message}")

    @staticmethod
    def _state(item: dict[str, Any], key: BlockKey, scope: Scope) -> UserState:
        return UserState(
            item["username"], key, item["state"], datetime.fromisoformat(item["updated"]), scope
        )

    def get_many(
        self,
        username: str,
        block_keys: Iterable[BlockKey],
        scope: object = Scope.user_state,
        fields: Iterable[str] | None = None,
    ) -> Iterator[UserState]:
        """Return the stored state of several blocks in one request (see ``UserStateClient``)."""
        check_username(username)
        scope = Scope.coerce(scope)
        names = check_fields(fields)
        keys = distinct_keys(block_keys)
        if not keys:
            return iter(())
        body = {"username": username, "scope": scope.value, "blocks": list(keys), "fields": names}
        results = self._request("POST", "/get-many", json=body).json()["results"]
        return iter([self._state(item, keys[item["block"]], scope) for item in results])

    def set_many(
        self,
        username: str,
        block_keys_to_state: Mapping[BlockKey, Mapping[str, Any]],
        scope: object = Scope.user_state,
    ) -> None:
        """Overlay new fields on several blocks in one request (see ``UserStateClient``)."""
        check_username(username)
        scope = Scope.coerce(scope)
        states = {}
        locations = {}
        for key, state in block_keys_to_state.items():
            block = str(key)
            # Validate here, so errors name the block and field as elsewhere.
            encode_state(block, state)
            states[block] = dict(state)
            if not isinstance(key, str):
                # Only the key object knows a location its string does not show.
                course, block_type = block_location(key)
                locations[block] = {"course": course, "block_type": block_type}
        if not any(states.values()):
            return
        body = {"username": username, "scope": scope.value, "states": states}
        if locations:
            body["locations"] = locations
        self._request("POST", "/set-many", json=body)

    def delete_many(
        self,
        username: str,
        block_keys: Iterable[BlockKey],
        scope: object = Scope.user_state,
        fields: Iterable[str] | None = None,
    ) -> None:
        """Delete fields, or whole blocks, in one request (see ``UserStateClient``)."""
        check_username(username)
        scope = Scope.coerce(scope)
        names = check_fields(fields)
        blocks = list(distinct_keys(block_keys))
        if not blocks or names == []:
            return
        body = {"username": username, "scope": scope.value, "blocks": blocks, "fields": names}
        self._request("POST", "/delete-many", json=body)

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

    def get_history(
        self,
        username: str,
        block_key: BlockKey,
        scope: object = Scope.user_state,
    ) -> Iterator[UserState]:
        """Return one block's history, newest first (see ``UserStateClient``)."""
        check_username(username)
        scope = Scope.coerce(scope)
        params = {"username": username, "block": str(block_key), "scope": scope.value}
        pages = self._pages("/history", params, 100)
        # Fetch the first page now, so that a missing block raises here.
        first = next(pages, None)

        def states() -> Iterator[UserState]:
            if first is None:
                return
            yield self._state(first, block_key, scope)
            for item in pages:
                yield self._state(item, block_key, scope)

        return states()

    def iter_all_for_block(
        self,
        block_key: BlockKey,
        scope: object = Scope.user_state,
        batch_size: int | None = None,
    ) -> Iterator[UserState]:
        """Yield every learner's state in one block (see ``UserStateClient``)."""
        scope = Scope.coerce(scope)
        size = min(check_batch_size(batch_size), MAX_PAGE_SIZE)
        params = {"block": str(block_key), "scope": scope.value}
        return (
            self._state(item, block_key, scope) for item in self._pages("/by-block", params, size)
        )

    def iter_all_for_course(
        self,
        course_key: object,
        block_type: str | None = None,
        scope: object = Scope.user_state,
        batch_size: int | None = None,
    ) -> Iterator[UserState]:
        """Yield every state in a course (see ``UserStateClient``)."""
        scope = Scope.coerce(scope)
        size = min(check_batch_size(batch_size), MAX_PAGE_SIZE)
        params = {"course": str(course_key), "scope": scope.value}
        if block_type is not None:
            params["block_type"] = block_type
        return (
            self._state(item, self.key_parser(item["block"]), scope)
            for item in self._pages("/by-course", params, size)
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()
