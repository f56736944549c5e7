"""Where tasks run: a local process pool by default, or a dask.distributed cluster.

Both executors take a top-level (picklable) function and an iterable of task objects and
yield ``(task, result_or_exception)`` pairs *as they complete*, so the caller can store each
finished result at once. The function and the tasks are the same for both, which is what
makes a run on a cluster give the same results as a run on a laptop.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, TypeVar

from nasicon_sim.errors import NasiconSimError, OptionalDependencyError

__all__ = ["default_workers", "run_and_record", "run_tasks"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long to wait for a dask scheduler before giving up.
DASK_CONNECT_TIMEOUT = "20s"


def default_workers() -> int:
    """Number of CPU cores available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _worker_init(threads: int) -> None:
    """Limit numeric libraries to ``threads`` threads inside each worker process."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(threads)


def _local(func: Callable[[T], Any], tasks: list[T], workers: int) -> Iterator[tuple[T, Any]]:
    import multiprocessing as mp

    if workers == 1:
        for task in tasks:
            try:
                yield task, func(task)
            except Exception as exc:  # reported per task; the run goes on
                yield task, exc
        return
    ctx = mp.get_context("spawn")  # no fork: numba / BLAS thread pools are not fork-safe
    threads = max(1, default_workers() // workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                             initargs=(threads,)) as pool:
        pending = {pool.submit(func, task): task for task in tasks}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = pending.pop(fut)
                    exc = fut.exception()
                    yield task, (exc if exc is not None else fut.result())
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise


def _dask(func: Callable[[T], Any], tasks: list[T], address: str) -> Iterator[tuple[T, Any]]:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - distributed is a dependency
        raise OptionalDependencyError(
            "--dask needs dask.distributed: pip install 'dask[distributed]'"
        ) from exc
    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
    except OSError as exc:
        raise NasiconSimError(f"cannot reach the dask scheduler at {address!r}: {exc}") from None
    try:
        futures = {client.submit(func, task, pure=False): task for task in tasks}
        for fut in as_completed(futures):
            task = futures[fut]
            if fut.status == "error":
                yield task, fut.exception()
            else:
                yield task, fut.result()
    finally:
        client.close()


def run_tasks(
    func: Callable[[T], Any],
    tasks: Iterable[T],
    *,
    workers: int | None = None,
    dask_address: str | None = None,
) -> Iterator[tuple[T, Any]]:
    """Run ``func`` on every task; yield ``(task, result)`` pairs as they complete.

    Parameters
    ----------
    func : callable
        A module-level function (it is pickled to the workers).
    tasks : iterable
        Picklable task objects.
    workers : int, optional
        Local processes (default: the available cores). 1 runs in this process.
    dask_address : str, optional
        Address of a dask.distributed scheduler (``tcp://host:8786``); overrides ``workers``.

    Yields
    ------
    (task, result)
        ``result`` is the function's return value, or the exception it raised.
    """
    tasks = list(tasks)
    if not tasks:
        return
    if dask_address:
        yield from _dask(func, tasks, dask_address)
    else:
        n = workers or default_workers()
        if n < 1:
            raise NasiconSimError(f"--workers must be >= 1, got {n}")
        yield from _local(func, tasks, min(n, len(tasks)))


def run_and_record(
    func: Callable[[T], Any],
    tasks: Iterable[T],
    record: Callable[[T, Any], None],
    describe: Callable[[T], str],
    *,
    desc: str,
    unit: str,
    workers: int | None = None,
    dask_address: str | None = None,
    progress: bool = True,
) -> list[str]:
    """:func:`run_tasks` with a progress bar on stderr, each result recorded as it completes.

    Parameters
    ----------
    func, tasks, workers, dask_address
        As for :func:`run_tasks`.
    record : callable
        ``record(task, result)`` for every successful task (e.g. store it).
    describe : callable
        ``describe(task)``: how a failure message names the task.
    desc, unit : str
        Progress bar label and unit.
    progress : bool
        Show the bar (tqdm; hidden when stderr is not a terminal).

    Returns
    -------
    list of str
        One message per failed task; the run goes on after a failure.
    """
    import sys

    tasks = list(tasks)
    failures: list[str] = []
    if not tasks:
        return failures
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), desc=desc, unit=unit, file=sys.stderr, disable=None)
    try:
        for task, result in run_tasks(func, tasks, workers=workers, dask_address=dask_address):
            if isinstance(result, BaseException):
                failures.append(f"{describe(task)}: {type(result).__name__}: {result}")
                log.error("%s failed: %s", describe(task), result)
            else:
                record(task, result)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return failures
