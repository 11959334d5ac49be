"""The layout's promises: interfaces import no driver, the package imports no test tool."""

import subprocess
import sys

import pytest

PACKAGES = [
    "lrs.clients",
    "lrs.history",
    "lrs.credentials",
    "lrs.enrollments",
    "lrs.xapi.statements",
    "lrs.xapi.documents",
    "lrs.xapi.activities",
    "lrs.xapi.attachments",
]


def imported_after(code):
    """The modules loaded by running ``code`` in a fresh interpreter."""
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(result.stdout.split())


@pytest.mark.parametrize("package", PACKAGES)
def test_an_interface_and_its_memory_backend_need_no_mongodb_driver(package):
    loaded = imported_after(f"import {package}")
    assert "pymongo" not in loaded
    assert "pytest" not in loaded


def test_a_memory_client_needs_no_mongodb_driver():
    loaded = imported_after("from lrs.clients import connect\nconnect('memory://')")
    assert "pymongo" not in loaded


def test_importing_lrs_and_the_test_helpers_imports_no_test_tool():
    loaded = imported_after("import lrs, lrs.api, lrs.testing\nfrom lrs.testing import user, block")
    assert "pytest" not in loaded and "hypothesis" not in loaded


@pytest.mark.parametrize("package", PACKAGES)
def test_the_mongodb_backend_is_there_when_asked_for(package):
    module = __import__(package, fromlist=["__all__"])
    (mongo,) = [name for name in module.__all__ if name.startswith("Mongo")]
    assert getattr(module, mongo).__module__.endswith(".mongo")
