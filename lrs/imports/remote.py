"""Another LRS over xAPI: statements sent to it, and pulled from it page by page.

Any conformant LRS will do (xAPI-Communication.md 2.1): statements go by
``POST /statements`` in batches, and by ``PUT /statements?statementId=`` one
at a time when a batch is refused as a conflict, to say which statement it
was; they come from ``GET /statements`` oldest first, following ``more``.
"""

import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import orjson

from lrs import strict_json
from lrs.closeable import Closeable
from lrs.exceptions import UserStateError
from lrs.imports.sources import Item
from lrs.imports.statements import CONFLICT, INVALID, STORED, Checked, ImportSummary, version_of
from lrs.xapi.validation import Version

# A read that waits longer than this for the next bytes fails; a source that
# sends a byte now and then is stopped by the deadlines below.
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
#: Statements asked for a page (an LRS may send fewer).
PAGE = 500


@dataclass(frozen=True)
class Bounds:
    """How far a pull from another LRS may go before it stops with an error.

    The defaults let through a whole LRS of ten million statements (pages of
    500, each well under 64 MB, at a few seconds a page) and nothing that
    never ends: a ``more`` link that repeats, a page that grows without end,
    a source that sends a byte now and then.
    """

    pages: int = 20_000
    seconds: float = 6 * 3600.0
    page_bytes: int = 64 * 1024 * 1024
    page_seconds: float = 300.0


class RemoteError(UserStateError):
    """The other LRS cannot be reached, or failed for a reason that is not the data's."""


class _OriginAuth(httpx.Auth):
    """Basic credentials, sent to one origin only (whatever URL a response names)."""

    def __init__(self, auth: tuple[str, str], origin: tuple[str, str, int | None]) -> None:
        """Send ``auth`` to ``origin`` (scheme, host, port) only."""
        self._basic = httpx.BasicAuth(*auth)
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the credentials when the request goes to the origin."""
        if _origin(str(request.url)) == self._origin:
            yield from self._basic.auth_flow(request)
        else:
            yield request


class RemoteLRS(Closeable):
    """The xAPI endpoint of an LRS (``http://host:port/xAPI``), with Basic credentials."""

    def __init__(
        self,
        endpoint: str,
        auth: tuple[str, str],
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Talk to the LRS at ``endpoint``; ``transport`` is for tests."""
        self.endpoint = endpoint.rstrip("/") + "/"
        self._http = httpx.Client(
            auth=_OriginAuth(auth, _origin(self.endpoint)),
            timeout=TIMEOUT,
            transport=transport,
            headers={"User-Agent": "lrs-import"},
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def request(self, method: str, url: str, version: Version, **kwargs: Any) -> httpx.Response:
        """Send one request; an unreachable LRS or a server error raises ``RemoteError``."""
        headers = {"X-Experience-API-Version": str(version), **kwargs.pop("headers", {})}
        try:
            response = self._http.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise RemoteError(f"the LRS at {self.endpoint} cannot be reached: {exc}") from exc
        self._check(response)
        return response

    def _check(self, response: httpx.Response) -> None:
        """Raise ``RemoteError`` for refused credentials and the LRS's own failures."""
        if response.status_code in (401, 403):
            raise RemoteError(
                f"the LRS at {self.endpoint} refused the credentials: {_text(response)}"
            )
        if response.status_code >= 500 or response.status_code == 429:
            raise RemoteError(
                f"the LRS at {self.endpoint} failed ({response.status_code}): {_text(response)}"
            )

    def pages(
        self,
        since: str | None = None,
        version: Version = Version.V1_0_3,
        bounds: Bounds = Bounds(),
    ) -> Iterator[Item]:
        """Every statement the LRS holds (stored after ``since``), oldest first.

        Raises:
            RemoteError: the LRS cannot be reached or fails; or the pull goes
                beyond ``bounds``; or a ``more`` link repeats or leaves the
                LRS's origin (its credentials go nowhere else).
        """
        first = {"ascending": "true", "limit": str(PAGE)}
        if since is not None:
            first["since"] = since
        params: dict[str, str] | None = first
        url = urljoin(self.endpoint, "statements")
        deadline = time.monotonic() + bounds.seconds
        followed = {url}
        page = 0
        while True:
            page += 1
            if page > bounds.pages:
                raise RemoteError(
                    f"stopped after {bounds.pages:,} pages from {self.endpoint} (--max-pages)"
                )
            content = self._page(url, params, version, bounds, deadline)
            try:
                result = strict_json.loads(content, "StatementResult")
                statements = result["statements"]
            except (strict_json.JSONError, TypeError, KeyError) as exc:
                raise RemoteError(f"GET {url} answered no StatementResult: {exc}") from None
            for index, statement in enumerate(statements):
                yield Item(f"page {page}, statements[{index}]", statement)
            more = result.get("more") or ""
            if not more:
                return
            # ``more`` is relative to the LRS's address (Communication 2.1.3).
            # (No params then: httpx would replace the link's query with them.)
            url, params = urljoin(self.endpoint, str(more)), None
            if _origin(url) != _origin(self.endpoint):
                raise RemoteError(
                    f"page {page} of {self.endpoint} links to another site ({_origin(url)}): "
                    "stopped, and its credentials were not sent there"
                )
            if url in followed:
                raise RemoteError(
                    f"page {page} of {self.endpoint} links to a page read already ({more}): "
                    "stopped (its more links go round in a circle)"
                )
            followed.add(url)

    def _page(
        self,
        url: str,
        params: dict[str, str] | None,
        version: Version,
        bounds: Bounds,
        deadline: float,
    ) -> bytes:
        """One page's body, read within the bounds (a deadline, a size)."""
        headers = {"X-Experience-API-Version": str(version)}
        until = min(deadline, time.monotonic() + bounds.page_seconds)
        try:
            with self._http.stream("GET", url, params=params, headers=headers) as response:
                if response.status_code != 200:
                    response.read()
                    self._check(response)
                    raise RemoteError(
                        f"GET {url} answered {response.status_code}: {_text(response)}"
                    )
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > bounds.page_bytes:
                    raise RemoteError(_too_big(url, bounds))
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > bounds.page_bytes:
                        raise RemoteError(_too_big(url, bounds))
                    if time.monotonic() > until:
                        raise RemoteError(
                            f"GET {url} took longer than "
                            + (
                                f"{bounds.page_seconds:g} s for one page"
                                if until < deadline
                                else f"the {bounds.seconds:g} s the pull may take (--time-limit)"
                            )
                        )
                return bytes(body)
        except httpx.TransportError as exc:
            raise RemoteError(f"the LRS at {self.endpoint} cannot be reached: {exc}") from exc


def _too_big(url: str, bounds: Bounds) -> str:
    return (
        f"GET {url} answered a page of more than {bounds.page_bytes:,} bytes: "
        "stopped (--max-page-bytes)"
    )


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: where a URL's requests go."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _text(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.text))[:300]
    except (ValueError, AttributeError):
        return response.text[:300] or response.reason_phrase


class RemoteTarget:
    """Another LRS: each batch is POSTed, split by the xAPI version of its statements."""

    def __init__(self, remote: RemoteLRS) -> None:
        """Send to ``remote``."""
        self.remote = remote

    def send(self, batch: list[Checked], summary: ImportSummary, dry_run: bool) -> None:
        """POST the batch; on a conflict, PUT one by one to say which.

        The other LRS does not say which statements it held already: every
        statement it accepts counts as stored.
        """
        if dry_run:
            for checked in batch:
                summary.note(checked.where, checked.prepared.id, STORED)
            return
        url = urljoin(self.remote.endpoint, "statements")
        for version, group in groupby(batch, key=lambda item: version_of(item.statement)):
            part = list(group)
            body = orjson.dumps([checked.statement for checked in part])
            response = self.remote.request(
                "POST", url, version, content=body, headers={"Content-Type": "application/json"}
            )
            if response.status_code == 200:
                for checked in part:
                    summary.note(checked.where, checked.prepared.id, STORED)
                continue
            if response.status_code not in (400, 409):
                raise RemoteError(f"POST {url} answered {response.status_code}: {_text(response)}")
            for checked in part:
                self._put(url, version, checked, summary)

    def _put(self, url: str, version: Version, checked: Checked, summary: ImportSummary) -> None:
        response = self.remote.request(
            "PUT",
            url,
            version,
            params={"statementId": checked.prepared.id},
            content=orjson.dumps(checked.statement),
            headers={"Content-Type": "application/json"},
        )
        if response.status_code in (200, 204):
            summary.note(checked.where, checked.prepared.id, STORED)
        elif response.status_code == 409:
            summary.note(checked.where, checked.prepared.id, CONFLICT)
        elif response.status_code == 400:
            reason = f"refused by the LRS: {_text(response)}"
            summary.note(checked.where, checked.prepared.id, INVALID, reason)
        else:
            raise RemoteError(f"PUT {url} answered {response.status_code}: {_text(response)}")
