"""The portrait of every QPV of an annual edition, and the ways a reader finds it: one static page per QPV, the list of
them all, and a search box on the national page.

When the edition holds the données QPV tables (etl.publication.qpv_data: `donnees_qpv_caf`, `_sport`,
`_petite_enfance`, `_emploi`), `Portraits(tables, places)` reads their QPV rows once, grouped by QPV, and gives:

- a page per QPV, `qpv/<code>.html` (`pages`): its name and code, its commune(s) and EPCI (`places`, from
  qpv_data.places: the tables do not say them), département and région; its rank in its département and in its région
  on the main indicators (`MAIN`: the rate per 100 inhabitants where the indicator has one, else the value; rank 1 is
  the highest, among the QPV of that territory whose figure is published, tied QPV sharing the best rank; `rang non
  calculé` with the reason when the QPV's own figure is masked, not available or without object); then per theme every
  indicator and breakdown of the year: value and status, N-1 and N-3 with their status and the changes, the rate per
  100 inhabitants and the year of its population, each indicator's name linked to its fiche (`../fiches/<code>.html`);
- `qpv/index.html` (`listing`): every QPV by région and département, linked to its page: the way in without JavaScript;
- the national page's section (`search_section`): a link to that list, and a search box (a labelled input) that finds
  a QPV by name, code, commune or département as one types (accents, case and punctuation ignored) and lists links to
  the pages. The QPV are embedded in the page as a JSON data block; the script (`SEARCH_SCRIPT`, inline, allowed by its
  hash in the page's Content-Security-Policy, so the page still opens from a file) reveals the box, which stays hidden
  when JavaScript is off.

Cells are shown as everywhere in the report (etl.publication.report_cells: French numbers, `s` for a masked cell,
statuses as French words): a masked figure is never a number and has no rank. etl.publication.report assembles and
writes the pages in the report's frame. Same tables, same bytes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl.publication.qpv_data import THEMES, Theme
from etl.publication.report_cells import (
    Page,
    PreparedCells,
    cell_display,
    cell_html,
    escape,
    format_number,
    html_table,
)
from etl.publication.tables import STATUS_LABELS, Table

FOLDER = "qpv"
LISTING = f"{FOLDER}/index.html"
NEEDS = (
    "annee", "niveau", "code_territoire", "territoire", "code_departement", "code_region", "geographie",
    "code_indicateur", "indicateur", "ventilation", "libelle_ventilation", "valeur", "statut", "valeur_n1",
    "statut_valeur_n1", "evolution_n1", "valeur_n3", "statut_valeur_n3", "evolution_n3", "taux", "statut_taux",
    "annee_population",
)  # fmt: skip
SHOWN = (
    "indicateur", "libelle_ventilation", "valeur", "statut", "valeur_n1", "statut_valeur_n1", "evolution_n1",
    "valeur_n3", "statut_valeur_n3", "evolution_n3", "taux", "annee_population",
)  # fmt: skip
SIGNED = ("evolution_n1", "evolution_n3")
# the indicators a QPV is ranked on: (code, the column ranked, what the rank is about)
MAIN = (
    ("CAF_PERSONNES_COUVERTES", "taux", "Personnes couvertes par la CAF, pour 100 habitants"),
    ("CAF_ALLOCATAIRES", "valeur", "Foyers allocataires de la CAF"),
    ("IND20", "taux", "Licences sportives, pour 100 habitants"),
    ("CAF_PLACES_EAJE", "valeur", "Places en établissements d'accueil du jeune enfant"),
    ("FT_DEFM_A", "taux", "Demandeurs d'emploi de catégorie A, pour 100 habitants de 15 à 64 ans"),
    ("FT_DEFM_ABC", "taux", "Demandeurs d'emploi de catégories A, B, C, pour 100 habitants de 15 à 64 ans"),
)
RANKED_STATUS = {"valeur": "statut", "taux": "statut_taux"}  # the status saying whether a ranked cell is published
SCOPES = (("departement", "code_departement"), ("region", "code_region"))
SHOWN_RESULTS = 20  # results the search box lists (the count says how many more there are)
RANK_NOTE = (
    "Rang 1 : la valeur la plus élevée. Le rang est calculé parmi les quartiers du territoire dont la valeur est "
    "publiée (des quartiers à égalité partagent le meilleur rang) ; un quartier dont la valeur est masquée au titre du "
    "secret statistique ou non disponible n'est pas classé."
)
TABLE_NOTE = (
    "Évolutions : valeur de l'année moins la valeur N-1 (ou N-3), quand les deux sont publiées ; une rupture de série "
    "signale une année antérieure reposant sur une autre liste de quartiers prioritaires (2015 ou 2024). Taux : pour "
    "100 habitants (de 15 à 64 ans pour les demandeurs d'emploi), sur la population Insee de l'année indiquée."
)

SEARCH_SCRIPT = r"""
(function () {
  "use strict";
  var form = document.getElementById("recherche-qpv");
  var data = document.getElementById("recherche-qpv-index");
  if (!form || !data) { return; }
  var entries = JSON.parse(data.textContent);
  var input = document.getElementById("recherche-qpv-texte");
  var state = document.getElementById("recherche-qpv-etat");
  var list = document.getElementById("recherche-qpv-resultats");
  var shown = Number(list.getAttribute("data-max"));
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
  }
  var keys = entries.map(function (entry) { return " " + fold(entry.slice(0, 4).join(" ")) + " "; });
  function search() {
    var words = fold(input.value).split(" ").filter(function (word) { return word !== ""; });
    list.textContent = "";
    if (words.length === 0) { state.textContent = ""; return; }
    var found = entries.filter(function (entry, i) {
      return words.every(function (word) { return keys[i].indexOf(word) >= 0; });
    });
    found.slice(0, shown).forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = entry[4];
      link.textContent = entry[1] + " (" + entry[0] + ")";
      item.appendChild(link);
      item.appendChild(document.createTextNode(" – " + entry[2]));
      list.appendChild(item);
    });
    if (found.length === 0) {
      state.textContent = "Aucun quartier ne correspond à cette recherche.";
    } else if (found.length === 1) {
      state.textContent = "1 quartier trouvé.";
    } else if (found.length > shown) {
      state.textContent = found.length + " quartiers trouvés ; les " + shown +
        " premiers sont affichés, précisez la recherche.";
    } else {
      state.textContent = found.length + " quartiers trouvés.";
    }
  }
  input.addEventListener("input", search);
  form.addEventListener("submit", function (event) { event.preventDefault(); search(); });
  form.hidden = false;
  search();
})();
"""


def portrait_file(code: str) -> str:
    """The path of a QPV's portrait in the edition folder: `qpv/<code>.html` (a character a file name should not hold
    replaced by `_`)."""
    return f"{FOLDER}/{re.sub(r'[^A-Za-z0-9_-]', '_', str(code))}.html"


def present(tables: Sequence[Table]) -> bool:
    """Whether the edition holds a données QPV table (then it has portraits)."""
    names = {table.name for table in tables}
    return any(theme.name in names for theme in THEMES)


def _ordinal(rank: int) -> str:
    return "1er" if rank == 1 else f"{rank}e"


@dataclass
class Quartier:
    """A QPV of the edition: its identity and, per theme table, its rows in that theme's table of QPV rows."""

    code: str
    name: str
    departement: str
    region: str
    geographie: str
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    communes: list[str] = field(default_factory=list)
    epci: list[str] = field(default_factory=list)


@dataclass
class _Theme:
    theme: Theme
    table: Table  # the QPV rows of the theme's table
    cells: PreparedCells
    year: str
    codes: np.ndarray = field(init=False)  # each row's indicator code, for the links to the fiches

    def __post_init__(self) -> None:
        self.codes = self.table.frame["code_indicateur"].to_numpy()  # once, not once per QPV page


class Portraits:
    """The QPV portraits of an edition's `tables` (see the module doc); `places`: qpv_data.places, or None."""

    def __init__(self, tables: Sequence[Table], places: pd.DataFrame | None = None) -> None:
        by_name = {table.name: table for table in tables}
        self.themes: list[_Theme] = []
        self.names: dict[tuple[str, str], str] = {}  # (niveau, code) of a département or région -> its name
        found: dict[str, Quartier] = {}
        for theme in THEMES:
            table = by_name.get(theme.name)
            if table is None:
                continue
            missing = [name for name in NEEDS if name not in table.frame.columns]
            if missing:
                raise ValueError(f"Table {table.name}: the QPV portraits need the columns {', '.join(missing)}.")
            frame = table.frame
            level = frame["niveau"].to_numpy()
            for niveau in ("departement", "region"):
                rows = frame.loc[level == niveau, ["code_territoire", "territoire"]].drop_duplicates("code_territoire")
                for code, name in rows.itertuples(index=False):
                    self.names.setdefault((niveau, str(code)), str(name))
            qpv = dataclasses.replace(table, frame=frame.loc[level == "qpv"].reset_index(drop=True))
            identity = ["code_territoire", "territoire", "code_departement", "code_region", "geographie"]
            firsts = qpv.frame[identity].drop_duplicates("code_territoire")
            for code, *identity in firsts.itertuples(index=False):
                found.setdefault(code, Quartier(code, *("" if pd.isna(value) else str(value) for value in identity)))
            for code, positions in qpv.frame.groupby("code_territoire", sort=False).indices.items():
                found[code].rows[theme.name] = positions
            years = qpv.frame["annee"].dropna()
            self.themes.append(_Theme(theme, qpv, PreparedCells(qpv), str(years.iloc[0]) if len(years) else ""))
        self.quartiers = dict(sorted(found.items()))
        if places is not None:
            columns = ["code_qpv", "niveau", "code_territoire", "territoire"]
            for code, niveau, territory, name in places[columns].itertuples(index=False):
                quartier = self.quartiers.get(code)
                if quartier is not None:
                    (quartier.communes if niveau == "commune" else quartier.epci).append(f"{name} ({territory})")
        self.ranks = self._ranks()

    def _ranks(self) -> dict[tuple[str, str], dict]:
        """(QPV, indicator) -> the theme, row and column of its ranked cell and, per scope, (rank or None, QPV ranked,
        QPV in the territory)."""
        out: dict[tuple[str, str], dict] = {}
        for item in self.themes:
            frame = item.table.frame
            for code, column, _ in MAIN:
                mask = ((frame["code_indicateur"] == code) & (frame["ventilation"] == "total")).to_numpy()
                if not mask.any():
                    continue
                rows = frame.loc[mask, ["code_territoire", "code_departement", "code_region", column]]
                published = (frame.loc[mask, RANKED_STATUS[column]] == "ok") & rows[column].notna()
                scoped = {}
                for scope, key in SCOPES:
                    ranked = rows.loc[published]
                    rank = ranked.groupby(key)[column].rank(method="min", ascending=False).reindex(rows.index)
                    among = ranked.groupby(key)[column].size()
                    every = rows.groupby(key)[column].size()
                    # plain lists in the rows' order: one lookup per QPV and scope, not a pandas `.loc` each
                    scoped[scope] = (
                        rank.tolist(),
                        rows[key].map(among).fillna(0).tolist(),
                        rows[key].map(every).tolist(),
                    )
                for i, (position, qpv) in enumerate(zip(rows.index.tolist(), rows["code_territoire"], strict=True)):
                    entry = {"theme": item, "row": int(position), "column": column}
                    for scope, (rank, among, every) in scoped.items():
                        value = rank[i]
                        entry[scope] = (None if pd.isna(value) else int(value), int(among[i]), int(every[i]))
                    out[(qpv, code)] = entry
        return out

    def territory(self, niveau: str, code: str) -> str:
        """`Name (code)` of a département or région of the tables (its code alone when they do not name it)."""
        name = self.names.get((niveau, code))
        return f"{name} ({code})" if name else code

    def place(self, quartier: Quartier) -> str:
        """Where a QPV lies, in words: its commune(s) and its département."""
        communes = ", ".join(name.rsplit(" (", 1)[0] for name in quartier.communes)
        departement = self.territory("departement", quartier.departement)
        return f"{communes}, {departement}" if communes else departement

    # --- the pages --------------------------------------------------------------------------------------------------

    def pages(self, fiches: Mapping[str, str], edition: str) -> Iterator[tuple[Page, str, str]]:
        """(page, heading, région code) of every QPV's portrait, in code order; `edition` ends the pages' titles."""
        for quartier in self.quartiers.values():
            page = Page(
                portrait_file(quartier.code),
                f"{quartier.name} ({quartier.code}) – {edition} – Observatoire QPV",
                fiches=dict(fiches),
            )
            page.add(self._identity(quartier), self._ranks_section(page, quartier))
            for item in self.themes:
                positions = quartier.rows.get(item.theme.name)
                if positions is not None:
                    page.add(self._theme_section(page, item, positions))
            yield page, f"{quartier.name} ({quartier.code})", quartier.region

    def _identity(self, quartier: Quartier) -> str:
        lists = " et ".join(quartier.geographie.split("+"))
        facts = [
            ("Code du quartier", quartier.code),
            ("Commune" + ("s" if len(quartier.communes) > 1 else ""), ", ".join(quartier.communes)),
            ("EPCI", ", ".join(quartier.epci)),
            ("Département", self.territory("departement", quartier.departement)),
            ("Région", self.territory("region", quartier.region)),
            ("Géographie prioritaire", f"liste de {lists}" if lists else ""),
        ]
        items = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in facts if value)
        return (
            '<section id="quartier"><p class="intro">Le portrait du quartier prioritaire de la politique de la ville '
            f"{escape(quartier.name)} : ses chiffres de l'année, leur évolution et son rang parmi les quartiers de son "
            f"département et de sa région. Chaque indicateur renvoie à sa fiche méthodologique.</p>"
            f'<dl class="identite">{items}</dl></section>'
        )

    def _ranks_section(self, page: Page, quartier: Quartier) -> str:
        departement = self.territory("departement", quartier.departement)
        region = self.territory("region", quartier.region)
        lines = []
        for code, _, label in MAIN:
            entry = self.ranks.get((quartier.code, code))
            if entry is None:
                continue
            item, row, column = entry["theme"], entry["row"], entry["column"]
            text, css = cell_display(item.cells(column, row), item.table.column(column))
            status = item.table.frame[RANKED_STATUS[column]].iat[row]
            cells = [f"<td>{page.indicator(code, label)}</td>", cell_html(page, text, css)]
            for scope, _ in SCOPES:
                rank, among, every = entry[scope]
                if rank is None:
                    reason = (STATUS_LABELS.get(status) if status != "ok" else None) or STATUS_LABELS["missing"]
                    cells.append(cell_html(page, f"rang non calculé ({reason})"))
                else:
                    others = f", {every - among} non classés" if every > among else ""
                    cells.append(cell_html(page, f"{_ordinal(rank)} sur {among}{others}"))
            lines.append("<tr>" + "".join(cells) + "</tr>")
        if not lines:
            return ""
        head = "".join(
            f'<th scope="col">{escape(text)}</th>'
            for text in ("Indicateur", "Valeur du quartier", f"Rang dans le département {departement}",
                         f"Rang dans la région {region}")
        )  # fmt: skip
        return (
            f'<section id="rangs"><h2>Rang dans le département et la région</h2><p class="explication">'
            f'{escape(RANK_NOTE)}</p><div class="defilement"><table class="donnees"><caption>'
            f"{escape(quartier.name)} parmi les quartiers de son département et de sa région</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(lines) + "\n</tbody></table></div></section>"
        )

    def _theme_section(self, page: Page, item: _Theme, positions: np.ndarray) -> str:
        codes = item.codes
        table = html_table(
            page,
            item.cells,
            positions.tolist(),
            SHOWN,
            caption=f"{item.theme.title} : chiffres {item.year} du quartier",
            signed=SIGNED,
            links={"indicateur": lambda row: page.fiche_href(codes[row])},
        )
        return (
            f'<section id="{escape(item.theme.name)}"><h2>{escape(item.theme.title)}</h2>'
            f'<p class="explication">{escape(item.theme.description)}</p>{table}'
            f'<p class="note">{escape(TABLE_NOTE)}</p></section>'
        )

    def listing(self, edition: str) -> tuple[Page, str]:
        """(page, heading) of `qpv/index.html`: every QPV by région and département, linked to its portrait."""
        page = Page(LISTING, f"Les quartiers prioritaires – {edition} – Observatoire QPV")
        page.add(
            f'<p class="intro">Les {format_number(len(self.quartiers))} quartiers prioritaires de l\'édition, par '
            "région et département. Chacun a sa page : ses chiffres de l'année et leur évolution, son rang dans son "
            'département et sa région. La <a href="../index.html">page France</a> a aussi une recherche par nom ou '
            "code.</p>"
        )
        by_region: dict[str, dict[str, list[Quartier]]] = {}
        for quartier in self.quartiers.values():
            by_region.setdefault(quartier.region, {}).setdefault(quartier.departement, []).append(quartier)
        for region, departements in sorted(by_region.items()):
            parts = [f'<section id="region-{escape(region)}"><h2>{escape(self.territory("region", region))}</h2>']
            for departement, quartiers in sorted(departements.items()):
                items = "".join(
                    f'<li><a href="{escape(page.link(portrait_file(q.code)))}">{escape(q.name)}</a> ({escape(q.code)})'
                    + (f" – {escape(', '.join(c.rsplit(' (', 1)[0] for c in q.communes))}" if q.communes else "")
                    + "</li>"
                    for q in quartiers
                )
                parts.append(
                    f'<h3 id="departement-{escape(departement)}">'
                    f"{escape(self.territory('departement', departement))} : {len(quartiers)} quartier"
                    f"{'s' if len(quartiers) > 1 else ''}</h3><ul>{items}</ul>"
                )
            page.add("".join(parts) + "</section>")
        return page, "Les quartiers prioritaires"

    def in_region(self, region: str) -> int:
        """How many QPV of the edition lie in `region`."""
        return sum(1 for quartier in self.quartiers.values() if quartier.region == region)

    def search_section(self, page: Page) -> str:
        """The national page's section on the portraits: the link to the list, and the search box with its index
        (the box needs `SEARCH_SCRIPT` in the page)."""
        entries = [
            [q.code, q.name, self.place(q), self.territory("region", q.region), page.link(portrait_file(q.code))]
            for q in self.quartiers.values()
        ]
        data = json.dumps(entries, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
        return (
            '<section id="quartiers"><h2>Le portrait de chaque quartier</h2><p class="explication">Chacun des '
            f"{format_number(len(entries))} quartiers prioritaires de l'édition a sa page : ses chiffres de l'année "
            "et leur évolution, son rang dans son département et sa région, les liens vers les fiches des indicateurs. "
            f'<a href="{escape(page.link(LISTING))}">Tous les quartiers, par région et département</a>.</p>'
            '<form id="recherche-qpv" class="recherche" role="search" hidden>'
            '<label for="recherche-qpv-texte">Rechercher un quartier par son nom, son code ou sa commune</label> '
            '<input type="search" id="recherche-qpv-texte" autocomplete="off" spellcheck="false" '
            'aria-describedby="recherche-qpv-aide" aria-controls="recherche-qpv-resultats">'
            '<p id="recherche-qpv-aide" class="note">Par exemple un nom de quartier ou de commune, ou un code comme '
            f"{escape(entries[0][0] if entries else 'QN07501M')} ; les accents et les majuscules sont sans "
            "importance.</p>"
            '<p id="recherche-qpv-etat" role="status" aria-live="polite"></p>'
            f'<ul id="recherche-qpv-resultats" data-max="{SHOWN_RESULTS}"></ul></form>'
            f'<script type="application/json" id="recherche-qpv-index">{data}</script></section>'
        )
