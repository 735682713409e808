"""Safe opening of a returned workbook: every bad file becomes one rule code and one French sentence.

`open_workbook` checks the name's extension (`FICHIER-EXTENSION`), then opens the file through `etl.xlsx` (bounded
memory and time) and returns both openpyxl views (cached values, formulas), or raises `Unreadable`. The generic
rules of `etl.xlsx` map to FICHIER-VIDE, FICHIER-TAILLE, FICHIER-MOT-DE-PASSE, FICHIER-XLS, FICHIER-TEXTE,
FICHIER-MACROS and FICHIER-CORROMPU (`_FRENCH`).
"""

from __future__ import annotations

import re
from pathlib import Path

from etl import xlsx
from etl.landing import printable as _quoted
from etl.xlsx import Limits, Opened, XlsxError

__all__ = ["Limits", "Opened", "Unreadable", "open_workbook"]


class Unreadable(Exception):
    """The file cannot be used as a workbook. `rule` is a code, `message` one French sentence for the submitter."""

    def __init__(self, rule: str, message: str):
        super().__init__(rule, message)
        self.rule = rule
        self.message = message

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


EXPECTED_EXTENSION = ".xlsx"
DEFAULT_LIMITS = Limits()
_RESUBMIT = "envoyez à nouveau le modèle .xlsx de la campagne, rempli"
_TRIM = "supprimez ce qui a été ajouté au modèle (images, feuilles, lignes ou colonnes) puis envoyez-le à nouveau"
_EXTENSION_KINDS = {
    "xlsm": "un classeur avec macros",
    "xltm": "un modèle de classeur avec macros",
    "xls": "l'ancien format Excel 97-2003",
    "xlsb": "un classeur Excel binaire",
    "xltx": "un modèle Excel",
    "ods": "un classeur OpenDocument (LibreOffice)",
    "csv": "un fichier texte",
    "txt": "un fichier texte",
    "pdf": "un document PDF",
}


# --- messages ------------------------------------------------------------------------------------------------------


def _integer(value: int) -> str:
    """`5 000`: French thousands separator."""
    return f"{value:,}".replace(",", " ")


def _megabytes(size: int, limit: int) -> tuple[str, str]:
    """`size` and `limit` in Mo (French decimal comma), with as few decimals as tell them apart (at most 6)."""

    def shown(value: int, decimals: int) -> str:
        text = f"{value / (1024 * 1024):.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.replace(".", ",")

    for decimals in range(1, 7):
        if shown(size, decimals) != shown(limit, decimals) and shown(limit, decimals) != "0":
            break
    return shown(size, decimals), shown(limit, decimals)


def _extension(name: str) -> str:
    """The extension of the last path component of `name`, without the dot; "" when there is none."""
    base = re.split(r"[/\\]", name)[-1]
    stem, dot, extension = base.rpartition(".")
    return extension if dot and stem.strip(".") else ""


def _check_extension(name: str) -> None:
    if name.lower().endswith(EXPECTED_EXTENSION):
        return
    extension = _extension(name)
    if not extension:
        found = "Le fichier n'a pas d'extension"
    else:
        kind = _EXTENSION_KINDS.get(extension.lower())
        found = f"Le fichier porte l'extension .{_quoted(extension, 20)}" + (f" ({kind})" if kind else "")
    advice = (
        "enregistrez-le au format « Classeur Excel (.xlsx) », sans macros, puis envoyez-le à nouveau"
        if extension.lower() in ("xlsm", "xltm")
        else "remplissez ce modèle et envoyez-le sans changer son format"
    )
    raise Unreadable(
        "FICHIER-EXTENSION",
        f"{found} alors que le format attendu est le modèle Excel .xlsx de la campagne : {advice}.",
    )


# a rule of etl.xlsx -> (rule code, French sentence); the sentence's fields come from the rule's facts (counts grouped,
# sizes in Mo, names made printable), plus {trim} and {resubmit}.
_SIZE = "{size_mb} Mo, au-delà de la limite de {limit_mb} Mo : {trim}."
_SHEET = "La feuille « {sheet} » "
_ZIP_NOT_XLSX = "Le fichier est une archive ZIP mais pas un classeur Excel (élément « {part} » absent) : {resubmit}."
_FRENCH = {
    "empty": ("FICHIER-VIDE", "Le fichier est vide (0 octet) : envoyez à nouveau le classeur rempli."),
    "file_size": ("FICHIER-TAILLE", "Le fichier pèse " + _SIZE),
    "encrypted": (
        "FICHIER-MOT-DE-PASSE",
        "Le classeur est protégé par un mot de passe à l'ouverture et ne peut pas être lu : retirez le mot de passe "
        "(Fichier > Informations > Protéger le classeur) puis envoyez-le à nouveau.",
    ),
    "xls": (
        "FICHIER-XLS",
        "Le fichier est un classeur à l'ancien format Excel 97-2003 (.xls) renommé en .xlsx : repartez du modèle de "
        "la campagne et enregistrez-le au format « Classeur Excel (.xlsx) » avant de l'envoyer.",
    ),
    "pdf": ("FICHIER-CORROMPU", "Le fichier est un document PDF renommé en .xlsx, pas un classeur Excel : {resubmit}."),
    "text": (
        "FICHIER-TEXTE",
        "Le fichier est un fichier texte (CSV, HTML ou autre) renommé en .xlsx, pas un classeur Excel : remplissez le "
        "modèle .xlsx de la campagne et envoyez-le sans changer son format.",
    ),
    "unknown_format": (
        "FICHIER-CORROMPU",
        "Le fichier n'est pas un classeur Excel (format non reconnu, ou fichier endommagé) : {resubmit}.",
    ),
    "zip_unreadable": (
        "FICHIER-CORROMPU",
        "Le fichier est endommagé (archive .xlsx illisible, peut-être tronquée pendant l'envoi) : {resubmit}.",
    ),
    "zip_entries": (
        "FICHIER-TAILLE",
        "Le classeur contient {count} éléments internes, au-delà de la limite de {limit} : {trim}.",
    ),
    "uncompressed_size": ("FICHIER-TAILLE", "Une fois décompressé, le classeur occuperait " + _SIZE),
    "damaged": ("FICHIER-CORROMPU", "Le fichier est endommagé{entry_altered} : {resubmit}."),
    "ods": (
        "FICHIER-CORROMPU",
        "Le fichier est un classeur OpenDocument (LibreOffice .ods) renommé en .xlsx : {resubmit}.",
    ),
    "xlsb": ("FICHIER-CORROMPU", "Le fichier est un classeur Excel binaire (.xlsb) renommé en .xlsx : {resubmit}."),
    "missing_part": ("FICHIER-CORROMPU", _ZIP_NOT_XLSX),
    "macros": (
        "FICHIER-MACROS",
        "Le classeur contient des macros (VBA), ce qui n'est pas accepté : enregistrez-le au format « Classeur Excel "
        "(.xlsx) », sans macros, puis envoyez-le à nouveau.",
    ),
    "too_many_rows": (
        "FICHIER-TAILLE",
        _SHEET + "compte plus de {limit} lignes, au-delà de la limite par feuille : {trim}.",
    ),
    "too_many_cells": (
        "FICHIER-TAILLE",
        _SHEET + "compte plus de {limit} cellules, au-delà de la limite par feuille : {trim}.",
    ),
    "ranges_too_large": (
        "FICHIER-TAILLE",
        _SHEET + "contient des cellules fusionnées ou des liens hypertextes qui couvrent plus de {limit} cellules : "
        "{trim}.",
    ),
    "row_beyond": (
        "FICHIER-TAILLE",
        _SHEET + "va jusqu'à la ligne {row}, au-delà de la limite de {limit} lignes par feuille : {trim}.",
    ),
    "column_beyond": (
        "FICHIER-TAILLE",
        _SHEET + "va jusqu'à la colonne {column}, au-delà de la limite de {limit} colonnes par feuille : {trim}.",
    ),
    "load_failed": (
        "FICHIER-CORROMPU",
        "Le classeur ne peut pas être lu, il est endommagé ou n'a pas été produit à partir du modèle : ouvrez-le dans "
        "Excel, enregistrez-le au format .xlsx et envoyez-le à nouveau ({detail}).",
    ),
    "dimensions": (
        "FICHIER-TAILLE",
        _SHEET + "compte {rows} lignes et {columns} colonnes, au-delà des limites de {max_rows} lignes et "
        "{max_columns} colonnes par feuille : {trim}.",
    ),
}


def _french(rule: str, facts: dict) -> Unreadable:
    """The Unreadable of a rule of etl.xlsx, in French."""
    code, sentence = _FRENCH[rule]
    fields = {key: _integer(value) if isinstance(value, int) else value for key, value in facts.items()}
    for key in ("sheet", "entry"):
        if facts.get(key):
            fields[key] = _quoted(facts[key])
    if "size" in facts:
        fields["size_mb"], fields["limit_mb"] = _megabytes(facts["size"], facts["limit"])
    fields["entry_altered"] = f" (l'élément « {fields['entry']} » est altéré)" if facts.get("entry") else ""
    return Unreadable(code, sentence.format(trim=_TRIM, resubmit=_RESUBMIT, **fields))


def open_workbook(path: Path, *, name: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Opened:
    """`name` is the file name as the submitter sent it (default path.name): the extension rule uses it.

    Raises Unreadable (the first rule that fails: the extension, then etl/xlsx.py's rules in their order); a `path`
    that does not exist or is not a regular file raises OSError or ValueError (a caller's mistake, not the
    submitter's)."""
    path = Path(path)
    _check_extension(path.name if name is None else name)
    try:
        return xlsx.open_xlsx(path, limits=limits, formulas=True)
    except XlsxError as problem:
        raise _french(problem.rule, problem.facts) from None
