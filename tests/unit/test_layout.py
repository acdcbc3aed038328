"""The test tree's own layout: code the tests share lives in tests/helpers, and only there.

A test module importing another test module ties two unrelated files together: the
imported one's import-time code runs for the other, a rename or a split in one breaks the
other, and pytest collects any test function the import brings in a second time. So no
module under tests/ may import tests.<anything> but tests.helpers (conftest.py included:
its fixtures reach the tests through pytest, its constants live in helpers).
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
SHARED = "tests.helpers"


def module_name(path: Path) -> str:
    """The dotted name of a file under the repository: tests/unit/x.py is tests.unit.x."""
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, path: Path) -> Iterator[tuple[int, str]]:
    """The line and the absolute name of each module the source imports, however spelt.

    ``from package import name`` counts as importing ``package.name`` when ``package`` is
    ``tests`` itself, since that is how a test module would reach another one from there.
    Relative imports are resolved against the file's own package.
    """
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if node.module and base != "tests":
                yield node.lineno, base
            else:
                for alias in node.names:
                    yield node.lineno, f"{base}.{alias.name}"


def is_shared(name: str) -> bool:
    return name == SHARED or name.startswith(SHARED + ".")


def imports_of_other_test_code(source: str, path: Path) -> list[str]:
    """Each import of a module of tests/ other than the helpers, as "file:line name"."""
    where = path.relative_to(REPO)
    return [
        f"{where}:{line} {name}"
        for line, name in imported_modules(source, path)
        if (name == "tests" or name.startswith("tests.")) and not is_shared(name)
    ]


def python_files() -> list[Path]:
    """Every Python file under tests/, helpers and conftest files included."""
    return sorted(TESTS.rglob("*.py"))


# The checker itself, on imports written for the purpose: it must see each way of spelling one.
FLAGGED = [
    ("tests/functional/test_x.py", "from tests.functional.test_accounts import log_in"),
    ("tests/functional/test_x.py", "import tests.unit.services.analytics.test_index_totals"),
    ("tests/functional/test_x.py", "from tests.conftest import SHARED_DATA"),
    ("tests/functional/test_x.py", "from tests import conftest"),
    ("tests/functional/test_x.py", "from tests import functional"),
    ("tests/functional/test_x.py", "from .test_accounts import log_in"),
    ("tests/functional/test_x.py", "from . import test_accounts"),
    ("tests/unit/services/test_x.py", "from ...functional.test_files import StoredFile"),
    ("tests/helpers/x.py", "from tests.functional.test_upload import twine_fields"),
    ("tests/functional/test_x.py", "def helper():\n    from tests.unit import test_config\n"),
]
ALLOWED = [
    ("tests/functional/test_x.py", "from tests.helpers.accounts import log_in"),
    ("tests/functional/test_x.py", "from tests.helpers import factories"),
    ("tests/functional/test_x.py", "from tests import helpers"),
    ("tests/functional/test_x.py", "import tests.helpers.dists"),
    ("tests/functional/test_x.py", "from wheelyard.app import create_app"),
    ("tests/helpers/x.py", "from . import factories"),
    ("tests/helpers/x.py", "from .dists import wheel"),
    ("tests/unit/test_x.py", "from benchmarks.soak_load import percentile"),
]


@pytest.mark.parametrize(("path", "source"), FLAGGED)
def test_the_checker_flags_an_import_of_test_code(path: str, source: str) -> None:
    assert imports_of_other_test_code(source, REPO / path) != []


@pytest.mark.parametrize(("path", "source"), ALLOWED)
def test_the_checker_allows_the_helpers_and_everything_outside_tests(
    path: str, source: str
) -> None:
    assert imports_of_other_test_code(source, REPO / path) == []


def test_no_test_module_imports_another_or_conftest() -> None:
    files = python_files()
    assert len(files) > 100, "the walk found too few files to have looked at the tree"
    found = [
        offence for path in files for offence in imports_of_other_test_code(path.read_text(), path)
    ]
    assert found == [], "move what these import into tests/helpers:\n" + "\n".join(found)


def test_conftest_plugins_are_helpers_that_exist() -> None:
    # pytest_plugins names modules by string, out of the import check's sight.
    plugins: list[str] = []
    for path in TESTS.rglob("conftest.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "pytest_plugins"
                for target in node.targets
            ):
                plugins.extend(ast.literal_eval(node.value))
    assert "tests.helpers.s3_server" in plugins
    for plugin in plugins:
        assert is_shared(plugin), plugin
        assert importlib.util.find_spec(plugin) is not None, plugin
