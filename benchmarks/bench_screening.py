"""Screening speed and memory: vectorised enumeration vs parsing a formula per candidate.

Both sides produce the study's four descriptors and the default model's p(single phase) for
the same candidates (the CLI example ``--elements Ti,Hf,Lu,Ga,Sc --max-cations 5``):

* ours: ``enumerate_candidates`` (integer grid, numpy) + ``predict_arrays`` (feature kernel
  on arrays, GNB, HGB stability model);
* reference: for each candidate, write its formula, ``parse_nasicon`` + ``describe`` (the
  foundation path, one string per candidate), then the same GNB on the stacked descriptors.

Run: ``.venv/bin/python benchmarks/bench_screening.py [--repeats 5] [--step 0.1]``. Prints medians over
repeats (the machine is shared; single timings are noise) and the ratio reference / ours,
and the peak traced memory of each side (tracemalloc, Python allocations incl. numpy).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np

from nasicon_sim.composition import parse_nasicon
from nasicon_sim.descriptors import describe
from nasicon_sim.ml.prediction import default_model, predict_arrays
from nasicon_sim.ml.screening import ScreenSpec, enumerate_candidates


def ours(model, spec: ScreenSpec) -> np.ndarray:
    cands = enumerate_candidates(spec)
    return predict_arrays(cands.arrays, model)["p_single_phase"]


def reference(model, cands) -> np.ndarray:
    rows = []
    for i in range(len(cands)):
        d = describe(parse_nasicon(cands.formula(i)))
        rows.append((d.radius_pm, d.electronegativity, d.valence, d.entropy_R))
    return model.estimator.predict_proba(np.array(rows))[:, 1]


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--step", type=float, default=0.1, help="M-site grid (default 0.1)")
    args = parser.parse_args()
    spec = ScreenSpec(("Ti", "Hf", "Lu", "Ga", "Sc"), max_cations=5, step=args.step)
    model = default_model()
    cands = enumerate_candidates(spec)
    t_ours, p_ours = timed(lambda: ours(model, spec), args.repeats)
    t_ref, p_ref = timed(lambda: reference(model, cands), max(1, args.repeats // 2))
    np.testing.assert_allclose(p_ours, p_ref, rtol=1e-9, atol=1e-12)
    m_ours = peak_mib(lambda: ours(model, spec))
    m_ref = peak_mib(lambda: reference(model, cands))
    print(f"candidates: {len(cands)} (grid points {cands.counts['grid_points']})")
    print(f"{'side':<40} {'median s':>9} {'peak MiB':>9}")
    print(f"{'ours (enumerate + predict_arrays)':<40} {t_ours:>9.3f} {m_ours:>9.1f}")
    print(f"{'reference (formula -> parse -> describe)':<40} {t_ref:>9.3f} {m_ref:>9.1f}")
    print(f"ratio reference / ours: time {t_ref / t_ours:.1f}x, memory {m_ref / m_ours:.2f}x; "
          "same p(single phase) for every candidate")


if __name__ == "__main__":
    main()
