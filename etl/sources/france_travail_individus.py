"""France Travail's monthly individual extract: one pseudonymised line per job seeker registered at month end.

`DE_INDIVIDUS_<YYYYMM>.csv` (or `.csv.gz`), UTF-8, `;`: `id_anonyme` (16 hex digits, unique in the file), `mois`
(`2025-06`), `code_commune` (INSEE code of residence), `code_qpv` (the QPV of residence, geocoded by the producer,
empty outside any QPV), `categorie` (A, B, C), `sexe` (F, H), `tranche_age` and `anciennete` (registration duration
band). About 6 million lines a month: far too many for a DataFrame. So `read_extract` streams the file through
Arrow's CSV parser block by block (`etl.readers.group_extract`) and keeps its distinct lines without the id, each
with its number of job seekers (`lignes`) and first file line: a lossless summary of every breakdown the file
allows, a few hundred thousand rows at most, bounded by the territories and bands, not by the file. The gates
check that summary (every distinct value of every column is in it, so nothing is sampled), `normalise_extract`
types it into `staging.france_travail_individus`, and `sql/core/france_travail_individus.sql` aggregates it to
every territory level with GROUPING SETS: QPV, commune, EPCI, département, région and France, for categories A and
ABC, in total and by sex, age band and duration band (indicators FT_DEFM_INDIV_A and FT_DEFM_INDIV_ABC). Counts are
exact: no cell is masked here; statistical secrecy applies downstream, at publication.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from etl.readers import group_extract
from etl.referentiels.codes import pad_digits
from etl.sources.values import latest_period, text

COLUMNS = ("id_anonyme", "mois", "code_commune", "code_qpv", "categorie", "sexe", "tranche_age", "anciennete")
KEY_COLUMN = "id_anonyme"
CATEGORIES = ("A", "B", "C")
SEXES = ("F", "H")
AGE_BANDS = ("moins_26", "26_49", "50_plus")
DURATION_BANDS = ("moins_1an", "1_2ans", "2ans_plus")
# the producer's band codes -> the warehouse's breakdown values (those of the DEFM files for age)
AGE_BREAKDOWN = {"moins_26": "<26", "26_49": "26-49", "50_plus": "50+"}
DURATION_BREAKDOWN = {"moins_1an": "<1an", "1_2ans": "1-2ans", "2ans_plus": "2ans+"}
INDICATORS = ("FT_DEFM_INDIV_A", "FT_DEFM_INDIV_ABC")


def read_extract(path: Path) -> pd.DataFrame:
    """The extract's distinct lines (every column but the id, as text) with `lignes` and `line_no`."""
    return group_extract(path, COLUMNS, KEY_COLUMN)


def departement_of(communes: pd.Series) -> pd.Series:
    """The département of INSEE commune codes: 3 characters overseas (`97411` -> `974`), else 2 (`2A004` -> `2A`)."""
    return communes.str[:2].where(~communes.str.startswith("97"), communes.str[:3])


def normalise_extract(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The distinct lines as read -> `{"individus": frame}`, typed for `staging.france_travail_individus`.

    Commune codes that lost their leading zero are padded to 5 characters; `departement_code` is derived from the
    commune; an empty QPV cell is no QPV (NULL); `age` and `anciennete` are the warehouse's breakdown values; a band
    code outside the producer's list stays as read, so that the rows gate rejects it with its line. `qpv_commune`
    (`QPV|commune`, missing outside any QPV) lets the gate check that the QPV lies in that commune."""
    commune = pad_digits(text(raw["code_commune"]), 5)
    qpv = text(raw["code_qpv"])
    age = text(raw["tranche_age"])
    duration = text(raw["anciennete"])
    frame = pd.DataFrame(
        {
            "line_no": raw["line_no"].to_numpy(dtype="int64"),
            "period_code": text(raw["mois"]).to_numpy(),
            "commune_code": commune.to_numpy(),
            "departement_code": departement_of(commune).to_numpy(),
            "qpv_code": qpv.where(qpv != "", None).to_numpy(),
            "categorie": text(raw["categorie"]).to_numpy(),
            "sexe": text(raw["sexe"]).to_numpy(),
            "age": age.map(AGE_BREAKDOWN).fillna(age).to_numpy(),
            "anciennete": duration.map(DURATION_BREAKDOWN).fillna(duration).to_numpy(),
            "lignes": raw["lignes"].to_numpy(dtype="int64"),
        }
    )
    frame["qpv_commune"] = (frame["qpv_code"] + "|" + frame["commune_code"]).where(frame["qpv_code"].notna(), None)
    return {"individus": frame}


def vintage(staged: dict[str, pd.DataFrame]) -> str:
    """The partition of an extract: its month (a corrected extract of the month replaces the first)."""
    return latest_period(staged, "individus")
