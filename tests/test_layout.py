"""The layout's promises: interfaces import no driver, the package imports no test tool."""

import ast
import subprocess
import sys
from pathlib import Path

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
    "lrs.progress",
    "lrs.erasure",
    "lrs.exports",
    "lrs.assignments",
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
def test_every_package_face_offers_its_backends_the_same_way(package):
    """The interface and the memory backend at once; SQLite and MongoDB when asked for."""
    module = __import__(package, fromlist=["__all__"])
    for prefix, suffix in (("Memory", ".memory"), ("Sqlite", ".sqlite"), ("Mongo", ".mongo")):
        (backend,) = [name for name in module.__all__ if name.startswith(prefix)]
        assert getattr(module, backend).__module__.endswith(suffix), backend


def test_serving_memory_or_sqlite_loads_no_mongodb_driver(tmp_path):
    code = (
        "import lrs.api, lrs.cli\n"
        "from lrs.api import create_app\n"
        "from lrs.usecases.storage import open_storage\n"
        f"open_storage('sqlite:///{tmp_path}/lrs.db').close()\n"
        "create_app({'TESTING': True}, storage=open_storage('memory://'))"
    )
    assert "pymongo" not in imported_after(code)


# -- the floors ------------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parent.parent / "lrs"

#: Each floor, lowest first; a module imports from its own floor or those below.
FLOORS = [
    (
        "ground",
        {
            "lrs",
            "lrs.clock",
            "lrs.closeable",
            "lrs.conditions",
            "lrs.exceptions",
            "lrs.lazy",
            "lrs.mongo",
            "lrs.patterns",
            "lrs.retries",
            "lrs.settings",
            "lrs.sqlite",
            "lrs.strict_json",
            "lrs.urls",
            "lrs.usernames",
        },
    ),
    (
        "domains",
        {
            "lrs.assignments",
            "lrs.clients",
            "lrs.credentials",
            "lrs.enrollments",
            "lrs.erasure",
            "lrs.exports",
            "lrs.history",
            "lrs.progress",
            "lrs.sqlite_schema",
            "lrs.xapi",
        },
    ),
    ("use cases", {"lrs.usecases"}),
    ("doors", {"lrs.api", "lrs.cli", "lrs.imports", "lrs.serve", "lrs.web"}),
    ("contract suites", {"lrs.testing"}),
]


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def floor_of(module):
    """The floor of a module: that of the longest listed name it is or is inside."""
    found = None
    for index, (_, names) in enumerate(FLOORS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and (
                found is None or len(name) > len(found[1])
            ):
                found = (index, name)
    assert found is not None, f"{module} is on no floor: add it to FLOORS"
    return found[0]


def imports_of(path, module):
    """Every lrs module ``path`` imports, at its top or inside a function."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("lrs"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("lrs"):
                for alias in node.names:
                    yield f"{node.module}.{alias.name}"


def known(name, modules):
    """``name`` cut to the module it names (an import may name a class in it)."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def graph():
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {
        module: {known(name, paths) for name in imports_of(path, module)} - {module}
        for module, path in paths.items()
    }


def test_every_module_imports_only_from_its_floor_or_below():
    upward = [
        f"{module} ({FLOORS[floor_of(module)][0]}) imports {name} ({FLOORS[floor_of(name)][0]})"
        for module, names in graph().items()
        for name in names
        if floor_of(name) > floor_of(module)
    ]
    assert upward == []


def test_no_module_imports_itself_back_through_others():
    edges = graph()
    circles = []
    for start in sorted(edges):
        # A walk from each module's imports: finding the module again is a circle.
        seen, todo = set(), list(edges[start])
        while todo:
            module = todo.pop()
            if module == start:
                circles.append(start)
                break
            if module not in seen:
                seen.add(module)
                todo.extend(edges.get(module, ()))
    assert circles == []
