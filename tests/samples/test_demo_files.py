"""The demo's sample files are generated side by side in worker processes when there are several sources and cores
(etl/samples/demo_data.py): the same files, byte for byte, in the same inboxes and with the same expected
quarantines, as when each source is generated alone in the calling process; dropped in two steps (the QPV referential
first, the rest generated meanwhile), the same files again."""

from __future__ import annotations

import hashlib

import pytest

from etl.config import Home
from etl.samples.demo_data import drop_sample_files

SOURCES = {"caf_creches", "national_indicateurs", "paqte", "insee_population"}


def _files(home: Home) -> dict[str, str]:
    folders = (home.folder("inbox"), home.root / "demo" / "late")
    return {
        str(path.relative_to(folder.parent)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_files_generated_side_by_side_are_those_generated_one_source_at_a_time(tmp_path, monkeypatch):
    together = Home(tmp_path / "together").ensure()
    drop = drop_sample_files(together, years=[2024, 2025], quarters=["2025-Q1", "2025-Q2"], sources=SOURCES)
    alone = Home(tmp_path / "alone").ensure()
    monkeypatch.setattr("os.cpu_count", lambda: 1)  # one worker: every generator in this process
    drops = [
        drop_sample_files(alone, years=[2024, 2025], quarters=["2025-Q1", "2025-Q2"], sources={source_id})
        for source_id in sorted(SOURCES)
    ]
    files = _files(together)
    assert {name.split("/")[1] for name in files if name.startswith("inbox/")} == SOURCES | {
        "anct_qpv",
        "anct_qpv_correspondance",
    }
    assert files == _files(alone)
    assert drop.expected_quarantine == set().union(*(d.expected_quarantine for d in drops))
    assert any(source_id == "paqte" for source_id, _ in drop.expected_quarantine)  # broken by its content
    assert set(drop.dropped) == {name for d in drops for name in d.dropped}  # the referential with each source


def _empty_inboxes(home: Home) -> None:
    for folder in (home.folder("inbox"), home.root / "demo" / "late"):
        for path in folder.rglob("*"):
            if path.is_file():
                path.unlink()


def test_files_kept_from_an_earlier_demo_are_dropped_again_without_being_generated(tmp_path, monkeypatch):
    from etl.samples import demo_data

    home = Home(tmp_path / "home").ensure()
    asked = {"years": [2024, 2025], "quarters": ["2025-Q1"], "sources": {"caf_creches", "regional"}}
    first = drop_sample_files(home, **asked)
    files = _files(home)
    assert any(name.startswith("late/") for name in files)  # the second wave is held back from the copies too
    _empty_inboxes(home)

    def generate(*args):
        raise AssertionError("the kept files should have been dropped")

    monkeypatch.setattr(demo_data, "_referential_files", generate)
    again = drop_sample_files(home, **asked)
    assert _files(home) == files
    assert (again.dropped, again.expected_quarantine, again.held_back) == (
        first.dropped,
        first.expected_quarantine,
        first.held_back,
    )
    with_another_year = {**asked, "years": [2025]}
    with pytest.raises(AssertionError, match="kept files"):  # another key: generated again
        drop_sample_files(home, **with_another_year)
    monkeypatch.undo()
    drop_sample_files(home, **with_another_year)
    kept = [path.name for path in (home.root / "demo" / "samples").iterdir()]
    assert kept == [demo_data.samples_key(2024, None, [2025], ["2025-Q1"], ["caf_creches", "regional"])]


def test_the_key_of_the_kept_files_follows_the_code_the_catalogue_and_the_request(tmp_path, monkeypatch):
    from etl.samples import demo_data

    root = tmp_path / "project"
    (root / "etl" / "samples").mkdir(parents=True)
    (root / "catalogue").mkdir()
    (root / "etl" / "samples" / "gen.py").write_text("SEED = 1\n")
    (root / "catalogue" / "regions.csv").write_text("code;libelle\n11;IDF\n")
    monkeypatch.setattr("etl.config.PROJECT_ROOT", root)
    keys = [demo_data.samples_key(2024, None, [2025], [], ["paqte"])]
    (root / "catalogue" / "regions.csv").write_text("code;libelle\n11;Île-de-France\n")
    keys.append(demo_data.samples_key(2024, None, [2025], [], ["paqte"]))
    (root / "etl" / "samples" / "gen.py").write_text("SEED = 2\n")
    keys.append(demo_data.samples_key(2024, None, [2025], [], ["paqte"]))
    keys.append(demo_data.samples_key(2025, None, [2025], [], ["paqte"]))
    keys.append(demo_data.samples_key(2025, None, [2025], [], ["paqte", "regional"]))
    assert len(set(keys)) == len(keys)
    assert demo_data.samples_key(2025, None, [2025], [], ["paqte"]) == keys[3]  # the same request, the same key


@pytest.mark.parametrize("kept", [False, True], ids=["generated", "kept"])
def test_the_referential_is_in_its_inboxes_first_and_the_rest_when_asked_for_the_same_files_as_in_one_step(
    tmp_path, kept
):
    from etl.samples.demo_data import REFERENTIAL_SOURCES, referential_first

    asked = {"years": [2024, 2025], "quarters": ["2025-Q1"], "sources": {"caf_creches", "paqte"}}
    one_step = Home(tmp_path / "one").ensure()
    whole = drop_sample_files(one_step, **asked)
    two_steps = Home(tmp_path / "two").ensure()
    if kept:
        drop_sample_files(two_steps, **asked)  # an earlier demo kept the files
        _empty_inboxes(two_steps)
    with referential_first(two_steps, **asked) as rest:
        first = _files(two_steps)
        assert first and {name.split("/")[1] for name in first} == set(REFERENTIAL_SOURCES)
        drop = rest()
    assert _files(two_steps) == _files(one_step)
    assert (drop.dropped, drop.expected_quarantine, drop.held_back) == (
        whole.dropped,
        whole.expected_quarantine,
        [(source_id, two_steps.root / path.relative_to(one_step.root)) for source_id, path in whole.held_back],
    )
