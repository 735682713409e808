"""The worker preload (etl/orchestration/worker_preload.py): a process that imported it forks task processes that
find the libraries imported and validate with Great Expectations as a fresh process would."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from etl.config import PROJECT_ROOT

# A worker: the preload, then one task forked as Airflow's supervisor forks it (bare os.fork, on Linux). The task
# builds its GX context and runs a real suite on four départements whose région is not among the known ones.
WORKER = """
import json, os, sys, threading
import etl.orchestration.worker_preload
worker = {
    "threads": threading.active_count(),
    "loaded": [m for m in ("pandas", "pyarrow.csv", "sqlalchemy", "great_expectations", "etl.pipeline",
                           "etl.publication.publish") if m in sys.modules],
    "scipy.stats": type(sys.modules["scipy.stats"]).__name__,
}
before = set(sys.modules)
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    import pandas as pd
    from etl.quality import gates
    frame = pd.read_csv(os.path.join(sys.argv[1], "catalogue/departements.csv"), sep=";", dtype=str).head(4)
    frame.insert(0, "line_no", range(2, 2 + len(frame)))
    frame["code_region"] = "84"
    result = gates.run_suite("cog_departements.rows", frame, gate="rows", parameters={"regions": ["11"]})
    failed = [o for o in result.blocking_failures if o.column == "code_region"]
    libraries = ("great_expectations", "pandas", "sqlalchemy")
    new = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in libraries)
    os.write(write, json.dumps({"lines": [s["line_no"] for s in failed[0].sample], "new": new}).encode())
    os._exit(0)
os.close(write)
task = json.loads(os.read(read, 1 << 20))
_, status = os.waitpid(pid, 0)
print(json.dumps({"worker": worker, "task": task, "status": status}))
"""


def test_a_task_forked_from_a_preloaded_worker_starts_with_its_libraries_and_validates(tmp_path):
    env = {**os.environ, "OBSERVATOIRE_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(PROJECT_ROOT)], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "preloaded pandas, Arrow, SQLAlchemy, Great Expectations and the task modules in" in result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    worker, task = out["worker"], out["task"]
    # the worker imported the libraries and started no thread (a fork copies only the forking thread)
    assert worker["loaded"] == ["pandas", "pyarrow.csv", "sqlalchemy", "great_expectations", "etl.pipeline",
                                "etl.publication.publish"]  # fmt: skip
    assert worker["threads"] == 1
    assert worker["scipy.stats"] == "DeferredModule"  # still deferred, as in a task that imports GX itself
    # the task validated for real: the unknown région named on each of the four lines
    assert out["status"] == 0
    assert task["lines"] == [2, 3, 4, 5]
    # and imported none of the modules of GX, pandas or SQLAlchemy again: they were there before the fork
    assert task["new"] == []
