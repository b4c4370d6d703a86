"""Layering is checked: the core imports no plugin, a plugin imports only what it requires."""

from pathlib import Path

import grimp

from erp_core.app import create_app
from tests.conftest import base_config


def _graph():
    return grimp.build_graph("erp_core", "plugins", include_external_packages=False)


def test_core_imports_no_plugin():
    graph = _graph()
    chains = graph.find_shortest_chains(importer="erp_core", imported="plugins")
    assert not chains, f"erp_core imports a plugin: {sorted(chains)}"


def test_plugins_import_only_what_they_require(tmp_path):
    app = create_app(base_config(f"sqlite:///{tmp_path / 'x.sqlite'}"), instance=tmp_path)
    manager = app.extensions["erp_plugins"]
    graph = _graph()
    problems = []
    names = manager.loaded_names
    for name in names:
        allowed = set(manager.records[name].meta.requires)
        for other in names:
            if other == name or other in allowed:
                continue
            if graph.chain_exists(importer=f"plugins.{name}", imported=f"plugins.{other}", as_packages=True):
                problems.append(f"{name} imports {other}, which it does not declare in requires")
    assert problems == []


def _api_modules(graph) -> set[str]:
    """Every plugin's API modules: ``plugins.<name>.rest_api`` (a module or a package) and
    anything named like a schema module of its own."""
    return {module for module in graph.modules
            if module.startswith("plugins.") and len(module.split(".")) > 2
            and module.split(".")[2] in ("rest_api", "rest_schema", "rest_schemas", "api_schemas")}


def _marshmallow_extensions(path) -> list[str]:
    """Names in a module that make validators or fields of their own (rather than the core's)."""
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("validate", "fields") and ast.unparse(node) in (
                "ma.validate", "marshmallow.validate"):
            found.append(f"{path.name}:{node.lineno} uses {ast.unparse(node)} (use erp_core.api.schemas)")
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                text = ast.unparse(base)
                if text.startswith(("ma.fields.", "marshmallow.fields.", "fields.")):
                    found.append(f"{path.name}:{node.lineno} subclasses {text} (use erp_core.api.schemas)")
        if isinstance(node, ast.ImportFrom) and node.module in ("marshmallow.validate", "marshmallow.fields"):
            found.append(f"{path.name}:{node.lineno} imports from {node.module}")
    return found


def test_api_schemas_come_from_the_core_only():
    """One schema layer: plugins' rest_api modules build their schemas from erp_core.api.schemas,
    define no validators or fields of their own, and no plugin imports another's API module."""
    import importlib
    from pathlib import Path

    graph = _graph()
    api_modules = _api_modules(graph)
    assert "plugins.orders.rest_schema" not in graph.modules
    assert {"plugins.orders.rest_api", "plugins.support.rest_api.tickets"} <= api_modules
    problems = []
    for module in sorted(m for m in graph.modules if m.startswith("plugins.")):
        owner = module.split(".")[1]
        for imported in graph.find_modules_directly_imported_by(module):
            if imported in api_modules and imported.split(".")[1] != owner:
                problems.append(f"{module} imports {imported}, the API module of another plugin")
    for module in sorted(api_modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("erp_core.api.") and imported not in (
                    "erp_core.api.schemas", "erp_core.api.pagination", "erp_core.api.idempotency"):
                problems.append(f"{module} imports {imported}")
            if imported == "erp_core.api.pagination":
                names = {d["line_contents"] for d in graph.get_import_details(importer=module, imported=imported)}
                if any("import paginate" not in line for line in names):
                    problems.append(f"{module}: only paginate comes from erp_core.api.pagination ({names})")
        problems += [f"{module}: {p}" for p in
                     _marshmallow_extensions(Path(importlib.import_module(module).__file__))]
    assert problems == []


# A plugin offering a surface to the plugins that require it: only these modules may be imported.
SURFACES = {"orders": {"plugins.orders.public", "plugins.orders.hookspecs"}}
# ... and to their test helpers (``plugins/<p>/testing.py``) only: its builders for tests.
TEST_SURFACES = {"orders": {"plugins.orders.testing"}}


def test_plugins_use_a_required_plugin_only_through_its_public_surface():
    graph = _graph()
    problems = []
    for owner, surface in SURFACES.items():
        for module in sorted(graph.modules):
            if not module.startswith("plugins.") or module.startswith(f"plugins.{owner}"):
                continue
            allowed = surface | (TEST_SURFACES.get(owner, set()) if module.endswith(".testing") else set())
            for imported in graph.find_modules_directly_imported_by(module):
                if imported.startswith(f"plugins.{owner}.") and imported not in allowed or imported == f"plugins.{owner}":
                    problems.append(f"{module} imports {imported}; use {' or '.join(sorted(surface))}")
    assert problems == []


def test_no_module_of_the_core_or_a_plugin_is_over_600_lines():
    """Small modules one can hold in mind (migrations aside): split along the seams before."""
    root = Path(__file__).resolve().parents[2]
    too_long = []
    for path in [*root.glob("erp_core/**/*.py"), *root.glob("plugins/**/*.py")]:
        if "migrations" in path.parts or "scaffold" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > 600:
            too_long.append(f"{path.relative_to(root)}: {lines} lines")
    assert too_long == []
