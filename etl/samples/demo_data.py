"""Sample files for `make demo`: the generators' output dropped in the inboxes of the sources they imitate.

Three years of files for every source: monthly France Travail job seekers (2023-10 to 2026-09, each revising the two
months before it, Latin-1 before 2024, UTF-8 after), yearly contact points and, for November 2024, November 2025 and
the last three months, the individual extract (300,000 job seekers a month, the last one gzip-compressed; the
Novembers give the annual table of the QPV in veille active its job seekers, and no semestrial edition reads them);
INSEE's job seekers by QPV at 31 December 2024 and 2025 in its own layout (DEFM<YYYY>_QP24.csv: the figures of France
Travail's last revision of those months, which core keeps exposing); CAF households (2023-2025: 2023 in INSEE's
workbook by QPV, the later years in the CAF's own file, which keeps the QPV in veille active) and quarterly crèche
places; ANS subsidy lines and licences (the CAF, the licences and the extract also report some QPV in veille active
under their 2015 code); the other national producers' indicator files;
INSEE's population of the 2024 QPV (the 2020 census, a workbook with its title block); the QPV referential of both
geographies and the perimeters of the 2024 QPV (the ANCT's zip of GeoJSON, plausible polygons laid out by
département). Each source also gets one file broken on purpose, which the demo expects to see quarantined. A few
deliveries come in a second wave, after the first DAG runs, as in real life: a late France Travail month (older
than deliveries already loaded: its figures are kept as an earlier vintage), a late crèche quarter, a corrected CAF
year (which replaces the first delivery of that year), and the corrected workbook of a région whose first one was
rejected.

Regional workbooks (campaign 2024): 16 of the 18 régions send one (Mayotte and Corse do not), filled from the
template with plausible figures (counts of QPV within the QPV of the referential dropped with them), some typed the
way staff type (`12,5 %`, `1 234`, `n.d.`); three of them with realistic mistakes
(`REGIONAL_MISTAKES`), which the demo expects to see rejected; Île-de-France sends its corrected workbook in the
second wave. PAQTE reports of semester 2024-S2 come from the départements of Auvergne-Rhône-Alpes but the Cantal,
the Isère's with mistakes.

Generators are deterministic, so a second demo drops byte-identical files, which landing recognises and skips:
the warehouse state does not change. The files generated are kept under `<home>/demo/samples/<key>/` (read-only),
the key being the sha256 of what they depend on: the seed, periods and sources asked for, every Python file of
`etl/`, every file of `catalogue/` and the versions of the libraries that write them. A demo asking for the same
files with nothing of that changed drops those copies instead of generating them again (11 s on the development
machine); anything changed makes another key, and the files are generated again (the older copies are removed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from etl.config import Home

DEMO_MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024, 2025, 2026) for m in range(1, 13)][9:45]  # 2023-10 .. 2026-09
# France Travail's individual extract: November 2024 and 2025 (the latest month of those years the annual veille-active
# table reads; not a semester's end, so the semestrial editions keep the monthly files) and the last three demo months,
# at a twentieth of France's 6 million job seekers (make bench measures the full size), the last one gzip-compressed as
# the producer may send it
DEMO_EXTRACT_MONTHS = ["2024-11", "2025-11", *DEMO_MONTHS[-3:]]
DEMO_EXTRACT_ROWS = 300_000
DEMO_YEARS = [2023, 2024, 2025]
DEMO_QUARTERS = [f"{y}-Q{q}" for y in DEMO_YEARS for q in range(1, 5)]
# Delivered in the second wave: (source, file name).
LATE = {
    ("france_travail_defm", "DEFM_QPV_202506.csv"),
    ("caf_creches", "CAF_EAJE_QPV_2024T3.csv"),
    ("caf_allocataires", "CAF_QPV_2024_rectificatif.csv"),
    ("regional", "indicateurs_locaux_R11_2024_v2.xlsx"),
}
CAF_REVISED = (2024,)  # the CAF year re-delivered corrected (CAF_QPV_2024_rectificatif.csv, second wave)
CAF_OWN_LAYOUT_FROM = 2024  # the CAF years before it come in INSEE's layout (insee_caf_years)
DEMO_CAMPAIGN = 2024
# INSEE's population of the 2024 QPV: the 2020 census they were counted on, the latest the editions of 2024-2025 use
DEMO_POPULATION_YEAR = 2020
REGIONAL_MISSING = ("06", "94")  # Mayotte, Corse: nothing received
REGIONAL_MISTAKES = {
    "11": ("part_superieure_100", "texte_dans_nombre"),  # corrected in the second wave
    "27": ("ventilation_incoherente", "formule_sans_valeur"),
    "93": ("colonne_supprimee",),
}
REGIONAL_TYPED = ("24", "32", "52")  # filled by typing text the way staff do
PAQTE_SEMESTER = "2024-S2"
PAQTE_REGION = "84"  # the départements of Auvergne-Rhône-Alpes send their PAQTE report...
PAQTE_MISSING = ("15",)  # ... but the Cantal
PAQTE_MISTAKES = {"38": ("date_hors_semestre", "siren_invalide")}


@dataclass
class SampleDrop:
    dropped: list[str] = field(default_factory=list)  # "source/file", first wave
    expected_quarantine: set[tuple[str, str]] = field(default_factory=set)  # (source, file) broken on purpose
    held_back: list[tuple[str, Path]] = field(default_factory=list)  # second wave, kept under <home>/demo/late/

    @property
    def late_sources(self) -> list[str]:
        return sorted({source_id for source_id, _ in self.held_back})


def _drop(path: Path, home: Home, source_id: str, drop: SampleDrop) -> None:
    if "_broken" in path.name:
        drop.expected_quarantine.add((source_id, path.name))
    if (source_id, path.name) in LATE:
        waiting = home.root / "demo" / "late" / source_id
        waiting.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, waiting / path.name)
        drop.held_back.append((source_id, waiting / path.name))
        return
    inbox = home.folder("inbox") / source_id
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, inbox / path.name)
    drop.dropped.append(f"{source_id}/{path.name}")


def drop_late_files(home: Home, drop: SampleDrop) -> list[str]:
    """The second wave: move the held-back files into their inboxes."""
    moved = []
    for source_id, path in drop.held_back:
        inbox = home.folder("inbox") / source_id
        inbox.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, inbox / path.name)
        moved.append(f"{source_id}/{path.name}")
    return moved


def drop_sample_files(
    home: Home,
    seed: int = 2024,
    *,
    months: list[str] | None = None,
    years: list[int] | None = None,
    quarters: list[str] | None = None,
    sources: set[str] | None = None,
) -> SampleDrop:
    """Generate the sample files and put them in their inboxes (second-wave files aside, see `drop_late_files`).

    The QPV referential always; the files of `sources` only when given (tests), of every source by default; the
    demo's months, years and quarters unless others are given (tests use fewer). Files generated before for the same
    key are dropped from their copies (see the module docstring)."""
    with referential_first(home, seed, months=months, years=years, quarters=quarters, sources=sources) as rest:
        return rest()


REFERENTIAL_SOURCES = ("anct_qpv", "anct_qpv_correspondance")  # generated first: every other generator reads them


@contextlib.contextmanager
def referential_first(
    home: Home,
    seed: int = 2024,
    *,
    months: list[str] | None = None,
    years: list[int] | None = None,
    quarters: list[str] | None = None,
    sources: set[str] | None = None,
) -> Iterator[Callable[[], SampleDrop]]:
    """`drop_sample_files` in two steps: the QPV referential's files are in their inboxes when the block starts, the
    other sources' files are generated in the background meanwhile (when no earlier demo kept them), and the function
    the block is given waits for them, drops them and returns the whole drop. The demo loads the referential while
    the rest is generated: the referential's DAG runs alone, on one core. The same files, in the same order, as in
    one step."""
    from concurrent.futures import ThreadPoolExecutor

    wanted = [source_id for source_id in SAMPLE_SOURCES if sources is None or source_id in sources]
    plan = (seed, months, years or DEMO_YEARS, quarters or DEMO_QUARTERS)
    folder = home.root / "demo" / "samples"
    key = samples_key(*plan, wanted)
    drop = SampleDrop()

    def dropped(files: list[tuple[str, Path, bool]]) -> SampleDrop:
        for source_id, path, broken in files:
            if broken:
                drop.expected_quarantine.add((source_id, path.name))
            _drop(path, home, source_id, drop)
        return drop

    kept = _kept_samples(folder / key)
    if kept is not None:
        first = [entry for entry in kept if entry[0] in REFERENTIAL_SOURCES]
        dropped(first)
        yield lambda: dropped([entry for entry in kept if entry[0] not in REFERENTIAL_SOURCES])
        return
    with tempfile.TemporaryDirectory(prefix="obs-samples-") as tmp, ThreadPoolExecutor(1) as background:
        referential = _referential_files(Path(tmp), seed)
        dropped(referential)
        generating = background.submit(_source_files, SamplePlan(Path(tmp), Path(tmp) / "territories", *plan), wanted)

        def rest() -> SampleDrop:
            kept = _keep_samples(folder, key, referential + generating.result())
            return dropped(kept[len(referential) :])

        yield rest


def _referential_files(tmp: Path, seed: int) -> list[tuple[str, Path, bool]]:
    """The QPV referential's files under `tmp/territories`: (source, path, False), in the order they are dropped."""
    from etl.samples.generators import territories

    files = []
    for path in territories.generate(tmp / "territories", seed=seed):  # the other generators read them too
        if path.name == territories.CORRESPONDANCE_FILE:
            continue  # the platform's long layout: the demo loads ANCT's real one (CORRESPONDANCE_WIDE_FILE)
        files.append(("anct_qpv_correspondance" if "correspondance" in path.name else "anct_qpv", path, False))
    return files


def _source_files(plan: SamplePlan, wanted: list[str]) -> list[tuple[str, Path, bool]]:
    """The files of each source of `wanted`, generated from the referential of `plan`: (source, path, broken on
    purpose for a reason its name does not say), in the order they are dropped."""
    return [
        (source_id, path, broken)
        for source_id, generated in zip(wanted, _generated(plan, wanted), strict=True)
        for path, broken in generated
    ]


SAMPLE_LIBRARIES = ("numpy", "pandas", "pyarrow", "openpyxl", "xlsxwriter")  # the libraries the generators write with


def samples_key(seed, months, years, quarters, wanted) -> str:
    """The sha256 of what the sample files depend on (see the module docstring)."""
    from importlib.metadata import version

    from etl.config import PROJECT_ROOT

    digest = hashlib.sha256(json.dumps([seed, months, years, quarters, wanted]).encode())
    digest.update(json.dumps({name: version(name) for name in SAMPLE_LIBRARIES}).encode())
    code = sorted((PROJECT_ROOT / "etl").rglob("*.py")) + sorted((PROJECT_ROOT / "catalogue").rglob("*"))
    for path in code:
        if path.is_file():
            digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _kept_samples(folder: Path) -> list[tuple[str, Path, bool]] | None:
    """The files kept in `folder` (its `index.json`), None when there are none."""
    index = folder / "index.json"
    if not index.is_file():
        return None
    return [(source_id, folder / name, broken) for source_id, name, broken in json.loads(index.read_text())]


def _keep_samples(folder: Path, key: str, files: list[tuple[str, Path, bool]]) -> list[tuple[str, Path, bool]]:
    """Copy the generated `files` into `folder/key` (read-only, written under another name then renamed, so that a
    half-written copy is never taken for one), remove the copies of other keys; the files as kept."""
    staging = folder / f".{key}.partial-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    index = []
    for number, (source_id, path, broken) in enumerate(files):
        name = f"{number:03d}/{path.name}"  # a name of its own: two sources may send files of the same name
        (staging / name).parent.mkdir()
        shutil.copyfile(path, staging / name)
        (staging / name).chmod(0o444)
        index.append((source_id, name, broken))
    (staging / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    for other in folder.iterdir():
        if other != staging:
            shutil.rmtree(other, ignore_errors=True)
    staging.rename(folder / key)
    return [(source_id, folder / key / name, broken) for source_id, name, broken in index]


# The sources the demo generates files for, in the order they are dropped, with the seconds each generator took on
# the development machine (the longest are started first when they are generated side by side).
SAMPLE_SOURCES = {
    "france_travail_defm": 7.4, "france_travail_contacts": 0.8, "france_travail_individus": 5.7,
    "caf_allocataires": 1.5, "caf_creches": 0.6, "ans_subventions": 1.1, "ans_licences": 1.1,
    "national_indicateurs": 0.1, "anct_qpv_perimetres": 0.7, "insee_population": 0.9, "regional": 5.2, "paqte": 1.6,
}  # fmt: skip


@dataclass(frozen=True)
class SamplePlan:
    """What every generator of `drop_sample_files` is given: a folder of its own under `out`, the generated QPV
    referential, the seed and the periods (`months` None: the demo's)."""

    out: Path
    territories: Path
    seed: int
    months: list[str] | None
    years: list[int]
    quarters: list[str]


def _generated(plan: SamplePlan, wanted: list[str]) -> list[list[tuple[Path, bool]]]:
    """The files of each source of `wanted` ((path, broken on purpose), in `wanted`'s order). The generators are
    independent and deterministic: with more than one source and more than one core they run side by side in
    worker processes (a fresh interpreter each, forkserver, not a copy of the caller's connections), longest first;
    the files are the same bytes either way."""
    import os

    workers = min(len(wanted), os.cpu_count() or 1)
    if workers < 2:
        return [generate_source(source_id, plan) for source_id in wanted]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        futures = {s: pool.submit(generate_source, s, plan) for s in sorted(wanted, key=lambda s: -SAMPLE_SOURCES[s])}
        return [futures[source_id].result() for source_id in wanted]


def generate_source(source_id: str, plan: SamplePlan) -> list[tuple[Path, bool]]:
    """The sample files of one source of SAMPLE_SOURCES, each with whether it is broken on purpose for a reason its
    name does not say (a `_broken` file is recognised by its name in `_drop`)."""
    from etl.samples.generators import ans, caf, insee, perimetres
    from etl.samples.generators import france_travail as ft
    from etl.samples.generators import national as other

    out, terr, seed, years = plan.out, plan.territories, plan.seed, plan.years
    months = plan.months or DEMO_MONTHS
    if source_id == "regional":
        return regional_workbooks(out / "regional", seed=seed)
    if source_id == "paqte":
        return paqte_reports(out / "paqte", seed=seed)
    generators = {
        "france_travail_defm": lambda: (
            ft.generate_defm(out / "ft", terr, months, seed=seed, broken=True)
            + ft.generate_defm_insee(out / "ft_insee", terr, insee_defm_years(months), seed=seed)
        ),
        "france_travail_contacts": lambda: ft.generate_contacts(out / "ftc", terr, years, seed=seed),
        "france_travail_individus": lambda: _extracts(out / "fti", terr, plan.months, seed),
        "caf_allocataires": lambda: _caf_files(out / "caf", terr, years, seed),
        "caf_creches": lambda: caf.generate_creches(out / "eaje", terr, plan.quarters, seed=seed, broken=True),
        "ans_subventions": lambda: ans.generate_subventions(out / "anss", terr, years, seed=seed, broken=True),
        "ans_licences": lambda: ans.generate_licences(out / "ansl", terr, years, seed=seed, broken=True),
        "national_indicateurs": lambda: other.generate(out / "nat", years, seed=seed, broken=True),
        "anct_qpv_perimetres": lambda: perimetres.generate(out / "perimetres", terr, seed=seed, broken=True),
        "insee_population": lambda: insee.generate(out / "insee", terr, [DEMO_POPULATION_YEAR], seed=seed, broken=True),
    }
    return [(path, False) for path in generators[source_id]()]


def insee_defm_years(months: list[str]) -> list[int]:
    """The years INSEE's job seekers by QPV (DEFM<YYYY>_QP24.csv) are dropped for: those of the 2024 QPV whose
    December France Travail has already revised for the last time among `months` (its file of M+2), so that core,
    which exposes the latest vintage of each figure, keeps France Travail's figures (the same as INSEE's)."""
    from etl.samples.generators import france_travail as ft

    return [
        int(month[:4])
        for month in months
        if month.endswith("-12") and month >= ft.FIRST_2024_MONTH and f"{int(month[:4]) + 1}-02" in months
    ]


def insee_caf_years(years: list[int]) -> list[int]:
    """The years whose CAF beneficiaries are dropped in INSEE's workbook by QPV (`beneficiaires_CAF_31-12-<YYYY>_QP15
    .xlsx`) rather than in the CAF's own `CAF_QPV_<YYYY>.csv`: those before the 2024 geography. INSEE's file counts
    the QPV of its geography only, while from 2024 on the CAF's own file also keeps the veille-active QPV under their
    2015 code, which the annual table of the QPV in veille active reads: those years keep it."""
    return [year for year in years if year < CAF_OWN_LAYOUT_FROM]


def _caf_files(folder: Path, territories_dir: Path, years: list[int], seed: int) -> list[Path]:
    """The CAF beneficiaries of `years`: INSEE's workbooks (`insee_caf_years`), then the CAF's own files of the
    other years, the revised year's rectificatif and a broken copy of the last year."""
    from etl.samples.generators import caf

    insee = insee_caf_years(years)
    own = [year for year in years if year not in insee]
    files = caf.generate_allocataires_insee(folder / "insee", territories_dir, insee, seed=seed)
    if own:
        revised = [year for year in CAF_REVISED if year in own]
        files += caf.generate_allocataires(folder, territories_dir, own, seed=seed, broken=True, revised=revised)
    return files


def _extracts(folder: Path, territories_dir: Path, months: list[str] | None, seed: int) -> list[Path]:
    """The individual extracts of the demo (or of the last of `months`, for tests), the last gzip-compressed, and a
    broken one."""
    from etl.samples.generators import france_travail_individus as fti

    wanted = months[-1:] if months else DEMO_EXTRACT_MONTHS
    files = fti.generate(folder, territories_dir, wanted[:-1], rows=DEMO_EXTRACT_ROWS, seed=seed)
    files += fti.generate(folder, territories_dir, wanted[-1:], rows=DEMO_EXTRACT_ROWS, seed=seed, gzip=True,
                          broken=True)  # fmt: skip
    return files


def paqte_reports(folder: Path, *, seed: int, semester: str = PAQTE_SEMESTER) -> list[tuple[Path, bool]]:
    """(PAQTE report, broken on purpose) of the départements of PAQTE_REGION that send one."""
    from etl.referentiels.territories import load_departements
    from etl.samples.generators import paqte

    folder.mkdir(parents=True, exist_ok=True)
    departements = load_departements()
    out = []
    for code in departements.loc[departements["code_region"] == PAQTE_REGION, "code"]:
        if code in PAQTE_MISSING:
            continue
        mistakes = PAQTE_MISTAKES.get(code, ())
        path = folder / paqte.paqte_file_name(code, semester)
        path.write_bytes(paqte.filled_paqte(code, semester, seed=seed, mistakes=mistakes).content)
        out.append((path, bool(mistakes)))
    return out


def regional_workbooks(folder: Path, *, seed: int, campaign: int = DEMO_CAMPAIGN) -> list[tuple[Path, bool]]:
    """(workbook, broken on purpose) of the régions that send one (see the module doc), and the corrected one."""
    from etl.referentiels.territories import load_regions
    from etl.samples.generators import submissions

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for code in load_regions()["code"]:
        if code in REGIONAL_MISSING:
            continue
        mistakes = REGIONAL_MISTAKES.get(code, ())
        filled = submissions.filled_workbook(
            code, campaign, seed=seed, mistakes=mistakes, typed=code in REGIONAL_TYPED, territories_seed=seed
        )
        path = folder / submissions.submission_file_name(code, campaign)
        path.write_bytes(filled.content)
        out.append((path, bool(mistakes)))
        if code == "11":
            corrected = submissions.filled_workbook(code, campaign, seed=seed, territories_seed=seed)
            path = folder / submissions.submission_file_name(code, campaign, "v2")
            path.write_bytes(corrected.content)
            out.append((path, False))
    return out
