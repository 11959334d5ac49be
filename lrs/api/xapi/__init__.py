"""The xAPI interface at ``/xAPI``: one blueprint (``blueprint``), its routes, ``install``.

``about``, ``documents`` and ``statements`` put their routes on the blueprint
when imported, before ``install`` registers it.
"""

from lrs.api.xapi import about, documents, statements
from lrs.api.xapi.blueprint import install

__all__ = ["about", "documents", "install", "statements"]
