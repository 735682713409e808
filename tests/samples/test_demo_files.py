"""The demo's sample files are generated side by side in worker processes when there are several sources and cores
(etl/samples/demo_data.py): the same files, byte for byte, in the same inboxes and with the same expected
quarantines, as when each source is generated alone in the calling process."""

from __future__ import annotations

import hashlib

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
