"""An edition's workbook built beside its other files: `xlsx_bytes_aside(tables)` starts `exports.xlsx_bytes` in a
worker process (a fresh interpreter, forkserver) and returns the function that waits for its bytes, the same bytes as
`exports.xlsx_bytes` gives (etl.publication.editions writes the CSV, Parquet and HTML report meanwhile)."""

from __future__ import annotations

import atexit
from collections.abc import Callable, Sequence
from typing import Any

from etl.publication import exports
from etl.publication.tables import Table

# An edition's workbook is its longest file to write (the annual edition's 1.2 million cells: 5 s, as long as its HTML
# report): from this many cells it is written in a worker process while the caller writes the rest
MIN_CELLS = 100_000
_pool: list[Any] = []  # the worker process, started on first use and kept for the process's next editions


def xlsx_bytes_aside(tables: Sequence[Table], min_cells: int = MIN_CELLS) -> Callable[[], bytes]:
    """Start `exports.xlsx_bytes(tables)` and return the function that waits for its bytes (the same bytes either way).

    With at least `min_cells` cells and more than one core, outside a multiprocessing child, the workbook is built in
    a worker process (a fresh interpreter, forkserver: not a copy of the caller's connections) while the caller goes
    on; otherwise, or when no worker can be started or it died, in this process when the bytes are asked for. An
    error of the workbook itself (a table too large for a sheet) is raised by the returned function, as
    `exports.xlsx_bytes` raises it. Like any forkserver or spawn worker, the worker imports the caller's `__main__`
    module again from its path: a script that publishes keeps its work under `if __name__ == "__main__":` (one that
    did not ran its whole work a second time in the worker)."""
    import multiprocessing
    import os

    cells = sum(len(table.frame) * max(len(table.columns), 1) for table in tables)
    # in a multiprocessing child (the demo's lanes run editions side by side in process-pool workers), the cores are
    # busy already, and such a child joins its children before it exits: the pool's worker would keep it waiting
    if cells < min_cells or (os.cpu_count() or 1) < 2 or multiprocessing.parent_process() is not None:
        return lambda: exports.xlsx_bytes(tables)
    import dataclasses
    import pickle
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # pickled here, now: the executor's thread would pickle the tables later, while this process adds their prepared
    # cells to them (`prepared_columns`); copies without those cells, which the worker prepares for itself
    payload = pickle.dumps([dataclasses.replace(table) for table in tables], protocol=pickle.HIGHEST_PROTOCOL)
    try:
        if not _pool:
            _pool.append(ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")))
        future = _pool[0].submit(_xlsx_bytes_of, payload)
    except (OSError, RuntimeError, AssertionError, BrokenProcessPool):  # no process here (a daemon, a shut-down pool)
        stop()
        return lambda: exports.xlsx_bytes(tables)

    def result() -> bytes:
        try:
            return future.result()
        except BrokenProcessPool:  # the worker died (killed, out of memory): built here instead
            stop()
            return exports.xlsx_bytes(tables)

    return result


def stop() -> None:
    """Stop the worker process at exit (left to the interpreter's teardown, the pool's thread complains)."""
    while _pool:
        _pool.pop().shutdown(wait=True, cancel_futures=True)


atexit.register(stop)


def _xlsx_bytes_of(payload: bytes) -> bytes:
    """`xlsx_bytes` of pickled tables (in the worker process)."""
    import pickle

    return exports.xlsx_bytes(pickle.loads(payload))
