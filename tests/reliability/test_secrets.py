"""Secrets: no password or key in the repository, and no printed connection string shows one.

The scan reads every file git tracks or would add (`git ls-files --cached --others --exclude-standard`: tracked,
plus new files not ignored) and looks for private key blocks, cloud and service tokens (AWS, GitHub, Slack, Google,
Stripe, JWT), Fernet keys, and literal values given to a password, secret, token or key, whether in a URL's
user-info (`scheme://user:secret@host`), an assignment (`password = "..."`, `PASSWORD: ...`, `password=...` in a libpq
string) or SQL (`PASSWORD '...'`). A value that refers to a secret instead of holding one passes: an environment
reference (`${VAR}`, `$VAR`, `os.environ[...]`), a template (`{name}` in it), an expression in Python code, a mask
(`...`, `***`, `<...>`), or the name of the thing in place of the thing (`PASSWORD`, `password`). A `${VAR:-default}`
holds its default: that default is checked. What remains must be in ALLOWED below, one justified entry each.

The redaction tests run the real command: `observatoire` given a warehouse URL with a password prints the error in
one sentence, with the password masked, and exits non-zero; `warehouse url` masks it unless `--show-password`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from etl.config import PROJECT_ROOT
from etl.warehouse.urls import redact, redact_text

# (path, literal): found by the scan, and not a secret. Keep each entry narrow (one file, one value) and say why.
ALLOWED = {
    # the configuration table's example of a URL's shape: "pw" stands for the password
    ("README.md", "pw"),
    # docker-compose.yml's `${VAR:-default}` fallbacks, so that `docker compose up` runs on a laptop; their names say
    # what they are (dev, change-me) and the file's header tells production to set every variable (README too)
    ("docker-compose.yml", "airflow-dev"),
    ("docker-compose.yml", "observatoire-dev"),
    ("docker-compose.yml", "admin-dev"),
    ("docker-compose.yml", "dev-only-jwt-secret-change-me"),
    ("docker-compose.yml", "dev-only-api-secret-change-me"),
    # fake passwords of unit tests on URL conversions (hosts db.example and postgres, never connected to)
    ("tests/test_urls.py", "se%40cret"),
    ("tests/dags/test_warehouse_maintenance.py", "p%40ss"),
    # the fake password of an error message a test feeds to the alert builder, to prove the mail masks it
    ("tests/ops/test_alerts.py", "s3cr%40t"),
    # the JWT signing key of a throw-away Airflow api-server that a test starts on 127.0.0.1 and stops
    ("tests/ops/test_deadline_alert.py", "deadline-test-secret"),
}

_WORD = r"(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|fernet[_-]?key)"
_KEY = rf"[\w.-]*{_WORD}[\w.-]*"
# a value: quoted, a ${...} reference, a {format} field, or a bare word
_VALUE = r"""(?P<value>"[^"\n]*"|'[^'\n]*'|\$\{[^}\n]*\}|\{[^}\n]*\}|[^\s,;)}\]`"']+)"""
# patterns whose match is a secret in itself
TOKENS = {
    "private key block": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"(?i)aws_?secret_?access_?key\W{1,6}[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}"),
    "Stripe live key": re.compile(r"\b[rs]k_live_[0-9A-Za-z]{16,}"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "Fernet key": re.compile(r"(?<![A-Za-z0-9_=-])[A-Za-z0-9_-]{43}=(?![A-Za-z0-9_=-])"),
}
# patterns whose group "value" is a secret unless it is a reference, an expression or a placeholder
VALUES = {
    "password in a URL": re.compile(
        r"\b[a-z][a-z0-9+.-]*://[^\s:/?#@'\"`]+:(?P<value>\$\{[^}\s]*\}|[^\s/?#'\"`@]+)@", re.IGNORECASE
    ),
    # key = value anywhere (code, libpq strings, .env); key: value where a mapping has it (a YAML line's key, a
    # quoted JSON key), not in prose ("no password: give it one")
    "assigned secret": re.compile(
        rf"(?i)(?:(?<![\w.${{-]){_KEY}[\"']?\s*=(?!=)|^\s*(?:-\s*)?{_KEY}\s*:(?![-=:])|[\"']{_KEY}[\"']\s*:)\s*{_VALUE}"
    ),
    "SQL password": re.compile(r"(?i)\bPASSWORD\s+(?P<value>'[^'\n]*')"),
}
MASKS = re.compile(r"(?:\.{3}|…|\*+|x{3,}|X{3,}|<[^>]*>|\{[^}]*\}|%s|%\(\w+\)s|\$\w+|\$\{\w+\})")
NAMES = {"password", "passwd", "secret", "token", "key"}  # the name of the thing in place of the thing
MIN_ASSIGNED = 4  # a shorter assigned value is a code or a flag ("secret": "nc"), not a credential


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    value: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.value!r}"


def _literal(value: str, *, python: bool) -> str | None:
    """The secret a matched value holds, or None when it only refers to one."""
    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
    if quoted:
        value = value[1:-1]
    elif python:
        return None  # unquoted in Python: code (password=conn.password, token=secrets.token_hex(4)), not a value
    if re.fullmatch(r"\$\{[^}]*\}", value):
        inner = value[2:-1]
        if not re.search(r":?[-=]", inner):
            return None  # ${VAR}: a reference
        value = re.split(r":?[-=]", inner, maxsplit=1)[1]  # ${VAR:-default}: the default is a literal
    value = value.strip()
    if not value or MASKS.fullmatch(value) or value.lower() in NAMES:
        return None
    if re.search(r"\{\w+\}", value):
        return None  # a template: f"{password} ...", "${VAR} ..." is filled at run time
    if not quoted and value.lower() in {"none", "null", "true", "false"}:
        return None
    if re.fullmatch(r"(?:/|~/|\./)[\w./-]*", value):
        return None  # a file holding the secret (..._PASSWORDS_FILE: /opt/airflow/auth/...)
    return value


def scan_text(path: str, text: str, allowed=ALLOWED) -> list[Finding]:
    """Every secret-looking thing in one file's text that the allow-list does not name."""
    python = path.endswith(".py")
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for rule, pattern in TOKENS.items():
            found += [Finding(path, number, rule, m.group(0)) for m in pattern.finditer(line)]
        for rule, pattern in VALUES.items():
            for match in pattern.finditer(line):
                # unquoted words in Python are code, but a URL or SQL text is text wherever it is written
                value = _literal(match.group("value"), python=python and rule == "assigned secret")
                if value is not None and (rule != "assigned secret" or len(value) >= MIN_ASSIGNED):
                    found.append(Finding(path, number, rule, value))
    return [f for f in found if (f.path, f.value) not in allowed]


def repository_files(root: Path = PROJECT_ROOT) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({name for name in listed.split("\0") if name and (root / name).is_file()})


def scan_repository(root: Path = PROJECT_ROOT, allowed=ALLOWED) -> tuple[list[Finding], int]:
    """(findings, number of text files read); binary files (a NUL byte, not UTF-8) are skipped."""
    findings, read = [], 0
    for name in repository_files(root):
        data = (root / name).read_bytes()
        if b"\0" in data[:8192]:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        read += 1
        findings += scan_text(name, text, allowed)
    return findings, read


# --- the scan --------------------------------------------------------------------------------------------------------


def test_the_repository_holds_no_password_nor_key():
    findings, read = scan_repository()
    assert read > 200  # the whole tree was read, not an empty listing
    assert not findings, "secrets in the repository:\n" + "\n".join(map(str, findings))


def test_every_allow_list_entry_is_still_needed():
    """Each entry is something the scan finds without it, so the list cannot grow into a blanket pass."""
    found = {(f.path, f.value) for f in scan_repository(allowed=frozenset())[0]}
    assert found >= ALLOWED, f"stale entries: {sorted(ALLOWED - found)}"


def _planted(*parts: str) -> str:
    """Secret-shaped test data, assembled at run time so that the scan of this very file does not see it."""
    return "".join(parts)


PLANTED = {
    "private key block": _planted("-----BEGIN ", "RSA PRIVATE KEY-----\nMIIEow...\n"),
    "AWS access key id": _planted("aws_key = ", "AKIA", "Q3EGRIQ7ZX5JDQ2N"),
    "AWS secret access key": _planted("aws_secret_access_key = ", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    "GitHub token": _planted("ghp", "_", "a" * 36),
    "Slack token": _planted("xox", "b-1234567890-abcdefghij"),
    "JSON web token": _planted(
        "eyJ", "hbGciOiJIUzI1NiJ9.", "eyJ", "zdWIiOiIxMjM0NTY3ODkwIn0.", "SflKxwRJSMeKKF2QT4fwpM"
    ),
    "Fernet key": _planted("FERNET = '", "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg", "='"),
    "password in a URL": _planted("WAREHOUSE_URL=postgresql://obs:", "Xq9vT2mw", "@db.internal:5432/wh"),
    "assigned secret": _planted("conn = connect(password", "='Xq9vT2mw')"),
    "SQL password": _planted("ALTER ROLE etl_writer PASSWORD ", "'Xq9vT2mw';"),
}


@pytest.mark.parametrize("rule", sorted(PLANTED))
def test_the_scan_catches_a_planted_secret(tmp_path, rule):
    """Each rule finds its kind of secret in a real file of a git repository (the scan's own path)."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "clean.py").write_text("password = os.environ['WAREHOUSE_PASSWORD']\n", encoding="utf-8")
    (tmp_path / "settings.py").write_text(f"# configuration\n{PLANTED[rule]}\n", encoding="utf-8")
    findings, read = scan_repository(tmp_path)
    assert read == 2
    assert {(f.path, f.line) for f in findings} == {("settings.py", 2)}
    assert rule in {f.rule for f in findings}


@pytest.mark.parametrize(
    "line",
    [
        "password = os.environ['WAREHOUSE_PASSWORD']",
        'conn["password"] = parsed.password',
        "password=conn.password or None,",
        "AIRFLOW__CORE__FERNET_KEY: ${AIRFLOW_FERNET_KEY:-}",
        "POSTGRES_PASSWORD: ${WAREHOUSE_PASSWORD}",
        "e.g. `postgresql://bi_reader:...@host:5432/observatoire`",
        'url = f"postgresql://{user}:{password}@{host}/db"',
        "ALTER ROLE bi_reader PASSWORD '...'",
        '"password": "PASSWORD", "schema": "observatoire"',
        "the warehouse at postgresql://u:***@127.0.0.1:1/x does not answer",
        "postgresql://postgres:@/postgres?host=/tmp/pg",
    ],
)
def test_references_and_placeholders_are_not_secrets(line):
    assert scan_text("example.py" if "=" in line and "`" not in line else "example.md", line) == []


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("docker-compose.yml", "POSTGRES_PASSWORD: ${{DB_PASSWORD:-{v}}}"),
        ("values.yaml", "  password: {v}"),
        ("app.env", "SECRET_KEY={v}"),
        ("settings.py", 'API_TOKEN = "{v}"'),
        ("config.json", '{{"user": "obs", "password": "{v}"}}'),
        ("README.md", "psql 'host=db user=obs password={v}'"),
        ("run.sh", "export WAREHOUSE_URL=postgresql://obs:{v}@db/wh"),
        ("init.sql", "CREATE ROLE obs LOGIN PASSWORD '{v}';"),
    ],
)
def test_literal_secrets_are_found_wherever_they_are_written(path, line):
    value = _planted("hunter", "2-", "Xq9v")
    assert [f.value for f in scan_text(path, line.format(v=value))] == [value]


# --- redaction where the platform prints an address ------------------------------------------------------------------

SECRET = _planted("s3", "cret")
CLI = [sys.executable, "-m", "etl.cli"]


def _cli(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WAREHOUSE_URL": url}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=120)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECRET}@127.0.0.1:1/x",
        f"postgresql://u@127.0.0.1:1/x?password={SECRET}",
        f"postgresql+psycopg2://u:{SECRET}@127.0.0.1:1/x?sslmode=disable",
    ],
)
def test_a_failing_connection_says_so_in_one_sentence_without_the_password(url):
    result = _cli("migrate", url=url)
    assert result.returncode != 0
    assert SECRET not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("observatoire: error: the warehouse at "), result.stderr
    assert "***" in lines[0] and "does not answer" in lines[0] and "Traceback" not in result.stderr


def test_an_unreadable_url_is_refused_without_the_password():
    result = _cli("migrate", url=f"postgresql://u:{SECRET}@127.0.0.1:1:2/x")
    assert result.returncode != 0
    assert SECRET not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_warehouse_url_masks_the_password_unless_asked():
    url = f"postgresql://u:{SECRET}@db.example:5432/x"
    masked = _cli("warehouse", "url", url=url)
    assert masked.returncode == 0
    assert masked.stdout.strip() == "postgresql://u:***@db.example:5432/x"
    assert SECRET not in masked.stderr and "--show-password" in masked.stderr
    shown = _cli("warehouse", "url", "--show-password", url=url)
    assert (shown.returncode, shown.stdout.strip(), shown.stderr) == (0, url, "")


def test_warehouse_url_without_a_password_is_printed_whole_and_silently(warehouse_url):
    result = _cli("warehouse", "url", url=warehouse_url)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, warehouse_url, "")


def test_messages_quoting_an_address_mask_its_password():
    assert redact(f"postgresql://u:{SECRET}@h/db") == "postgresql://u:***@h/db"
    message = (
        f"could not reach postgresql://u:{SECRET}@h/db nor 'host=h user=u password={SECRET}' nor "
        f'{{"conn_type": "postgres", "login": "u", "password": "{SECRET}"}}'
    )
    assert SECRET not in redact_text(message)
    assert redact_text(message).count("***") == 3


def test_warehouse_status_of_an_answering_warehouse_masks_its_password(warehouse_url, engine):
    """The test servers trust local connections, so a URL carrying a password still reaches the warehouse."""
    from sqlalchemy.engine import make_url

    url = make_url(warehouse_url).set(password=SECRET).render_as_string(hide_password=False)
    result = _cli("warehouse", "status", url=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("external warehouse answers: ") and ":***@" in result.stdout
    assert SECRET not in result.stdout + result.stderr
