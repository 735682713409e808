"""Safe opening of a workbook returned by a région: every bad file becomes one French verdict.

A région sends back the .xlsx template of `etl/submissions/template.py`, filled in. Before any cell is checked
(`etl/submissions/check.py`), `open_workbook` checks the name sent (`FICHIER-EXTENSION`: it does not end in
`.xlsx`), then opens the file through `etl/xlsx.py` (bounded memory and time: size, zip bomb, streaming scan of the
sheets before openpyxl builds any cell) and returns both openpyxl views of it (cached values and formulas), or
raises `Unreadable` with a rule code and one French sentence for the submitter. The generic rules of etl/xlsx.py
map to `FICHIER-VIDE` (no bytes), `FICHIER-TAILLE` (the file, the zip's entries or declared uncompressed size, a
sheet's cells, rows, columns or merged and hyperlink ranges beyond `Limits`), `FICHIER-MOT-DE-PASSE` (an encrypted
OLE2 file), `FICHIER-XLS` (an old .xls renamed), `FICHIER-TEXTE` (CSV, HTML...), `FICHIER-MACROS` (a VBA project or
a macro-enabled content type) and `FICHIER-CORROMPU` (anything else: not a zip, truncated, CRC errors, missing
workbook parts, a PDF, .ods or .xlsb renamed, openpyxl failing to load it).

`file_name_problem` says when the name a submitter gave had to change to be safe to use in `quarantine/` and in
reports (`etl.landing.safe_file_name`).
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


def _too_big(size: int, limit: int, what: str) -> Unreadable:
    shown_size, shown_limit = _megabytes(size, limit)
    return Unreadable(
        "FICHIER-TAILLE",
        f"{what} {shown_size} Mo, au-delà de la limite de {shown_limit} Mo : {_TRIM}.",
    )


def _corrupted(detail: str) -> Unreadable:
    return Unreadable("FICHIER-CORROMPU", f"{detail} : {_RESUBMIT}.")


# --- the generic rules in French ----------------------------------------------------------------------------------


def _too_many(sheet: str, what: str) -> Unreadable:
    return Unreadable("FICHIER-TAILLE", f"La feuille « {_quoted(sheet)} » {what} : {_TRIM}.")


_FRENCH = {
    "empty": lambda f: Unreadable(
        "FICHIER-VIDE", "Le fichier est vide (0 octet) : envoyez à nouveau le classeur rempli."
    ),
    "file_size": lambda f: _too_big(f["size"], f["limit"], "Le fichier pèse"),
    "encrypted": lambda f: Unreadable(
        "FICHIER-MOT-DE-PASSE",
        "Le classeur est protégé par un mot de passe à l'ouverture et ne peut pas être lu : retirez le mot "
        "de passe (Fichier > Informations > Protéger le classeur) puis envoyez-le à nouveau.",
    ),
    "xls": lambda f: Unreadable(
        "FICHIER-XLS",
        "Le fichier est un classeur à l'ancien format Excel 97-2003 (.xls) renommé en .xlsx : repartez du modèle "
        "de la campagne et enregistrez-le au format « Classeur Excel (.xlsx) » avant de l'envoyer.",
    ),
    "pdf": lambda f: _corrupted("Le fichier est un document PDF renommé en .xlsx, pas un classeur Excel"),
    "text": lambda f: Unreadable(
        "FICHIER-TEXTE",
        "Le fichier est un fichier texte (CSV, HTML ou autre) renommé en .xlsx, pas un classeur Excel : "
        "remplissez le modèle .xlsx de la campagne et envoyez-le sans changer son format.",
    ),
    "unknown_format": lambda f: _corrupted(
        "Le fichier n'est pas un classeur Excel (format non reconnu, ou fichier endommagé)"
    ),
    "zip_unreadable": lambda f: _corrupted(
        "Le fichier est endommagé (archive .xlsx illisible, peut-être tronquée pendant l'envoi)"
    ),
    "zip_entries": lambda f: Unreadable(
        "FICHIER-TAILLE",
        f"Le classeur contient {_integer(f['count'])} éléments internes, au-delà de la limite de "
        f"{_integer(f['limit'])} : {_TRIM}.",
    ),
    "uncompressed_size": lambda f: _too_big(f["size"], f["limit"], "Une fois décompressé, le classeur occuperait"),
    "damaged": lambda f: _corrupted(
        "Le fichier est endommagé" + (f" (l'élément « {_quoted(f['entry'])} » est altéré)" if f["entry"] else "")
    ),
    "ods": lambda f: _corrupted("Le fichier est un classeur OpenDocument (LibreOffice .ods) renommé en .xlsx"),
    "xlsb": lambda f: _corrupted("Le fichier est un classeur Excel binaire (.xlsb) renommé en .xlsx"),
    "missing_part": lambda f: _corrupted(
        f"Le fichier est une archive ZIP mais pas un classeur Excel (élément « {f['part']} » absent)"
    ),
    "macros": lambda f: Unreadable(
        "FICHIER-MACROS",
        "Le classeur contient des macros (VBA), ce qui n'est pas accepté : enregistrez-le au format « Classeur "
        "Excel (.xlsx) », sans macros, puis envoyez-le à nouveau.",
    ),
    "too_many_rows": lambda f: _too_many(
        f["sheet"], f"compte plus de {_integer(f['limit'])} lignes, au-delà de la limite par feuille"
    ),
    "too_many_cells": lambda f: _too_many(
        f["sheet"], f"compte plus de {_integer(f['limit'])} cellules, au-delà de la limite par feuille"
    ),
    "ranges_too_large": lambda f: _too_many(
        f["sheet"],
        f"contient des cellules fusionnées ou des liens hypertextes qui couvrent plus de {_integer(f['limit'])} "
        "cellules",
    ),
    "row_beyond": lambda f: _too_many(
        f["sheet"],
        f"va jusqu'à la ligne {_integer(f['row'])}, au-delà de la limite de {_integer(f['limit'])} lignes par feuille",
    ),
    "column_beyond": lambda f: _too_many(
        f["sheet"],
        f"va jusqu'à la colonne {_integer(f['column'])}, au-delà de la limite de {_integer(f['limit'])} "
        "colonnes par feuille",
    ),
    "load_failed": lambda f: Unreadable(
        "FICHIER-CORROMPU",
        "Le classeur ne peut pas être lu, il est endommagé ou n'a pas été produit à partir du modèle : ouvrez-le "
        f"dans Excel, enregistrez-le au format .xlsx et envoyez-le à nouveau ({f['detail']}).",
    ),
    "dimensions": lambda f: Unreadable(
        "FICHIER-TAILLE",
        f"La feuille « {_quoted(f['sheet'])} » compte {_integer(f['rows'])} lignes et "
        f"{_integer(f['columns'])} colonnes, au-delà des limites de {_integer(f['max_rows'])} lignes et "
        f"{_integer(f['max_columns'])} colonnes par feuille : {_TRIM}.",
    ),
}


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
        raise _FRENCH[problem.rule](problem.facts) from None
