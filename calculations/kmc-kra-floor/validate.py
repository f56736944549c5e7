"""The E_KRA floor (``KMCSettings.kra_floor_eV``) against plain kMC on relaxed NASICON networks.

The floor raises every kinetically resolved barrier below it to it, so ions waste fewer kMC
events rattling over low barriers (see docs/guide/transport.md). It is an approximation: it
holds while the raised hops stay much faster than the rate-limiting ones. This script checks
it on the CHGNet-relaxed configurations of ``calculations/zuo2026-relaxed-8`` (one or more
per composition, the same structures and BVSE networks its kMC used): for each floor it runs
kMC with that study's ``[kmc]`` settings and compares sigma, temperature by temperature, with
the study's own stored kMC (floor 0, the same settings otherwise), as the ratio and as
z = (sigma_floor - sigma_0) / (combined standard error).

    .venv/bin/python calculations/kmc-kra-floor/validate.py --workers 2

Resumable: every (configuration, floor) result is written to ``results.json`` as it
finishes, and a rerun computes only the missing ones; the table goes to ``table.md``.
``--table`` makes the table from the saved results without computing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
STUDY = HERE.parent / "zuo2026-relaxed-8"
DEFAULT_CONFIGS = "NZSP:0,NZSP:3,LE:0,ME1:0,ME1:7,ME2:0,ME2:6,HE1:0,HE1:7,HE2:0"


def _load():
    from nasicon_sim.runner import task_keys
    from nasicon_sim.store import ResultsStore
    from nasicon_sim.study import load_study
    from nasicon_sim.transport.study import kmc_key

    study = load_study(STUDY)
    store = ResultsStore(STUDY / "results" / "results.db")
    keys = {c.label: task_keys(study, c) for c in study.compositions}
    return study, store, keys, kmc_key


def _job(args):
    """One configuration at one floor (module level: picklable)."""
    label, index, floor, settings = args
    from pymatgen.io.ase import AseAtomsAdaptor

    from nasicon_sim.bvse.settings import BVSESettings
    from nasicon_sim.runner import _bvse_kwargs
    from nasicon_sim.transport.from_structure import lattice_from_network, network_from_dict
    from nasicon_sim.transport.simulate import KMCSettings, simulate

    study, store, keys, _ = _load()
    row, atoms = next(iter(store.records(task_hash=keys[label][index])))
    structure = AseAtomsAdaptor.get_structure(atoms)
    ks = KMCSettings.from_dict({**settings, "kra_floor_eV": floor})
    bk = {k: v for k, v in _bvse_kwargs(study).items() if k != "threads"}
    lat = lattice_from_network(structure, network_from_dict(
        {"sites": row["sites"], "links": row["links"]}), ks,
        BVSESettings(**bk, keep_landscape=False))
    t0 = time.perf_counter()
    out = simulate(lat, ks).as_dict()
    return {"label": label, "index": index, "floor_eV": floor,
            "wall_s": time.perf_counter() - t0, "result": out}


def _table(saved: dict, study, store, keys, kmc_key) -> list[str]:
    settings = study.kmc.settings_dict()
    lines = [f"E_KRA floor vs plain kMC (zuo2026-relaxed-8 [kmc]: "
             f"{', '.join(f'{t:g}' for t in settings['temperatures_K'])} K, "
             f"{settings['runs']} runs x {settings['passes']} passes in {settings['blocks']} "
             "blocks); sigma in S/cm, msd = squared displacement per block in squared hop "
             "lengths (>= 2: converged), z = (sigma_floor - sigma_0) / combined error", "",
             "| configuration | floor (eV) | T (K) | sigma_0 | msd_0 | sigma_floor | msd_floor "
             "| ratio | z | Ea_0 (eV) | Ea_floor (eV) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    per_floor: dict[float, list[tuple[float, float]]] = {}
    gain: dict[float, list[float]] = {}
    for key in sorted(saved, key=lambda k: (k.split("#")[0], int(k.split("#")[1].split("@")[0]),
                                            float(k.split("@")[1]))):
        job = saved[key]
        ref = store.get(kmc_key(keys[job["label"]][job["index"]], settings))
        f = job["result"]

        def ea(r):
            return "–" if r["Ea_eV"] is None else f"{r['Ea_eV']:.3f} ± {r['Ea_err_eV']:.3f}"

        for i, temp in enumerate(settings["temperatures_K"]):
            s0, e0 = ref["sigma_S_cm"][i], ref["sigma_err_S_cm"][i]
            s1, e1 = f["sigma_S_cm"][i], f["sigma_err_S_cm"][i]
            m0 = ref["points"][i]["msd_per_block_hops"] or 0.0
            m1 = f["points"][i]["msd_per_block_hops"] or 0.0
            comb = math.hypot(e0, e1)
            ratio = f"{s1 / s0:.2f}" if s0 > 0 and m0 >= 2 else "–"
            z = f"{(s1 - s0) / comb:+.1f}" if comb > 0 and m0 >= 2 and m1 >= 2 else "–"
            if z != "–":
                per_floor.setdefault(job["floor_eV"], []).append((s1 / s0, (s1 - s0) / comb))
            if m1 >= 2 and m0 > 0:
                gain.setdefault(job["floor_eV"], []).append(m1 / m0)
            lines.append(
                f"| {job['label']}#{job['index']} | {job['floor_eV']:g} | {temp:g} | "
                f"{s0:.2e} | {m0:.1f} | {s1:.2e} | {m1:.1f} | {ratio} | {z} | "
                + (f"{ea(ref)} | {ea(f)} |" if i == 0 else " | |"))
    lines.append("")
    for floor, vals in sorted(per_floor.items()):
        ratios = np.array([v[0] for v in vals])
        zs = np.array([v[1] for v in vals])
        lines.append(
            f"- floor {floor:g} eV: {len(vals)} temperature points converged with and without "
            f"it; sigma ratio median {np.median(ratios):.2f} (range {ratios.min():.2f}-"
            f"{ratios.max():.2f}), {int(np.sum(ratios < 1))} of {len(vals)} below 1, "
            f"{int(np.sum(np.abs(zs) > 2))} beyond 2 combined standard errors; displacement "
            f"per block {min(gain[floor]):.1f}-{max(gain[floor]):.1f} times the plain kMC's "
            "where the floored run converged")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--floors", default="0.35,0.45", help="E_KRA floors in eV")
    ap.add_argument("--configs", default=DEFAULT_CONFIGS, help="LABEL:INDEX,...")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--table", action="store_true", help="print the saved table only")
    a = ap.parse_args(argv)
    from nasicon_sim.executors import run_tasks
    from nasicon_sim.io.atomic import atomic_write_text

    study, store, keys, kmc_key = _load()
    out = Path(a.out)
    saved = json.loads(out.read_text()) if out.exists() else {}
    if not a.table:
        settings = study.kmc.settings_dict()
        jobs = []
        for c in a.configs.split(","):
            label, index = c.split(":")
            for floor in (float(x) for x in a.floors.split(",")):
                if f"{label}#{int(index)}@{floor:g}" not in saved:
                    jobs.append((label, int(index), floor, settings))
        for job, res in run_tasks(_job, jobs, workers=a.workers):
            if isinstance(res, BaseException):
                print(f"{job[0]}#{job[1]} floor {job[2]}: {res}", file=sys.stderr)
                continue
            saved[f"{res['label']}#{res['index']}@{res['floor_eV']:g}"] = res
            atomic_write_text(out, json.dumps(saved, indent=1))
            print(f"{res['label']}#{res['index']} floor {res['floor_eV']:g} eV: "
                  f"{res['wall_s']:.0f} s", file=sys.stderr, flush=True)
    text = "\n".join(_table(saved, study, store, keys, kmc_key))
    print(text)
    if saved:
        atomic_write_text(HERE / "table.md", text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
