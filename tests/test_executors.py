"""Local pool and dask executors run the same tasks to the same results."""

from __future__ import annotations

import math

import pytest

from nasicon_sim.executors import run_tasks


def test_in_process_and_errors_are_reported_per_task():
    out = dict(run_tasks(math.sqrt, [4.0, -1.0, 9.0], workers=1))
    assert out[4.0] == 2.0 and out[9.0] == 3.0
    assert isinstance(out[-1.0], ValueError)


def test_process_pool_matches_in_process():
    tasks = [float(i) for i in range(6)]
    serial = dict(run_tasks(math.sqrt, tasks, workers=1))
    pooled = dict(run_tasks(math.sqrt, tasks, workers=2))
    assert pooled == serial


def test_dask_local_cluster_matches_local_pool():
    distributed = pytest.importorskip("distributed")
    tasks = [float(i) for i in range(6)]
    serial = dict(run_tasks(math.sqrt, tasks, workers=1))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = dict(run_tasks(math.sqrt, tasks, dask_address=cluster.scheduler_address))
    assert remote == serial


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    from nasicon_sim import executors
    from nasicon_sim.errors import NasiconSimError

    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT", "1s")

    with pytest.raises(NasiconSimError, match="cannot reach the dask scheduler"):
        list(run_tasks(math.sqrt, [1.0], dask_address="tcp://127.0.0.1:9"))
