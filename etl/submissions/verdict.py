"""The verdict model of a returned workbook: findings, the verdict, cell parsing and the rendering of values.

A `Finding` is one problem, named by sheet, cell, indicator and rule code, with a French message for the submitter;
a `Verdict` gathers the findings of one file (`acceptée` when none is an error, else `rejetée`) and what was read.
`parse_cell` reads one input cell the way staff type (`12,5`, `12,5 %`, `0,125`, `1 234`, `n.d.`, `NC`, empty, a
formula's cached value); `shown` renders a value as the submitter sees it (French decimals, text as typed).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

ERROR = "erreur"
WARNING = "avertissement"
ACCEPTED = "acceptée"
REJECTED = "rejetée"
REGIONAL = "regional"
PAQTE = "paqte"

# What staff type for a figure they do not have: not available (nd) or not communicated / secret (nc).
_NOT_AVAILABLE = dict.fromkeys(("nd", "n.d.", "n.d", "n/d", "non disponible"), "nd") | dict.fromkeys(
    ("nc", "n.c.", "n.c", "non communiqué", "non communique", "s", "secret"), "nc"
)
_NUMBER = re.compile(r"[+-]?[0-9]+(?:[,.][0-9]+)?")
_GROUP_SPACE = re.compile(r"(?<=[0-9])[ \u00a0\u202f](?=[0-9]{3}(?:[^0-9]|$))")
_PERCENT_SIGN = re.compile(r"[ \u00a0\u202f]*%$")
_QUOTED = re.compile(r'"[^"]*"')


@dataclass(frozen=True)
class Finding:
    """One problem of a workbook. `cell` is `A12` on `sheet`; `found` is the value as typed."""

    rule: str
    severity: str  # erreur | avertissement
    message: str
    sheet: str | None = None
    cell: str | None = None
    indicator: str | None = None
    territory: str | None = None
    found: str | None = None
    expected: str | None = None

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def line(self, file_name: str) -> str:
        """`[ERREUR CELLULE-PART] f.xlsx, Indicateurs!H4, IND07 : <message>`."""
        parts = [file_name, self.where, self.indicator or ""]
        if self.territory:
            parts.append(f"département {self.territory}")
        head = ", ".join(p for p in parts if p)
        return f"[{self.severity.upper()} {self.rule}] {head} : {self.message}"


@dataclass
class Verdict:
    """What a check found. `values` is the frame to load (None when the cells could not be read)."""

    file_name: str
    sha256: str | None = None
    size_bytes: int | None = None
    region_code: str | None = None
    campaign: int | None = None
    template_version: str | None = None
    departement_code: str | None = None  # PAQTE reports: the département and semester instead of région and campaign
    semester: str | None = None
    kind: str = REGIONAL  # regional | paqte
    findings: list[Finding] = field(default_factory=list)
    values: pd.DataFrame | None = None
    cells: pd.DataFrame | None = None
    gate_results: list = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def accepted(self) -> bool:
        return not self.errors

    @property
    def status(self) -> str:
        return ACCEPTED if self.accepted else REJECTED

    def summary(self) -> str:
        if self.kind == PAQTE:
            who = f"département {self.departement_code or 'inconnu'}"
            when = f"semestre {self.semester or 'inconnu'}"
        else:
            who = f"région {self.region_code}" if self.region_code else "région inconnue"
            when = f"campagne {self.campaign}" if self.campaign else "campagne inconnue"
        return (
            f"{self.file_name} ({who}, {when}) : {self.status}, {len(self.errors)} erreur(s), "
            f"{len(self.warnings)} avertissement(s)"
        )

    def text(self) -> str:
        lines = [self.summary()]
        lines += [f"  {f.line(self.file_name)}" for f in self.findings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fichier": self.file_name,
            "sha256": self.sha256,
            "taille_octets": self.size_bytes,
            "region": self.region_code,
            "campagne": self.campaign,
            "version_modele": self.template_version,
            "departement": self.departement_code,
            "semestre": self.semester,
            "verdict": self.status,
            "erreurs": len(self.errors),
            "avertissements": len(self.warnings),
            "constats": [asdict(f) | {"ou": f.where} for f in self.findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


# --- parsing what staff type ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    value: float | None
    status: str  # ok | nd | nc | vide | invalide
    percent_sign: bool = False  # typed with % (text) or stored by an Excel percentage format


def _percent_format(number_format: str | None) -> bool:
    """An Excel percentage format (`0.0%`), not a `%` shown as literal text (`0.0" %"`)."""
    return bool(number_format) and "%" in _QUOTED.sub("", number_format).replace("\\%", "")


def parse_cell(raw: Any, number_format: str | None = None) -> Parsed:
    """Read one input cell: a number, a French decimal text (`12,5`, `1 234`, `12,5 %`), `n.d.`/`NC`, or empty."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Parsed(None, "vide")
    if isinstance(raw, bool):
        return Parsed(None, "invalide")
    if isinstance(raw, int | float):
        if isinstance(raw, float) and not math.isfinite(raw):
            return Parsed(None, "invalide")
        if _percent_format(number_format):
            return Parsed(float(raw) * 100, "ok", percent_sign=True)
        return Parsed(float(raw), "ok")
    if not isinstance(raw, str):
        return Parsed(None, "invalide")
    text = raw.strip()
    marker = _NOT_AVAILABLE.get(text.lower())
    if marker:
        return Parsed(None, marker)
    percent = bool(_PERCENT_SIGN.search(text))
    text = _PERCENT_SIGN.sub("", text)
    text = _GROUP_SPACE.sub("", text)
    if not _NUMBER.fullmatch(text):
        return Parsed(None, "invalide")
    return Parsed(float(text.replace(",", ".")), "ok", percent_sign=percent)


# --- rendering values ----------------------------------------------------------------------------------------------


def shown(raw: Any) -> str:
    """A cell value as the submitter sees it: French decimals, text as typed."""
    if raw is None:
        return "(vide)"
    if isinstance(raw, float):
        return format(raw, ".15g").replace(".", ",")
    return str(raw)


def found_in(row: Any) -> str:
    """The value cell of a checker's frame row as typed, `(vide)` when empty (a missing text is None or NaN)."""
    raw = row["raw_value"]
    return "(vide)" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw)
