"""``nasicon-sim run`` and ``nasicon-sim reproduce``: a study end to end, with its report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

#: Where ``reproduce`` writes by default (relative to the working directory).
REPRODUCE_DIR = Path("nasicon-sim-results") / "zuo2026-laptop"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local worker processes (default: all cores)")
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="send the tasks to this dask.distributed scheduler (tcp://host:8786)")
    p.add_argument("--store", metavar="URL", default=None,
                   help="ase.db URL of the results store (default: OUT/results.db)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--allow-plugins", action="store_true",
                   help="let the study's [relax] method or [neb] calculator = "
                   "\"module:factory\" import and run that Python module (refused without "
                   "this flag: a study file is data and cannot enable code by itself)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a study (calculations/<study>) end to end",
                       description="Build ensembles, run BVSE on every configuration, score "
                       "compositions with the ML model, cross-check with measured values and "
                       "write report.md / report.html. Finished configurations are stored "
                       "and never recomputed: rerun the same command to resume.")
    p.add_argument("study", metavar="STUDY", help="study directory or study.toml")
    p.add_argument("--profile", default=None, help="apply [profiles.NAME] of the study file")
    p.add_argument("-o", "--output", default=None, metavar="OUT",
                   help="output directory (default: STUDY/results[-PROFILE])")
    p.add_argument("--redraw-sections", action="store_true",
                   help="redraw the stored landscape sections with the current figure code "
                   "(recomputes configuration 0's landscape of each composition, which must "
                   "reproduce the stored barriers; nothing else changes)")
    _common(p)
    p.set_defaults(func=run)

    r = sub.add_parser("reproduce", help="reproduce Zuo et al. 2026 with laptop-sized defaults",
                       description="The bundled study calculations/zuo2026 with its 'laptop' "
                       "profile (fewer configurations, coarser grid).")
    r.add_argument("-o", "--output", default=str(REPRODUCE_DIR), metavar="OUT",
                   help=f"output directory (default: {REPRODUCE_DIR})")
    _common(r)
    r.set_defaults(func=reproduce)


def _execute(study, args: argparse.Namespace) -> int:
    from nasicon_sim.runner import run_study

    out = Path(args.output) if args.output else None
    try:
        results = run_study(study, out, workers=args.workers, dask_address=args.dask,
                            store_url=args.store, progress=not args.no_progress,
                            allow_plugins=args.allow_plugins,
                            redraw=getattr(args, "redraw_sections", False))
    except KeyboardInterrupt:
        print("interrupted: finished configurations are stored; rerun the same command to "
              "resume", file=sys.stderr)
        return 130
    run = results.run
    print(f"{study.name}: {run.n_tasks} configurations ({run.n_computed} computed, "
          f"{run.n_reused} reused, {len(run.failures)} failed) in {run.seconds:.1f} s")
    for c in results.compositions:
        s = c.summaries["E_3D_eV"]
        p = c.ml.get("p_single_phase")
        print(f"  {c.composition.label:<6} E_3D = {s.mean_eV:.3f} ± {s.std_eV:.3f} eV "
              f"(n = {s.n})   ML p(single phase) = "
              f"{'–' if p is None else f'{p:.2f}'}")
    corr = results.correlations.get("E_3D_eV vs log10 sigma_total")
    if corr is not None:
        print(f"  Spearman rho(E_3D, log sigma_total) = {corr.rho:+.2f} "
              f"[{corr.ci_low:+.2f}, {corr.ci_high:+.2f}]")
    print(f"report: {(results.out_dir / 'report.md').resolve()}")
    print(f"        {(results.out_dir / 'report.html').resolve()}")
    return 1 if run.failures else 0


def run(args: argparse.Namespace) -> int:
    from nasicon_sim.study import load_study

    return _execute(load_study(args.study, profile=args.profile), args)


def reproduce(args: argparse.Namespace) -> int:
    from nasicon_sim.study import bundled_study_dir, load_study

    return _execute(load_study(bundled_study_dir("zuo2026"), profile="laptop"), args)
