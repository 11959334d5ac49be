"""Another LRS over xAPI: statements sent to it, and pulled from it page by page.

Any conformant LRS will do (xAPI-Communication.md 2.1): statements go by
``POST /statements`` in batches, and by ``PUT /statements?statementId=`` one
at a time when a batch is refused as a conflict, to say which statement it
was; they come from ``GET /statements`` oldest first, following ``more``.
"""

from collections.abc import Iterator
from itertools import groupby
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from lrs import strict_json
from lrs.exceptions import UserStateError
from lrs.imports.sources import Item
from lrs.imports.statements import Checked, ImportSummary, version_of
from lrs.xapi.validation import Version

TIMEOUT = httpx.Timeout(60.0, connect=10.0)
#: Statements asked for a page (an LRS may send fewer).
PAGE = 500


class RemoteError(UserStateError):
    """The other LRS cannot be reached, or failed for a reason that is not the data's."""


class RemoteLRS:
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
            auth=auth, timeout=TIMEOUT, transport=transport, headers={"User-Agent": "lrs-import"}
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
        if response.status_code in (401, 403):
            raise RemoteError(
                f"the LRS at {self.endpoint} refused the credentials: {_text(response)}"
            )
        if response.status_code >= 500 or response.status_code == 429:
            raise RemoteError(
                f"the LRS at {self.endpoint} failed ({response.status_code}): {_text(response)}"
            )
        return response

    def pages(self, since: str | None = None, version: Version = Version.V1_0_3) -> Iterator[Item]:
        """Every statement the LRS holds (stored after ``since``), oldest first."""
        first = {"ascending": "true", "limit": str(PAGE)}
        if since is not None:
            first["since"] = since
        params: dict[str, str] | None = first
        url = urljoin(self.endpoint, "statements")
        page = 0
        while True:
            page += 1
            response = self.request("GET", url, version, params=params)
            if response.status_code != 200:
                raise RemoteError(f"GET {url} answered {response.status_code}: {_text(response)}")
            try:
                result = strict_json.loads(response.content, "StatementResult")
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
            url, params = urljoin(self.endpoint, more), None


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
            summary.stored += len(batch)
            return
        url = urljoin(self.remote.endpoint, "statements")
        for version, group in groupby(batch, key=lambda item: version_of(item.statement)):
            part = list(group)
            body = orjson.dumps([checked.statement for checked in part])
            response = self.remote.request(
                "POST", url, version, content=body, headers={"Content-Type": "application/json"}
            )
            if response.status_code == 200:
                summary.stored += len(part)
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
            summary.stored += 1
        elif response.status_code == 409:
            summary.conflicts.append((checked.where, checked.prepared.id))
        elif response.status_code == 400:
            summary.invalid.append((checked.where, f"refused by the LRS: {_text(response)}"))
        else:
            raise RemoteError(f"PUT {url} answered {response.status_code}: {_text(response)}")
