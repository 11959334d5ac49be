"""Backends imported on first use, so that an interface does not import a driver it may not use."""

from collections.abc import Mapping
from importlib import import_module
from typing import Any


def lazy_attribute(package: str, name: str, modules: Mapping[str, str]) -> Any:
    """The attribute ``name`` of ``package``, imported from the module ``modules`` names for it.

    For a package's module-level ``__getattr__`` (PEP 562).

    Raises:
        AttributeError: ``modules`` names no module for ``name``.
    """
    if name not in modules:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return getattr(import_module(modules[name]), name)
