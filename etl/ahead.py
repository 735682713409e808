"""Batches prepared ahead: the part of a received batch that reads only its own file and the warehouse's reference
data (reading, gate 1, normalisation, gate 2) runs in a worker process for the next batches while the caller commits
the current one (cross-checks, audit, quarantine or load), in arrival order. A source with many files waiting (a
backfill of 36 monthly files) then keeps two cores busy where one waited; the commits, and so the warehouse, are
exactly those of one batch after the other.

A worker is a fresh interpreter (forkserver: no copy of the caller's connections or Airflow state) that imports Great
Expectations and builds its context once: it is started only for a backlog large enough to pay for that
(`worth_a_worker`), on a machine of two cores or more; anything less is prepared in this process. A worker that dies
leaves the rest to this process; an error of the preparation itself reaches the caller as it would in this process.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

# A worker's start (a fresh interpreter importing Great Expectations and building its context) costs about 3 s of a
# core, as much as preparing two or three monthly France Travail files: a worker is started from this many files
# holding this many bytes, where it takes over at least five times what its start costs
MIN_BATCHES = 8
MIN_BYTES = 8 * 1024 * 1024

_ENGINES: dict[str, Any] = {}  # a worker's engines, one per warehouse URL


def prepared(
    items: Sequence[tuple],
    here: Callable[..., Any],
    aside: Callable[..., Any],
    *,
    workers: int = 1,
    warm: Callable[[], None] | None = None,
) -> Iterator[Any]:
    """`here(*item)` for each item, in order. With `workers` (at least one) on a machine of two cores or more, they
    are computed by `aside(*item)` (a picklable function giving the same result: a module-level function or a
    partial of one) in that many worker processes (`warm()` run once in each as it starts), at most `workers + 1`
    ahead of the one the caller takes. Close the iterator (`contextlib.closing`) when the caller may stop before its
    end: the workers stop then."""
    if len(items) < 2 or (os.cpu_count() or 1) < 2 or workers < 1:
        for item in items:
            yield here(*item)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool: Any = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"), initializer=warm)
    pending: deque = deque()
    taken = 0  # items handed to the workers
    try:
        for item in items:
            if pool is not None:
                try:
                    while taken < len(items) and len(pending) <= workers:
                        pending.append(pool.submit(aside, *items[taken]))
                        taken += 1
                    result = pending.popleft().result()
                except (BrokenProcessPool, OSError, RuntimeError, AssertionError):
                    # a worker died (killed, out of memory) or none can start here (a daemon process): this item and
                    # the rest are prepared here
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = None
                else:
                    yield result
                    continue
            yield here(*item)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def worth_a_worker(paths: Sequence[Path]) -> bool:
    """Whether the files waiting are enough work for a worker: `MIN_BATCHES` files at least, `MIN_BYTES` in all."""
    return len(paths) >= MIN_BATCHES and sum(path.stat().st_size for path in paths) >= MIN_BYTES


def worker_engine(url: str):
    """The worker's engine on the warehouse at `url` (one per URL and process)."""
    if url not in _ENGINES:
        from etl import warehouse

        _ENGINES[url] = warehouse.engine(url)
    return _ENGINES[url]


def url_of(engine) -> str:
    """The URL a worker connects with to the caller's warehouse (password included: it stays in this machine's
    processes)."""
    return engine.url.render_as_string(hide_password=False)
