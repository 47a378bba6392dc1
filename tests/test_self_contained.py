"""The repository stands alone: nothing in it points at documents a clone does not have.

The behaviour rules, the command language, the operators' charging API and the layout
are all in docs/ (docs/rules.md, docs/commands.md, docs/operator-charging.md,
docs/architecture.md). A comment citing a specification section, a project-internal
seed document or an issue number outside the repository sends a reader nowhere; cite
the docs/ section or give the reason itself instead.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THIS_FILE = Path(__file__).resolve()

# each pattern and what it names; matched line by line
FORBIDDEN: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\.\./shared\b"), "a path outside the repository"),
    (re.compile(r"\bSPEC(?:\.md)?\b"), "a specification outside the repository"),
    (re.compile(r"\bDESIGN\.md\b"), "a design document outside the repository"),
    (re.compile(r"\bseed\s+0\d\d\b", re.IGNORECASE), "a seed document outside the repository"),
    (re.compile(r"\bissue[-\s]*#?\d+", re.IGNORECASE), "an issue number"),
)
# directories that are not the project's own files when git is not there to say so
_NOT_OURS = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}


def offending_lines(name: str, text: str) -> Iterator[str]:
    """`name:line: what` for each line of `text` that points outside the repository."""
    for number, line in enumerate(text.splitlines(), start=1):
        what = next((what for pattern, what in FORBIDDEN if pattern.search(line)), None)
        if what is not None:
            yield f"{name}:{number}: {what}: {line.strip()}"


def tracked_files() -> list[Path]:
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        # an unpacked source tree without git: every file but tool caches
        return [
            path
            for path in ROOT.rglob("*")
            if path.is_file()
            and not _NOT_OURS.intersection(path.relative_to(ROOT).parts)
            and not any(part.endswith(".egg-info") for part in path.parts)
        ]
    return [ROOT / name for name in listing.split("\0") if name]


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        return None  # binary, or deleted in the work tree but not yet from the index


def offences(paths: Iterable[Path]) -> list[str]:
    found: list[str] = []
    for path in paths:
        if path.resolve() == THIS_FILE:
            continue  # the patterns themselves
        text = text_of(path)
        if text is not None:
            found.extend(offending_lines(str(path.relative_to(ROOT)), text))
    return found


def test_no_tracked_file_points_outside_the_repository() -> None:
    files = tracked_files()
    assert len(files) > 100, "the scan found almost no files: it would prove nothing"
    found = offences(files)
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "line",
    [
        "see ../shared/SPEC.md for the rules",
        "# SPEC §5: the limits",
        "Limits from seed 004 (Voronezh)",
        "keeps the issue-3 contract",
        "Once through a real Kannel (issue #4 item 8).",
        "as asked in Issue 12",
        "the architecture is in DESIGN.md",
    ],
)
def test_each_kind_of_outside_reference_is_caught_with_file_and_line(line: str) -> None:
    found = list(offending_lines("docs/x.md", f"first line\n{line}\n"))
    assert len(found) == 1 and found[0].startswith("docs/x.md:2: ")


@pytest.mark.parametrize(
    "line",
    [
        "docs/rules.md §6: the limits",
        "NETWORK_SPECIFIC = 3",
        "seed = 0  # of the shuffles",
        "receipts for ids never issued",
        "random.Random(seed)",
    ],
)
def test_own_docs_and_ordinary_words_pass(line: str) -> None:
    assert list(offending_lines("smsgw/x.py", line)) == []
