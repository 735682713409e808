"""The README's "Reliability and security" section names, for each guarantee, the tests that prove it: every test it
names must exist, so the section cannot drift from the suite."""

from __future__ import annotations

import re

from etl.config import PROJECT_ROOT

SECTION = "## Reliability and security"


def _section() -> str:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in text
    body = text.split(SECTION, 1)[1]
    return body.split("\n## ", 1)[0]


def named_tests(section: str) -> list[tuple[str, str | None]]:
    """(test file, test name or None) in the order written; `::name` alone refers to the file named before it."""
    out: list[tuple[str, str | None]] = []
    current = None
    for match in re.finditer(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", section):
        path, name = match.groups()
        if path:
            current = path
        if current and (path or name):
            out.append((current, name))
    return out


def test_every_test_the_reliability_section_names_exists():
    names = named_tests(_section())
    assert len(names) > 20
    missing = []
    for path, name in names:
        file = PROJECT_ROOT / path
        if not file.is_file():
            missing.append(path)
        elif name and not re.search(rf"^def {name}\(", file.read_text(encoding="utf-8"), re.MULTILINE):
            missing.append(f"{path}::{name}")
    assert not missing, missing


def test_every_reliability_test_file_is_named_in_the_section():
    named = {path for path, _ in named_tests(_section())}
    files = {f"tests/reliability/{p.name}" for p in (PROJECT_ROOT / "tests" / "reliability").glob("test_*.py")}
    assert files <= named, files - named
