"""The in-memory form of a published table, shared by disclosure control, the exports, the editions and the warehouse.

A `Table` is a pandas frame plus, for each of its columns, a `Column` saying what the column is: its French header in
the files, its role (one of `ROLES`: what kind of value it holds, which decides how it is typed, formatted and
aggregated), its unit and a French description for the dictionary and `COMMENT ON COLUMN`.

A masked cell holds no value (NaN / None) in the frame, and the status column of its row says `masked`; the statuses
a status column may hold are `STATUSES`. The exports turn a masked cell into `s` (CSV, XLSX) or null (Parquet).

The frames and the warehouse's `publication` schema keep the codes (statuses `ok`, `masked`..., levels `france`,
`region`..., breakdowns `total`, `sexe=F`...); what people read shows French words, declared here once: the edition
files (CSV, XLSX, Parquet) and the HTML report write a status as its label (`STATUS_LABELS`), and a table with a level
or breakdown code column also has its label column (`labelled`: `libelle_niveau`, `libelle_ventilation`). The
licence of every edition is `LICENCE`.

A count column says what it counts (`Column.counts`, one of `COUNTED_UNITS`: the catalogue's `unite_statistique`
vocabulary plus the platform's own objects); a column holding several indicators says `PER_ROW_UNIT` and its table
then has a `unite_statistique` column giving the unit row by row. Statistical secrecy covers the `SECRET_UNITS`.

A table may declare its key (`Table.key`: the columns that identify a row in one edition, the warehouse table's
primary key without `edition_id`); the edition's Data Package declares it as the resource's primary key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from etl.referentiels.catalogue import SECRET_UNITS, STATISTICAL_UNITS

ROLES = ("code", "label", "period", "count", "amount", "share", "rate", "status", "text")
NUMERIC_ROLES = ("count", "amount", "share", "rate")

STATUS_OK = "ok"
STATUS_MASKED = "masked"
STATUS_MISSING = "missing"
STATUS_NOT_APPLICABLE = "not_applicable"
STATUS_BREAK = "break"  # a change not computed: its two ends lie on different lists of QPV (rupture de série)
STATUSES = (STATUS_OK, STATUS_MASKED, STATUS_MISSING, STATUS_NOT_APPLICABLE, STATUS_BREAK)
STATUS_LABELS = {
    STATUS_OK: "publiée",
    STATUS_MASKED: "secret statistique",
    STATUS_MISSING: "non disponible",
    STATUS_NOT_APPLICABLE: "sans objet",
    STATUS_BREAK: "rupture de série",
}

LEVEL_LABELS = {
    "france": "France",
    "region": "Région",
    "departement": "Département",
    "epci": "EPCI",
    "commune": "Commune",
    "qpv": "QPV",
}
BREAKDOWN_LABELS = {
    "total": "Ensemble",
    "sexe=F": "Femmes",
    "sexe=H": "Hommes",
    "age=<26": "Moins de 26 ans",
    "age=26-49": "26 à 49 ans",
    "age=50+": "50 ans ou plus",
    "type=creation": "Places créées",
    "type=renovation": "Places rénovées",
    "composition=isole": "Personnes isolées",
    "composition=monoparentale": "Familles monoparentales",
    "composition=couple_sans_enfant": "Couples sans enfant",
    "composition=couple_avec_enfants": "Couples avec enfants",
}
LABEL_COLUMNS = {"niveau": "libelle_niveau", "ventilation": "libelle_ventilation"}  # code column -> label column

# what a count column counts: the catalogue's units, then objects of the platform's own tables
COUNTED_UNITS = (*STATISTICAL_UNITS, "mesures", "classeurs", "erreurs")
PER_ROW_UNIT = "selon l'indicateur"  # a column holding several indicators: see its table's UNIT_COLUMN
UNIT_COLUMN = "unite_statistique"
SECRECY_RULE = (
    f"Secret statistique : les effectifs de personnes et de foyers (unités statistiques {', '.join(SECRET_UNITS)}) "
    "trop faibles (moins de 11 par défaut) sont masqués, ainsi que les cases qui permettraient de les recalculer ; "
    "les effectifs d'autres unités (structures, places, projets...) ne le sont jamais. Un montant en euros est masqué "
    "quand il repose sur moins de 3 contributeurs ou qu'un seul en représente plus de 85 %."
)

LICENCE = {
    "name": "Licence Ouverte / Open Licence 2.0 (Etalab)",
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}


@dataclass(frozen=True)
class Column:
    """One column of a published table."""

    name: str  # column of the frame (snake_case technical name)
    header: str  # French header in the files ("Code territoire", "Demandeurs d'emploi")
    role: str  # one of ROLES
    unit: str = ""  # "nombre", "%", "euros", "" ...
    description: str = ""  # French, for the dictionary file and COMMENT ON COLUMN
    counts: str = ""  # what the column counts (one of COUNTED_UNITS, or PER_ROW_UNIT); required for a count

    def described(self) -> dict[str, str]:
        """The column as the manifest and the Parquet metadata describe it."""
        return {
            "name": self.name,
            "header": self.header,
            "role": self.role,
            "unit": self.unit,
            "counts": self.counts,
            "description": self.description,
        }


@dataclass(frozen=True)
class Table:
    """A published table: its name (unique in an edition), French title and description, columns and frame."""

    name: str  # snake_case, unique in an edition ("bilan_conventions")
    title: str  # French title
    description: str  # French
    columns: tuple[Column, ...]
    frame: pd.DataFrame  # exactly the columns, in order; masked cells hold NaN and the row's status says `masked`
    key: tuple[str, ...] = ()  # the columns identifying a row in an edition (none declared: empty)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("A table needs a non-empty name.")
        columns = tuple(self.columns)
        object.__setattr__(self, "columns", columns)
        for column in columns:
            if not isinstance(column, Column):
                raise ValueError(f"Table {self.name}: every column must be a Column, not {type(column).__name__}.")
            if column.role not in ROLES:
                raise ValueError(
                    f"Table {self.name}: column {column.name} has the unknown role {column.role!r} "
                    f"(expected one of {', '.join(ROLES)})."
                )
            if column.role == "count" and not column.counts:
                raise ValueError(
                    f"Table {self.name}: the count column {column.name} does not say what it counts (Column.counts: "
                    f"one of {', '.join(COUNTED_UNITS)})."
                )
            if column.counts and column.counts not in (*COUNTED_UNITS, PER_ROW_UNIT):
                raise ValueError(
                    f"Table {self.name}: column {column.name} counts {column.counts!r}, which is not one of "
                    f"{', '.join(COUNTED_UNITS)} or {PER_ROW_UNIT!r}."
                )
        names = [column.name for column in columns]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(
                f"Table {self.name}: the column names {', '.join(duplicated)} are declared more than once."
            )
        if any(column.counts == PER_ROW_UNIT for column in columns) and UNIT_COLUMN not in names:
            raise ValueError(
                f"Table {self.name}: a column counts {PER_ROW_UNIT!r} but the table has no {UNIT_COLUMN} column "
                "giving the unit of each row."
            )
        key = tuple(self.key)
        object.__setattr__(self, "key", key)
        unknown = [name for name in key if name not in names]
        if unknown or len(set(key)) != len(key):
            raise ValueError(
                f"Table {self.name}: the key ({', '.join(map(str, key))}) must name declared columns, each once."
            )
        if not isinstance(self.frame, pd.DataFrame):
            raise ValueError(
                f"Table {self.name}: the frame must be a pandas DataFrame, not {type(self.frame).__name__}."
            )
        actual = list(self.frame.columns)
        if actual != names:
            raise ValueError(
                f"Table {self.name}: the frame's columns ({', '.join(map(str, actual))}) are not the declared "
                f"columns in their order ({', '.join(names)})."
            )

    def column(self, name: str) -> Column:
        """The declared column called `name`."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"Table {self.name} has no column {name!r}.")


def table_from_spec(
    name: str, title: str, description: str, spec, frame: pd.DataFrame, key: tuple[str, ...] = ()
) -> Table:
    """A Table whose columns are given as (name, header, role, unit, description[, counts]) tuples, the frame cut to
    them in that order (index reset), with its `key`."""
    columns = tuple(Column(*item) for item in spec)
    return Table(name, title, description, columns, frame[[c.name for c in columns]].reset_index(drop=True), key)


def status_label(code) -> str:
    """The French word of a status code (`masked` -> `secret statistique`)."""
    return STATUS_LABELS[code]


def level_label(code: str) -> str:
    """The French name of a territorial level code (`region` -> `Région`)."""
    if code not in LEVEL_LABELS:
        raise ValueError(f"The level {code!r} has no French label (expected one of {', '.join(LEVEL_LABELS)}).")
    return LEVEL_LABELS[code]


_BAND = re.compile(r"(<)?(\d+)(?:-(\d+))?(\+)?\s*([a-z]*)")
_BAND_UNITS = {"": "", "m": "mois", "mois": "mois", "a": "ans", "an": "ans", "ans": "ans"}


def _band(text: str, unit: str) -> str | None:
    """`<26`, `26-49`, `50+` (with `unit`, or the unit the text ends with: `<12mois`) in words; None if not a band."""
    match = _BAND.fullmatch(text.strip())
    if match is None or match[5] not in _BAND_UNITS or (match[1] and (match[3] or match[4])):
        return None
    less, low, high, plus, suffix = match.groups()
    unit = f" {_BAND_UNITS[suffix] or unit}".rstrip()
    if less:
        words = f"moins de {low}{unit}"
    elif high:
        words = f"{low} à {high}{unit}"
    else:
        words = f"{low}{unit} ou plus" if plus else f"{low}{unit}"
    return re.sub(r"\b([01]) ans\b", r"\1 an", words)


def breakdown_label(code: str) -> str:
    """The French name of a breakdown code (`sexe=F` -> `Femmes`, `age=<26` -> `Moins de 26 ans`, `anciennete=<12m`
    -> `Ancienneté d'inscription : moins de 12 mois`)."""
    if code in BREAKDOWN_LABELS:
        return BREAKDOWN_LABELS[code]
    key, _, value = str(code).partition("=")
    band = _band(value, "ans" if key == "age" else "")
    if key == "age" and band:
        return band[0].upper() + band[1:]
    if key == "anciennete" and band:
        return f"Ancienneté d'inscription : {band}"
    raise ValueError(f"The breakdown {code!r} has no French label (known: {', '.join(BREAKDOWN_LABELS)}).")


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the label column of each code column it has (`libelle_niveau` of `niveau`, `libelle_ventilation`
    of `ventilation`), unless the frame already has it."""
    out = frame.copy()
    for code, label in LABEL_COLUMNS.items():
        if code in out.columns and label not in out.columns:
            function = level_label if code == "niveau" else breakdown_label
            out[label] = [None if pd.isna(value) else function(value) for value in out[code].tolist()]
    return out
