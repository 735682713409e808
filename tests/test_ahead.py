"""Batches prepared ahead (etl.ahead): in worker processes the results come in order, the same as here; a dying
worker leaves the rest to this process; an error of the work itself reaches the caller; a small backlog starts no
worker (the pipeline's own backlog prepared ahead: tests/test_pipeline.py)."""

from __future__ import annotations

import contextlib
import functools
import os

import pytest

from etl import ahead
from tests.ahead_work import dies_on, refuses, where

ITEMS = [(n,) for n in range(1, 8)]


def test_items_prepared_by_a_worker_come_in_order_and_equal_what_this_process_gives():
    results = list(ahead.prepared(ITEMS, where, where, workers=1))
    assert [value for value, _ in results] == [n * n for (n,) in ITEMS]
    assert {pid for _, pid in results} != {os.getpid()}  # a worker computed them
    assert os.getpid() not in {pid for _, pid in results}


def test_without_workers_or_with_one_item_everything_is_prepared_here():
    assert {pid for _, pid in ahead.prepared(ITEMS, where, where, workers=0)} == {os.getpid()}
    assert [pid for _, pid in ahead.prepared(ITEMS[:1], where, where, workers=1)] == [os.getpid()]


def test_when_the_worker_dies_the_item_and_the_rest_are_prepared_here_in_order():
    results = list(ahead.prepared(ITEMS, where, functools.partial(dies_on, 4), workers=1))
    assert [value for value, _ in results] == [n * n for (n,) in ITEMS]
    pids = [pid for _, pid in results]
    assert os.getpid() not in pids[:3]  # before the death: the worker
    assert pids[3:] == [os.getpid()] * 4  # from the item it died on: here


def test_an_error_of_the_work_itself_reaches_the_caller_after_the_items_before_it():
    taken = []
    results = ahead.prepared(ITEMS, refuses, refuses, workers=1)
    with pytest.raises(ValueError, match="3 is refused"), contextlib.closing(results):
        for value, _ in results:
            taken.append(value)
    assert taken == [1, 4]


def test_a_worker_is_worth_it_only_for_many_files_holding_many_bytes(tmp_path):
    small = []
    for n in range(ahead.MIN_BATCHES):
        path = tmp_path / f"small-{n}.csv"
        path.write_bytes(b"x" * 10)
        small.append(path)
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * ahead.MIN_BYTES)
    assert not ahead.worth_a_worker(small)  # enough files, too few bytes
    assert not ahead.worth_a_worker([big])  # enough bytes, too few files
    assert ahead.worth_a_worker([*small[1:], big])
