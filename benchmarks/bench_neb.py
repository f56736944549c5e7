"""CI-NEB of one NZSP hop with CHGNet: all images in one batch (ours) vs ASE image by image.

Side by side in one process, same loaded CHGNet model, same band:

* ours: :func:`nasicon_sim.neb.band.run_band` with ``batch=True``: before each NEB force
  call the interior images go through CHGNet as one batched crystal graph;
* reference: ASE's ``NEB`` with every image's own ``CHGNetCalculator`` (sharing the model),
  evaluated image by image, the way ASE's documentation runs an NEB.

The band: the first hop :func:`nasicon_sim.neb.find_hops` lists in an NZSP configuration
(builder, seed 0, 80 atoms), end points from :func:`make_end_points` (unrelaxed: the
relaxation is not what is timed), IDPP through the BVSE saddle. Each repeat runs ``--steps``
FIRE steps with the climbing image from that band in both modes; the script prints the median
time per NEB force call, the ratio reference / ours and the barrier each reaches (the two
follow the same trajectory, so the barriers must agree to float precision).

    .venv/bin/python benchmarks/bench_neb.py --images 5 --steps 10 --repeats 3 \
        --json benchmarks/results/bench_neb.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _band(n_images: int):
    from nasicon_sim.bvse import BVSESettings
    from nasicon_sim.cli.main import main
    from nasicon_sim.io.read import read_structure
    from nasicon_sim.neb import find_hops, network_of
    from nasicon_sim.neb.band import interpolate_band
    from nasicon_sim.neb.endpoints import make_end_points
    from nasicon_sim.neb.workflow import candidate_sites

    tmp = Path(tempfile.mkdtemp())
    with contextlib.redirect_stdout(io.StringIO()):
        main(["build", "Na3Zr2Si2PO12", "-n", "1", "--seed", "0", "-o", str(tmp)])
    s = read_structure(tmp / "conf_000.cif")
    bvse, ref = network_of(s, BVSESettings(spacing_A=0.2))
    hop = find_hops(bvse.network, s, ref)[0]
    ends = make_end_points(s, hop, candidate_sites(bvse, ref, s.lattice.matrix))
    images = interpolate_band(ends.initial, ends.final, n_images, mover=ends.mover,
                              via_cart_A=ends.saddle_cart_A)
    return hop, images


def _ours(images, calc, steps):
    from nasicon_sim.neb.band import NEBSettings, run_band

    e = np.array([_energy(images[0], calc), _energy(images[-1], calc)])
    settings = NEBSettings(n_images=len(images) - 2, fmax_eV_A=1e-6, steps=steps, climb=True,
                           calculator="chgnet", batch=True)
    t0 = time.perf_counter()
    band = run_band(images, e[0], e[1], calc, settings)
    return (time.perf_counter() - t0) / band.n_evaluations, band.barrier_forward_eV


def _energy(atoms, calc):
    a = atoms.copy()
    a.calc = calc
    return float(a.get_potential_energy())


def _reference(images, model, steps):
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.mep import NEB
    from ase.optimize import FIRE
    from chgnet.model.dynamics import CHGNetCalculator

    band = [a.copy() for a in images]
    for a in band[1:-1]:
        a.calc = CHGNetCalculator(model=model)
    for a in (band[0], band[-1]):
        a.calc = SinglePointCalculator(a, energy=_energy(a, CHGNetCalculator(model=model)),
                                       forces=np.zeros((len(a), 3)))
    neb = NEB(band, k=0.1, climb=False, method="improvedtangent")
    calls = {"n": 0}
    original = neb.get_forces

    def counted():
        calls["n"] += 1
        return original()

    neb.get_forces = counted
    t0 = time.perf_counter()
    # the same two stages as ours: no climbing image to max(2 fmax, 0.1), then climbing
    n = 0
    for climb, fmax in ((False, 0.1), (True, 1e-6)):
        neb.climb = climb
        if steps - n <= 0:
            break
        opt = FIRE(neb, logfile=None)
        opt.run(fmax=fmax, steps=steps - n)
        n += opt.nsteps
    neb.get_forces = original
    f = neb.get_forces()
    calls["n"] += 1
    seconds = time.perf_counter() - t0
    e = np.array(neb.energies)
    return seconds / calls["n"], float(e.max() - e[0]), f


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=5)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from nasicon_sim.neb.band import NEBSettings
    from nasicon_sim.neb.workflow import calculator_for

    calc = calculator_for(NEBSettings())
    hop, images = _band(args.images)
    ours, ref, barriers = [], [], []
    for _ in range(args.repeats):
        t, b = _ours(images, calc, args.steps)
        ours.append(t)
        t_ref, b_ref, _ = _reference(images, calc.model, args.steps)
        ref.append(t_ref)
        barriers.append((b, b_ref))
    out = {
        "hop": hop.hop_type, "n_atoms": len(images[0]), "n_images": args.images,
        "steps": args.steps, "repeats": args.repeats, "threads": args.threads,
        "ours_s_per_force_call": statistics.median(ours),
        "ase_s_per_force_call": statistics.median(ref),
        "ratio_ase_over_ours": statistics.median(ref) / statistics.median(ours),
        "barrier_ours_eV": barriers[-1][0], "barrier_ase_eV": barriers[-1][1],
        "barrier_difference_eV": abs(barriers[-1][0] - barriers[-1][1]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load average "
                   f"{os.getloadavg()[0]:.1f} at the end",
    }
    print(f"hop {out['hop']}: {out['n_atoms']} atoms, {args.images} images, {args.steps} steps, "
          f"{args.repeats} repeats, {args.threads} thread(s)")
    print(f"ours (one batch per NEB step): {out['ours_s_per_force_call']:.3f} s per force call")
    print(f"ASE (image by image):          {out['ase_s_per_force_call']:.3f} s per force call")
    print(f"ratio ASE / ours (median):     {out['ratio_ase_over_ours']:.2f}")
    print(f"barrier ours {out['barrier_ours_eV']:.4f} eV, ASE {out['barrier_ase_eV']:.4f} eV, "
          f"difference {out['barrier_difference_eV'] * 1000:.2f} meV")
    print(out["machine"])
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
