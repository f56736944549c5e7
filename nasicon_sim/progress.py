"""Progress of command-line jobs on standard error: a line per stage, a live status on terminals.

Every ``nasicon-sim`` command runs inside :func:`job` (``nasicon_sim.cli.main``):

* :func:`stage` prints one plain line per stage to standard error
  (``nasicon-sim run: building 16 configurations of ME1``), whether or not stderr is a
  terminal, so piped and logged runs show where they are. A line is printed when its stage
  has lasted :data:`STAGE_DELAY_S` or when the next stage begins or the job ends normally;
  a stage that fails at once leaves no line, so a user error stays the one line it is;
* on a terminal a one-line status (current stage and elapsed time) is kept up to date below
  those lines once the job has run for a second; other bars (the study runner's count of
  configurations) stack with it;
* piped, a job that has given no stage line after :data:`RUNNING_AFTER_S` seconds prints one
  ``running ...`` line, and every job that took :data:`QUIET_AFTER_S` or longer ends with a
  ``done in ... s`` line (a failed job ends with its one-line error instead);
* nothing ever goes to standard output (``--json`` output stays pure JSON), and ``-q`` /
  ``--quiet`` silences all of it.

Library calls print nothing: :func:`stage` is silent outside a job.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["QUIET_AFTER_S", "RUNNING_AFTER_S", "STAGE_DELAY_S", "is_quiet", "job", "stage"]

#: Jobs that take this long (seconds) end with a ``done in`` line.
QUIET_AFTER_S = 3.0
#: Seconds after which a piped job that has printed no stage line says that it is running
#: (long enough that a user error, which comes at once, stays a one-line message).
RUNNING_AFTER_S = 10.0
#: Seconds after which the live status appears on a terminal.
BAR_DELAY_S = 1.0
#: Seconds a stage must last before its line is printed (earlier if the next stage begins).
STAGE_DELAY_S = 1.5


class _Job:
    """State of the running command (one per process)."""

    def __init__(self, name: str, quiet: bool, stream: Any) -> None:
        self.name = name
        self.quiet = quiet
        self.stream = stream
        self.t0 = time.perf_counter()
        self.n_stages = 0
        self.current = "running"
        self.bar: Any = None
        self.lock = threading.Lock()
        self.pending: tuple[str, float] | None = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def status(self) -> str:
        """The live status line: command, current stage, elapsed time (mm:ss)."""
        minutes, seconds = divmod(int(self.elapsed()), 60)
        return f"nasicon-sim {self.name}: {self.current} [{minutes:02d}:{seconds:02d}]"

    def flush(self, older_than_s: float = 0.0) -> None:
        """Print the pending stage line if it is at least ``older_than_s`` old."""
        with self.lock:
            pending = self.pending
            if pending is None or time.perf_counter() - pending[1] < older_than_s:
                return
            self.pending = None
        self.line(pending[0])

    def line(self, message: str) -> None:
        text = f"nasicon-sim {self.name}: {message}"
        with self.lock:
            if self.bar is not None:
                self.bar.write(text, file=self.stream)
            else:
                print(text, file=self.stream, flush=True)


_JOB: _Job | None = None


def stage(message: str) -> None:
    """Announce a stage of the running command (one line on stderr); silent outside a job.

    Parameters
    ----------
    message : str
        What the job does now, e.g. ``"computing 96 configurations (0 reused)"``.
    """
    current = _JOB
    if current is None or current.quiet:
        return
    current.flush()
    current.n_stages += 1
    current.current = message
    with current.lock:
        current.pending = (message, time.perf_counter())


def is_quiet() -> bool:
    """True inside a job started with ``quiet`` (``nasicon-sim -q``): print no progress."""
    return _JOB is not None and _JOB.quiet


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextmanager
def job(name: str, quiet: bool = False, stream: Any = None) -> Iterator[None]:
    """Run the body as the command ``name``, with stage lines and a live status on stderr.

    Parameters
    ----------
    name : str
        The command, e.g. ``"run"`` or ``"ml evaluate"``.
    quiet : bool
        Print nothing.
    stream : file, optional
        Where progress goes (default: standard error at the time of the call).
    """
    global _JOB
    stream = sys.stderr if stream is None else stream
    current = _Job(name, quiet, stream)
    previous, _JOB = _JOB, current
    stop = threading.Event()
    ticker = None
    if not quiet:
        ticker = threading.Thread(target=_tick, args=(current, stop), daemon=True)
        ticker.start()
    failed = True
    try:
        yield
        failed = False
    finally:
        stop.set()
        if ticker is not None:
            ticker.join(timeout=2.0)
        with current.lock:
            if current.bar is not None:
                current.bar.close()
                current.bar = None
        if failed:
            current.pending = None  # the error message says what happened, in one line
        elif not quiet:
            current.flush()
            if current.elapsed() >= QUIET_AFTER_S:
                current.line(f"done in {current.elapsed():.1f} s")
        _JOB = previous


def _tick(current: _Job, stop: threading.Event) -> None:
    """Keep the live status up to date (terminal) or say once that a silent job runs (piped)."""
    terminal = _is_terminal(current.stream)
    said_running = False
    while not stop.wait(0.25):
        current.flush(older_than_s=STAGE_DELAY_S)
        if terminal:
            if current.elapsed() < BAR_DELAY_S:
                continue
            with current.lock:
                if current.bar is None:
                    from tqdm import tqdm

                    current.bar = tqdm(total=None, file=current.stream, leave=False,
                                       bar_format="{desc}")
                current.bar.set_description_str(current.status(), refresh=True)
        elif not said_running and current.n_stages == 0 and current.elapsed() >= RUNNING_AFTER_S:
            said_running = True
            current.line("running ...")
