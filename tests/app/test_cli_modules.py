"""The `smsgw` command line refuses to start when one of its command modules is missing."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from smsgw import cli


def test_every_listed_command_module_registers_its_command() -> None:
    parser = cli.build_parser()
    help_text = parser.format_help()
    for command in ("parse", "quote", "demo", "serve", "sim", "bench"):
        assert command in help_text


def test_a_missing_command_module_is_named_not_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "smsgw.cli_vanished"))
    with pytest.raises(cli.CommandModuleError, match=r"smsgw\.cli_vanished is missing"):
        cli.build_parser()


def test_main_reports_the_missing_module_and_exits_nonzero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("smsgw.cli_parse", "smsgw.cli_vanished"))
    assert cli.main(["parse", "I"]) == 2
    assert "smsgw.cli_vanished is missing" in capsys.readouterr().err


def test_a_module_without_register_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "smsgw_cli_empty", types.ModuleType("smsgw_cli_empty"))
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("smsgw_cli_empty",))
    with pytest.raises(cli.CommandModuleError, match="smsgw_cli_empty defines no register"):
        cli.build_parser()


def test_a_broken_import_inside_a_module_is_not_mistaken_for_a_missing_module(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "smsgw_cli_broken.py").write_text("import smsgw_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("smsgw_cli_broken",))
    with pytest.raises(ModuleNotFoundError, match="smsgw_no_such_dependency"):
        cli.build_parser()
