"""The repository documents itself: README's settings table, the import rule (like datasette's tests/test_docs.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from pipelines import config

ROOT = Path(__file__).resolve().parents[1]


def _readme_settings() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("**Settings**", 1)[1].split("\n\n", 2)[1]
    names = []
    for line in table.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`(XIANGZHI_[A-Z_]+)`", line.split("|")[1])
    return names


def test_readme_settings_table_lists_exactly_the_settings():
    names = _readme_settings()
    assert len(names) == len(set(names)), "a setting is listed twice"
    assert set(names) == set(config.SETTINGS_HELP)


# ---------------------------------------------------------------------------------------------
# Data flows one way: nothing under pipelines/ imports dashboard/ (issue #18 item 2).

def _dashboard_modules(source: str) -> set[str]:
    """The dashboard modules a Python source imports (anywhere, function bodies included)."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "dashboard":
            out |= {f"dashboard.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
    return {m for m in out if m == "dashboard" or m.startswith("dashboard.")}


def _dashboard_imports() -> set[tuple[str, str]]:
    """(pipelines file, dashboard module) for every import of dashboard/ under pipelines/."""
    return {(path.relative_to(ROOT).as_posix(), m)
            for path in sorted((ROOT / "pipelines").rglob("*.py"))
            for m in _dashboard_modules(path.read_text(encoding="utf-8"))}


def test_the_import_parser_finds_every_form():
    src = ("import os\nimport dashboard.i18n as t\nfrom dashboard import auth\n"
           "def f():\n    from dashboard.views.map import page\nfrom pipelines import config\n")
    assert _dashboard_modules(src) == {"dashboard.i18n", "dashboard.auth", "dashboard.views.map"}


def test_no_module_under_pipelines_imports_dashboard():
    assert _dashboard_imports() == set()


# ---------------------------------------------------------------------------------------------
# "SPEC §x" in code and tests names a section of docs/contract.md (the repository is self-contained).

def _doc_sections() -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))
    return set(re.findall(r"^#+ §(\d+(?:\.\d+)?)\b", text, flags=re.M))


def _cited_sections() -> dict[str, set[str]]:
    cited: dict[str, set[str]] = {}
    for folder in ("pipelines", "dashboard", "tests", "benchmarks", "notebooks"):
        for p in sorted((ROOT / folder).rglob("*")):
            if p.suffix in {".py", ".sql", ".yml", ".yaml", ".ipynb", ".md"} and p.is_file():
                text = p.read_text(encoding="utf-8")
                for s in re.findall(r"SPEC §(\d+(?:\.\d+)?)", text):
                    cited.setdefault(s, set()).add(p.relative_to(ROOT).as_posix())
    return cited


def test_every_spec_citation_names_a_section_of_docs():
    sections, cited = _doc_sections(), _cited_sections()
    assert {"3.6", "3.7", "5", "6", "6.1"} <= sections
    assert len(cited) >= 10  # the scan finds the citations (71 and more)
    missing = {s: sorted(files) for s, files in cited.items() if s not in sections}
    assert missing == {}


def test_readme_gives_the_memory_limit_default_config_uses():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `XIANGZHI_MEMORY_LIMIT`"))
    assert f"`{config.DEFAULT_MEMORY_LIMIT}`" in row
    assert config.DEFAULT_MEMORY_LIMIT in config.SETTINGS_HELP["XIANGZHI_MEMORY_LIMIT"]
