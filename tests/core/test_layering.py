"""Layering is checked: the core imports no plugin, a plugin imports only what it requires."""

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
