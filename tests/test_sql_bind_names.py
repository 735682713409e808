"""SQL bind parameters say what they are (`:batch_id`, `:source_id`, `:period`, not `:b`, `:s`, `:p`).

Every Python string literal of etl/, dags/ and sql/ and every .sql file there is read for `:name` bind parameters;
a name shorter than `MIN_LENGTH` characters fails the test, with its file, line and name. What is not a bind
parameter is left out: a cast (`value::int`), an assignment (`:=`), a colon after a letter or digit (`06:00`,
`user:password@`, `a[1:n]`), a non-capturing regex group (`(?:...)`), and SQL comments and string literals
(`to_char(d, 'HH24:MI')`).
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("etl", "dags", "sql")
MIN_LENGTH = 3
BIND = re.compile(r"(?<![:\w\\?]):([A-Za-z_]\w*)")
NOT_CODE = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)  # SQL comments and string literals


def _blank_sql_text(text: str) -> str:
    """`text` with its SQL comments and single-quoted literals blanked (same length, same lines)."""
    return NOT_CODE.sub(lambda match: re.sub(r"[^\n]", " ", match.group(0)), text)


def bind_names(text: str, first_line: int = 1) -> list[tuple[int, str]]:
    """(line, name) of every bind parameter in `text`, whose first line is `first_line`."""
    text = _blank_sql_text(text)
    return [(first_line + text.count("\n", 0, match.start()), match.group(1)) for match in BIND.finditer(text)]


def _python_bind_names(path: Path) -> list[tuple[int, str]]:
    found = []
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    for token in tokens:
        if token.type == tokenize.STRING:
            found += bind_names(token.string, token.start[0])
    return found


def short_bind_names() -> list[str]:
    """`file:line: :name` of every bind parameter shorter than MIN_LENGTH in the scanned folders."""
    short = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix == ".py":
                found = _python_bind_names(path)
            elif path.suffix == ".sql":
                found = bind_names(path.read_text(encoding="utf-8"))
            else:
                continue
            where = path.relative_to(ROOT)
            short += [f"{where}:{line}: :{name}" for line, name in found if len(name) < MIN_LENGTH]
    return short


def test_what_counts_as_a_bind_name():
    sql = (
        "SELECT x::int, to_char(d, 'HH24:MI') FROM t\n"
        "WHERE batch_id = :batch_id AND s = ANY(:s) AND a[1:n] IS NULL AND u = 'user:pw'\n"
        "  AND k = CAST(:kw AS jsonb); v := 1; -- l'heure : 06:00, :x\n"
        "  AND o = :old_batches"
    )
    assert bind_names(sql, 10) == [(11, "batch_id"), (11, "s"), (12, "kw"), (13, "old_batches")]
    assert bind_names(r"(?:https?:)?//") == []


def test_every_sql_bind_name_says_what_it_is():
    short = short_bind_names()
    assert not short, (
        f"SQL bind parameters shorter than {MIN_LENGTH} characters (name them for what they hold, "
        "e.g. :batch_id, :source_id, :period):\n" + "\n".join(short)
    )
