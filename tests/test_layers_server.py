"""The server's layering, read from its source: app composes the domains, nothing composes app.

Layers, top down: the entry points (`server/cli.py`, `server/__main__.py`) and the composition
root `server/app/`; the domain packages (`server/<domain>/`); `server/db/` and the kernel modules
at the top of `server/` (config, context, errors, metrics, fields, tls, accesslog, patterns).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "server"
ENTRY_POINTS = {"server.cli", "server.__main__"}
MAX_TOP_MODULES = 12
# What the kernel's `server.config` validates sections with (a domain's `[section]` model, the
# time zone check); each imports nothing of the server.
SECTION_MODELS = {"server.mqtt.config", "server.reports.timezone"}
# `AppContext` types the parts every route reaches (the alert store, the inbound writer), so it
# sits above the stores it names and below the routes and plugins; the cycle test keeps it honest.
CONTEXT = "server.context"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(SERVER.rglob("*.py"))}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports run when the module loads (module body and plain `if`/`try`, not TYPE_CHECKING)."""
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and not is_type_checking(node):
            todo.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            todo.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                todo.extend(handler.body)


def targets(node: ast.Import | ast.ImportFrom, importer: str) -> Iterator[str]:
    """The server modules an import statement loads (a package's `__init__` included, unless
    it is the importer's own package, which is already loading)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        names = [base] + [f"{base}.{alias.name}" for alias in node.names]
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in MODULES and prefix != "server" and not importer.startswith(prefix + "."):
                yield prefix


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        edges[name] = {t for node in top_level_imports(tree) for t in targets(node, name)} - {name}
    return edges


def layer_of(module: str) -> str:
    """'entry', 'app', a domain's name, or 'kernel' (top-level modules)."""
    if module in ENTRY_POINTS:
        return "entry"
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and MODULES[module].name != "__init__.py"):
        return "kernel"
    return parts[1]


def test_no_domain_or_kernel_module_imports_the_composition_root() -> None:
    for module, deps in graph().items():
        if layer_of(module) in ("entry", "app"):
            continue
        wrong = sorted(d for d in deps if layer_of(d) in ("entry", "app"))
        assert not wrong, f"{module} imports the composition root: {wrong}"


def test_db_and_the_kernel_import_no_domain() -> None:
    for module, deps in graph().items():
        if layer_of(module) not in ("db", "kernel") or module == CONTEXT:
            continue
        wrong = sorted(
            d
            for d in deps
            if layer_of(d) not in ("db", "kernel")
            and not any(s == d or s.startswith(d + ".") for s in SECTION_MODELS)
        )
        assert not wrong, f"{module} (a lower layer) imports {wrong}"


DRIVERS = {"sqlite3", "sqlite_utils", "psycopg", "psycopg_pool"}


def test_only_the_seam_imports_a_database_driver() -> None:
    """Stores reach the database through `server.db.engine.Database`, never a driver."""
    for name, path in MODULES.items():
        if name.startswith(("server.db", "server.postgres")):
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                found = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not found & DRIVERS, f"{name} imports {sorted(found & DRIVERS)}"


def test_section_models_import_nothing_of_the_server() -> None:
    """`server.config` registers each domain's config section, so those import only pydantic."""
    edges = graph()
    for module in SECTION_MODELS:
        assert module in edges, module
        assert not edges[module], (module, edges[module])


def test_the_import_graph_has_no_cycle() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for dep in sorted(edges.get(node, ())):
            if state.get(dep) == 1:
                cycle = [*path[path.index(dep) :], dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        path.pop()
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


def test_no_import_hides_inside_a_function() -> None:
    """A lazy import hides a cycle; an optional dependency may, with a comment saying so."""
    for name, path in MODULES.items():
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source, str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    line = lines[inner.lineno - 1]
                    assert "# optional" in line, f"{name}:{inner.lineno}: {line.strip()}"


def test_the_top_of_server_stays_small_and_modules_stay_short() -> None:
    top = sorted(p.name for p in SERVER.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top
    for name, path in MODULES.items():
        count = len(path.read_text().splitlines())
        assert count <= MAX_LINES, f"{name} has {count} lines"


def test_the_checker_sees_the_domains() -> None:
    """Guards the test itself: it must find the packages and real edges between them."""
    edges = graph()
    assert "server.app" in edges
    assert "server.alerts.store" in edges
    assert any(layer_of(d) == "alerts" for d in edges["server.app"])


def test_plugin_state_lives_on_the_typed_context_not_app_state() -> None:
    """`app.state` carries the `AppContext` and nothing else (no untyped registries)."""
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "state"
                and isinstance(node.value.value, ast.Attribute | ast.Name)
                and getattr(node.value.value, "attr", getattr(node.value.value, "id", "")) == "app"
            ):
                assert node.attr == "ctx", f"{name}:{node.lineno}: app.state.{node.attr}"
