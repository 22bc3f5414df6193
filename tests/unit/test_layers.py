"""The architecture's import rules, read from the source: the HTTP layer names no driver,
and only the shared AMQP layer declares, publishes or connects."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVERS = {"pymongo", "bson", "gridfs", "aio_pika", "aiormq", "motor"}
AMQP_CALLS = {"declare_queue", "declare_exchange", "connect", "connect_robust", "channel"}


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", python_files("gateway/src/ecg_gateway/api"), ids=lambda path: path.name
)
def test_the_http_layer_imports_no_driver(path: Path) -> None:
    assert not imported_modules(path) & DRIVERS


def test_contracts_import_no_client_library() -> None:
    for path in python_files("contracts/src"):
        assert not imported_modules(path) & DRIVERS, path


def aio_pika_imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(a.name for a in node.names if a.name.split(".")[0] == "aio_pika")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "aio_pika":
            modules.add(str(node.module))
    return modules


@pytest.mark.parametrize(
    "path",
    python_files("gateway/src") + python_files("analyzer/src"),
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_only_the_amqp_layer_declares_publishes_or_connects(path: Path) -> None:
    """The services may name aio-pika's types; declaring, building messages, opening
    connections and channels is ``ecg_amqp``'s job alone."""
    assert aio_pika_imports(path) <= {"aio_pika.abc"}
    calls = [
        f"{node.func.attr} at line {node.lineno}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in AMQP_CALLS
    ]
    assert not calls


@pytest.mark.parametrize(
    "path", python_files("gateway/src"), ids=lambda path: str(path.relative_to(ROOT))
)
def test_the_gateway_stays_numpy_free(path: Path) -> None:
    """Its image stays small and its plots are drawn with the standard library."""
    assert not imported_modules(path) & {"numpy", "scipy", "pandas"}
