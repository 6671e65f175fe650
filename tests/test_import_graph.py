"""The integration's modules import each other in one direction only: no import cycles.

A cycle (say a source importing the coordinator that imports the source) makes the import order
matter, forces imports under TYPE_CHECKING, and couples what should be separate layers.
"""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "custom_components" / "energy_anomaly"
PACKAGE_NAME = "custom_components.energy_anomaly"


def module_name(path: Path) -> str:
    """The module's dotted name inside the package: "runner", "detector.engine", "" for the top."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str) -> bool:
    """Whether `dotted` ("" for the package itself) names a module of the package."""
    path = PACKAGE.joinpath(*dotted.split(".")) if dotted else PACKAGE
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _from_module(package: str, node: ast.ImportFrom) -> str | None:
    """The package module a `from ... import` reads from; None for another distribution."""
    if node.level:
        anchor = package.split(".") if package else []
        anchor = anchor[: len(anchor) - node.level + 1]
        return ".".join([*anchor, *([node.module] if node.module else [])])
    if node.module is not None and node.module.startswith(PACKAGE_NAME):
        return node.module.removeprefix(PACKAGE_NAME).strip(".")
    return None


def package_imports(path: Path) -> set[str]:
    """The package modules `path` imports explicitly (relative or absolute, any nesting)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            base = _from_module(package, node)
            if base is None:
                continue
            submodules = {f"{base}.{alias.name}".strip(".") for alias in node.names}
            imported |= {name for name in submodules if is_module(name)} or {base}
        elif isinstance(node, ast.Import):
            imported |= {
                alias.name.removeprefix(PACKAGE_NAME).strip(".")
                for alias in node.names
                if alias.name.startswith(PACKAGE_NAME)
            }
    return imported - {module}


def import_graph() -> dict[str, set[str]]:
    """Each package module and the package modules it imports."""
    return {module_name(path): package_imports(path) for path in PACKAGE.rglob("*.py")}


def test_the_import_graph_sees_the_shells_layers() -> None:
    graph = import_graph()

    assert {"coordinator", "events", "storage"} <= graph["runner"]
    assert "detector.model" in graph["source"]
    assert "detector.model" in graph["detector.engine"]


def test_no_module_of_the_integration_is_part_of_an_import_cycle() -> None:
    try:
        order = list(TopologicalSorter(import_graph()).static_order())
    except CycleError as err:
        raise AssertionError(f"import cycle: {' -> '.join(err.args[1])}") from err
    assert "runner" in order
