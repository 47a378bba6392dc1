"""The product package holds only the product, and no code writes another object's
private attribute (the bench once replaced the SMSC's reassembler and MT hook)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _private_writes(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if (
                        isinstance(sub, ast.Attribute)
                        and sub.attr.startswith("_")
                        and not sub.attr.startswith("__")
                        and not (
                            isinstance(sub.value, ast.Name) and sub.value.id in ("self", "cls")
                        )
                    ):
                        found.append(f"{path.relative_to(REPO)}:{sub.lineno} {ast.unparse(sub)}")
    return found


def test_no_code_writes_another_objects_private_attribute() -> None:
    assert _private_writes(REPO / "smsgw") + _private_writes(REPO / "simulator") == []


def test_smsgw_bench_only_declares_the_command() -> None:
    tree = ast.parse((REPO / "smsgw" / "cli_bench.py").read_text("utf-8"))
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    assert defined == {"register", "run_bench"}


def test_the_load_harness_lives_in_simulator_bench() -> None:
    assert not (REPO / "simulator" / "loadgen.py").exists()
    modules = {path.stem for path in (REPO / "simulator" / "bench").glob("*.py")}
    assert {"texts", "tally", "report", "gcwatch", "driver", "gateway", "config"} <= modules
