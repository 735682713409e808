"""One helper of the source tests: drop files in a source's inbox and run them through the pipeline."""

from __future__ import annotations

from pathlib import Path


def ingest(wh, source_id: str, *paths: Path, run_id: str = "test"):
    """Copy `paths` into the inbox of `source_id` under `wh.home` and ingest them into `wh.engine`: the report."""
    from etl import pipeline
    from etl.sources.registry import source

    inbox = wh.home.folder("inbox") / source_id
    inbox.mkdir(parents=True, exist_ok=True)
    for path in paths:
        (inbox / path.name).write_bytes(path.read_bytes())
    return pipeline.ingest(wh.engine, source(source_id), home=wh.home, run_id=run_id)
