"""The process the fault tests kill: one call of the path every file takes, on a warehouse and runtime folder given.

    python tests/reliability/_fault_child.py <warehouse_url> <observatoire_home> <source_id> ingest
    python tests/reliability/_fault_child.py <warehouse_url> <observatoire_home> <source_id> reload <period>

It runs `etl.pipeline.ingest` (receive what waits in the inbox, then process every batch still `received`) or
`etl.pipeline.reload` (the loaded batches of one period again) exactly as an Airflow task does, with no hook or
pause of its own: the test finds its backends in `pg_stat_activity` by the `application_name` it sets (libpq's
`PGAPPNAME`), and freezes or kills it from outside. When it is not killed it prints one JSON line with each batch's
outcome and exits 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    url, home_root, source_id, mode, *rest = argv
    from etl import pipeline, warehouse
    from etl.config import Home
    from etl.sources.registry import source

    engine = warehouse.engine(url)
    home = Home(Path(home_root))
    if mode == "ingest":
        report = pipeline.ingest(engine, source(source_id), home=home, run_id=f"fault-child-{mode}")
    elif mode == "reload":
        report = pipeline.reload(engine, source(source_id), rest[0], home=home, run_id=f"fault-child-{mode}")
    else:
        raise SystemExit(f"unknown mode {mode!r}: ingest or reload")
    batches = [{"batch_id": b.batch_id, "status": b.status, "partition": b.partition} for b in report.batches]
    print(json.dumps({"batches": batches, "duplicates": len(report.duplicates)}), flush=True)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
