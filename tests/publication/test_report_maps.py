"""The maps of the annual report's région pages (etl/publication/report_maps.py, drawn by report.render_report).

The données QPV tables are those of tests/publication/test_report_qpv.py (9 QPV in 3 départements of 2 régions, built
by qpv_data.build, one count small enough to be masked), beside the bilan of tests/publication/test_report.py (which
gives the régions their pages); the perimeters are squares written here, one QPV left without
one. What a map must show is computed from the tables (published rates, their classes), not written out. One test
opens a région's page in headless Chromium.
"""

from __future__ import annotations

import bisect
import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from etl.publication import disclosure, qpv_data, report, report_maps
from etl.publication.report_cells import format_number
from tests.publication.test_report import bilan_table
from tests.publication.test_report_qpv import EDITION, FICHES, GEOGRAPHY, inputs

UNSHAPED = "QN03802B"  # a QPV of the edition without a perimeter
MASKED = "QN06904D"  # 7 people covered: masked, and its rate with it


def _square(lon: float, lat: float, size: float = 0.01) -> str:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def perimeters() -> pd.DataFrame:
    rows = []
    for rank, code in enumerate(sorted(GEOGRAPHY)):
        if code != UNSHAPED:
            rows.append((code, _square(4.8 + 0.02 * rank, 45.7 + 0.01 * (rank % 3)), 1))
    return pd.DataFrame(rows, columns=["code_qpv", "geometrie_simplifiee", "batch_id"])


def _render(folder: Path, tables, places, shapes) -> list[Path]:
    (folder / "fiches").mkdir(parents=True, exist_ok=True)
    for code in FICHES:
        (folder / "fiches" / f"{code}.html").write_text("fiche", encoding="utf-8")
    return report.render_report(
        [bilan_table(), *tables], folder, edition_id=EDITION, kind="annuelle", period="2024", fiches=FICHES,
        places=places, perimeters=shapes,
    )  # fmt: skip


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    given = inputs()
    tables, _ = qpv_data.build(given, disclosure.Rules())
    folder = tmp_path_factory.mktemp("cartes")
    _render(folder, tables, qpv_data.places(given), perimeters())
    caf = next(t for t in tables if t.name == "donnees_qpv_caf").frame
    rates = caf[(caf["niveau"] == "qpv") & (caf["code_indicateur"] == "CAF_PERSONNES_COUVERTES")]
    return {"tables": tables, "folder": folder, "rates": rates.set_index("code_territoire")}


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg class=\"chart carte\".*?</svg>", page, re.S)


def _paths(svg: str) -> dict[str, tuple[str, str]]:
    """code -> (the path's attributes, its title) of each QPV drawn."""
    found = re.findall(r"<path (class=\"qpv[^>]*)><title>([^<]*)</title></path>", svg)
    return {re.search(r"\((QN\w+)\)", title).group(1): (attributes, title) for attributes, title in found}


def _page(edition, region: str) -> str:
    return (edition["folder"] / f"region-{region}.html").read_text(encoding="utf-8")


def test_a_map_per_departement_of_each_region_with_its_legend(edition):
    rhone_isere = _svgs(_page(edition, "84"))
    assert len(rhone_isere) == 2 and len(_svgs(_page(edition, "11"))) == 1
    assert "<svg" not in (edition["folder"] / "index.html").read_text(encoding="utf-8").split('id="cartes"')[0][-1:]
    for svg in rhone_isere:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
        legend = re.findall(r'<g class="legende">.*?<text[^>]*>([^<]*)</text></g>', svg)
        assert legend[-2:] == ["secret statistique", "non disponible"] and len(legend) >= 3
        assert "Personnes couvertes par la CAF" in svg and "pour 100 habitants" in svg
        assert "<script" not in svg and "http://www.w3.org/2000/svg" in svg and "href" not in svg
        assert re.search(r'<g class="echelle">.*?>[0-9,]+ km</text></g>', svg)  # a scale bar
    rhone = _paths(rhone_isere[1] if "Rhône" in rhone_isere[1].split("</title>")[0] else rhone_isere[0])
    assert set(rhone) == {code for code, g in GEOGRAPHY.items() if g[3] == "69"}
    page = _page(edition, "84")
    assert 'id="cartes"' in page and "Les valeurs de la carte" in page


def test_published_rates_are_coloured_by_their_class_among_the_regions_qpv(edition):
    rates = edition["rates"]
    for region in ("84", "11"):
        mine = rates[rates["code_region"] == region]
        published = mine.loc[mine["statut_taux"] == "ok", "taux"].tolist()
        breaks = report_maps.class_breaks(published)
        drawn = {code: path for svg in _svgs(_page(edition, region)) for code, path in _paths(svg).items()}
        for code, row in mine.iterrows():
            if code == UNSHAPED:
                assert code not in drawn
                continue
            attributes, title = drawn[code]
            if row["statut_taux"] == "ok":
                assert f'class="qpv classe-{bisect.bisect_right(breaks, row["taux"]) + 1}"' in attributes
                said = f"{format_number(row['taux'], max_decimals=1)} pour 100 habitants"
                assert title == f"{GEOGRAPHY[code][0]} ({code}) : {said}"


def test_a_masked_qpv_is_hatched_and_no_value_of_it_reaches_the_svg(edition):
    assert edition["rates"].loc[MASKED, "statut_taux"] == "masked"
    svg = next(s for s in _svgs(_page(edition, "84")) if MASKED in s)
    attributes, title = _paths(svg)[MASKED]
    assert title == f"{GEOGRAPHY[MASKED][0]} ({MASKED}) : secret statistique"
    assert re.fullmatch(r'class="qpv masque" d="[^"]*" fill="url\(#graphique-\d+-hachures\)" fill-rule="evenodd" '
                        r'stroke="#5a5a5a" stroke-width="0.7"', attributes)  # fmt: skip
    assert re.search(r'<pattern id="graphique-\d+-hachures"', svg)
    # the rate it would have (7 people for 2,600 inhabitants) is nowhere, nor its count
    hidden = format_number(100 * 7 / 2600, max_decimals=1)
    texts = " ".join(re.findall(r">([^<]+)<", svg))
    assert hidden not in texts and " 7 " not in f" {texts} "
    # in the values table below the map, it is `s`, flagged as secret
    page = _page(edition, "84")
    assert re.search(rf"{MASKED}</td><td class=\"num secret\" title=\"secret statistique\">s</td>", page)


def test_a_qpv_without_perimeter_is_said_and_no_perimeter_at_all_means_no_map(edition, tmp_path):
    page = html.unescape(_page(edition, "84"))
    assert "1 quartier(s) sans périmètre connu n'y figurent pas." in page
    assert f"{UNSHAPED}</td>" in page  # still in the values table
    given = inputs()
    tables, _ = qpv_data.build(given, disclosure.Rules())
    _render(tmp_path, tables, qpv_data.places(given), perimeters().iloc[0:0])
    bare = (tmp_path / "region-84.html").read_text(encoding="utf-8")
    assert not _svgs(bare) and "Pas de carte pour Isère (38), Rhône (69)" in bare


def test_class_breaks():
    assert report_maps.class_breaks([]) == []
    assert report_maps.class_breaks([5.0, 5.0, 5.0]) == []
    assert report_maps.class_breaks(list(range(1, 11))) == [2.8, 4.6, 6.4, 8.2]
    assert report_maps.class_labels([2.8, 4.6], [1, 9])[0] == "moins de 2,8"
    assert report_maps.class_labels([2.8, 4.6], [1, 9])[-1] == "4,6 et plus"
    assert report_maps.class_labels([], [5.0]) == ["5 à 5"]
    assert report_maps.class_colors(5) == list(report_maps.PALETTE) and len(report_maps.class_colors(2)) == 2


def test_same_tables_same_bytes(edition, tmp_path):
    given = inputs()
    tables, _ = qpv_data.build(given, disclosure.Rules())
    _render(tmp_path, tables, qpv_data.places(given), perimeters())
    assert (tmp_path / "region-84.html").read_bytes() == (edition["folder"] / "region-84.html").read_bytes()


# --- in a real browser (the `browser` fixture of tests/conftest.py) --------------------------------------------------


@pytest.mark.browser
def test_the_region_page_of_the_annual_edition_shows_its_maps_in_chromium(edition, browser):
    url = (edition["folder"] / "region-84.html").resolve().as_uri()
    context = browser.new_context()
    console: list[str] = []
    tab = context.new_page()
    tab.on("console", lambda message: console.append(message.text))
    tab.on("pageerror", lambda error: console.append(str(error)))
    requests: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    try:
        tab.goto(url)
        maps = tab.locator("svg.carte")
        assert maps.count() == 2
        for index in range(2):
            box = maps.nth(index).bounding_box()
            assert box["width"] > 400 and box["height"] > 150
        assert tab.get_by_role("img", name=re.compile(r"^Rhône \(69\) : personnes couvertes")).count() == 1
        shapes = tab.locator("svg.carte path.qpv")
        assert shapes.count() == len(GEOGRAPHY) - 2 - 1  # the two QPV of Île-de-France elsewhere, one without shape
        drawn = [shapes.nth(i).bounding_box() for i in range(shapes.count())]
        assert all(box["width"] > 5 and box["height"] > 5 for box in drawn)
        hatched = tab.locator("svg.carte path.masque")
        rates = edition["rates"]
        masked = rates[(rates["code_region"] == "84") & (rates["statut_taux"] == "masked")].index.difference([UNSHAPED])
        assert MASKED in masked and hatched.count() == len(masked)  # the small count and its secondary suppression
        assert all(
            fill.startswith("url(") for fill in hatched.evaluate_all("ps => ps.map(p => getComputedStyle(p).fill)")
        )
        assert tab.locator("svg.carte g.legende").count() >= 2 * 3
    finally:
        context.close()
    assert console == [], f"console messages (a Content-Security-Policy refusal would be one): {console}"
    assert all(r.startswith("file://") for r in requests), requests
