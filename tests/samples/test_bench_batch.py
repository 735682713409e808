"""The bench's fixed-cost piece: its small files are real batches of their own month (behaviour, not timings)."""

import os
import shutil

import pytest

from etl import pipeline
from etl.errors import ObservatoireError
from etl.samples import bench, bench_batch
from etl.samples.generators import france_travail
from etl.sources.registry import source

pytestmark = pytest.mark.warehouse


def test_each_small_file_loads_as_one_batch_of_its_own_month(isolated, tmp_path):
    territories = tmp_path / "territories"
    bench._prepare(isolated.engine, isolated.home, territories)
    [month_file] = france_travail.generate_defm(tmp_path / "ft", territories, ["2024-01"])
    files = bench_batch.small_files(month_file, tmp_path / "small")
    assert len(files) == len(bench_batch.MONTHS)
    inbox = isolated.home.folder("inbox") / bench.DEFM_SOURCE
    inbox.mkdir(parents=True, exist_ok=True)
    for path, month in zip(files, bench_batch.MONTHS, strict=True):
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        assert header.startswith("mois;niveau;")
        assert len(rows) == bench_batch.LINES
        assert all(row.startswith(month + ";") and ";QPV;" not in row for row in rows)
        shutil.copyfile(path, inbox / path.name)
        report = pipeline.ingest(isolated.engine, source(bench.DEFM_SOURCE), home=isolated.home)
        [batch] = report.batches
        assert (batch.status, batch.reason) == ("loaded", None)
        assert set(report.seconds) == {"landing", "data_docs"}


def test_the_batch_cost_leaves_out_the_runs_data_docs_and_takes_medians():
    def child(seconds, docs):
        return {"seconds": seconds, "once": {"landing": 0.02, "data_docs": docs}, "startup": 0.1, "worker_start": 2.0,
                "worker_rss_mib": 200.0, "stages": {"read": 0.01, "gate_file": seconds / 10}}  # fmt: skip

    ingested = [(child(1.0, 0.4), 300.0), (child(0.9, 0.2), 310.0), (child(3.0, 0.5), 305.0)]
    batch = bench_batch.summarise(ingested, [{"seconds": 0.002}, {"seconds": 0.004}, {"seconds": 0.003}])
    assert batch["runs"] == pytest.approx([0.6, 0.7, 2.5])
    assert batch["seconds"] == pytest.approx(0.7)
    assert batch["data_docs"] == pytest.approx(0.4)
    assert batch["stages"]["gate_file"] == pytest.approx(0.1)
    assert batch["copy"] == pytest.approx(0.003)
    assert batch["peak_rss_mb"] == 310.0
    assert "audit and the rest" in "\n".join(bench_batch.details(batch))


def test_the_load_piece_prints_the_aggregated_file_the_batch_and_the_task_start_of_the_batchs_tasks():
    def child(seconds, startup, worker_start):
        return {"seconds": seconds, "once": {"landing": 0.01, "data_docs": 0.1}, "startup": startup,
                "worker_start": worker_start, "worker_rss_mib": 180.0 + worker_start,
                "stages": {"read": 0.01}}  # fmt: skip

    batch = bench_batch.summarise(
        [(child(0.5, 0.12, 2.0), 250.0), (child(0.6, 0.08, 1.8), 260.0), (child(0.7, 0.2, 2.4), 255.0)],
        [{"seconds": 0.001}] * 3,
    )
    defm = {"lines": 1000, "months": 12, "copy": {"seconds": 0.01}, "ingest": {"seconds": 2.0, "peak_rss_mb": 500.0}}
    text = bench.load_table({"defm": defm, "batch": batch, "machine": {"cpus": 2, "memory_gib": 24, "date": "d"}})
    lines = text.splitlines()
    assert lines[0] == bench.HEADER.splitlines()[0]
    [start] = [line for line in lines if line.startswith("| start of a task process")]
    assert "| 0.12 s |" in start and "median of the batch's 3 tasks" in start and "≤ 1.5 s" in start
    [worker] = [line for line in lines if line.startswith("| the worker's own start")]
    assert "| 2.0 s | | | 182 MiB |" in worker
    [aggregated] = [line for line in lines if line.startswith("| the same, the platform's ingest")]
    assert "| 2.0 s | 500 | 0.01 |" in aggregated
    assert any(line.startswith("| the same, one batch through the platform") and "| 0.50 s |" in line
               for line in lines)  # fmt: skip


def _pid_and_memory(task: dict) -> dict:
    return {"pid": os.getpid(), "ballast": len(bytearray(task["mib"] << 20))}


def _fails(task: dict) -> dict:
    raise ValueError(task["why"])


def test_a_forked_task_returns_its_result_and_its_own_peak_memory_and_its_failure_is_one_sentence():
    out = bench._forked(_pid_and_memory, {"mib": 200})
    assert out["pid"] != os.getpid() and out["ballast"] == 200 << 20
    assert out["peak_rss_mib"] > 200  # the child's own peak, its 200 MiB included
    with pytest.raises(ObservatoireError, match=r"forked task failed \(ValueError: no file\)"):
        bench._forked(_fails, {"why": "no file"})
