"""The import contracts (pyproject.toml, checked by `lint-imports` in `make test`) cover
every part of smsgw: a new package or module that no contract names would slip past
them, so this fails until it is given its place (docs/architecture.md, "The layers")."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import smsgw

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _contracts() -> list[dict[str, Any]]:
    with PYPROJECT.open("rb") as file:
        config = tomllib.load(file)
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _top_level_modules() -> set[str]:
    """Every package and module directly under smsgw (smsgw.cli_demo, smsgw.service…)."""
    return {f"smsgw.{info.name}" for info in pkgutil.iter_modules(smsgw.__path__)}


def _layered_modules() -> list[str]:
    """The modules the layers contract places, as often as it places them."""
    [layers] = [contract for contract in _contracts() if contract["type"] == "layers"]
    names: list[str] = []
    for layer in layers["layers"]:
        for separator in ("|", ":"):
            layer = layer.replace(separator, " ")
        names.extend(layer.split())
    return names


def _is_cli(module: str) -> bool:
    """smsgw/cli.py and smsgw/cli_*.py: the commands, which may run the simulator."""
    return module == "smsgw.cli" or module.startswith("smsgw.cli_")


def test_smsgw_has_the_parts_this_test_knows_how_to_find() -> None:
    modules = _top_level_modules()
    assert {"smsgw.service", "smsgw.storage", "smsgw.charging", "smsgw.cli_serve"} <= modules


def test_the_layers_place_every_module_of_smsgw_once() -> None:
    layered = _layered_modules()

    assert sorted(layered) == sorted(set(layered)), "a module is in two layers"
    assert set(layered) == _top_level_modules()


def test_the_layers_put_the_cli_on_top_and_the_service_between_its_adapters_and_domain() -> None:
    [layers] = [contract for contract in _contracts() if contract["type"] == "layers"]
    order = layers["layers"]

    def depth(module: str) -> int:
        [index] = [i for i, layer in enumerate(order) if module in layer.replace(":", " ").split()]
        return index

    commands = [module for module in _top_level_modules() if _is_cli(module)]
    assert all(depth(module) == 0 for module in commands)
    assert depth("smsgw.bootstrap") == 1
    for adapter in ("smsgw.transport", "smsgw.storage", "smsgw.charging"):
        assert depth("smsgw.bootstrap") < depth(adapter) < depth("smsgw.service")
    assert depth("smsgw.service") < depth("smsgw.domain")
    assert layers.get("ignore_imports", []) == []


def test_only_the_cli_commands_may_import_the_simulator() -> None:
    """Not even bootstrap: the product's wiring runs without the operator side."""
    forbidding = [
        contract
        for contract in _contracts()
        if contract["type"] == "forbidden" and "simulator" in contract["forbidden_modules"]
    ]
    sources = {module for contract in forbidding for module in contract["source_modules"]}

    assert sources == {module for module in _top_level_modules() if not _is_cli(module)}
