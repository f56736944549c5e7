"""kmcpy side of ``bench_kmc.py``: run under a venv that has kmcpy 0.3.0 (not a project dep).

Generates kmcpy's NASICON events fresh (its own R-3c test CIF, primitive cell, Na1/Na2 hops,
``EventGenerator`` as in kmcpy's tests), gives every hop a constant 300 meV barrier
(``LocalBarrierModel.constant_barrier``, a model kmcpy accepts and our lattice expresses
exactly), leaves 1/8 of the Na sites vacant at random, and times ``KMC.run()``. Writes one JSON
file with the lattice (Na positions, event pairs, occupation) and the per-run results so the
other side can run the same lattice with the same rates.

Usage: /tmp/kmcpy-venv/bin/python benchmarks/kmcpy_side.py CIF 4x4x4 RUNS PASSES OUT.json
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SITE_MAPPING = {"Na": ["Na", "X"], "Zr": "Zr", "Si": ["Si", "P"], "O": "O"}


def main() -> None:
    cif, shape, runs, passes, out = sys.argv[1:6]
    sc = [int(x) for x in shape.split("x")]
    runs, passes = int(runs), int(passes)
    temperature, nu, barrier_meV = 573.0, 5e12, 300.0
    logging.disable(logging.WARNING)
    import kmcpy
    from kmcpy.event import EventGenerator, EventLib
    from kmcpy.io.cif import load_labeled_structure_from_cif
    from kmcpy.models.local_barrier_model import LocalBarrierModel
    from kmcpy.simulator.config import Configuration
    from kmcpy.simulator.kmc import KMC
    from kmcpy.structure.active_site_order import ActiveSiteOrder

    work = Path(tempfile.mkdtemp(prefix="kmcpy-bench-"))
    cif = str(Path(cif).resolve())
    t0 = time.perf_counter()
    EventGenerator().generate_events(
        structure_file=cif, local_env_cutoff_dict={("Na+", "Na+"): 4, ("Na+", "Si4+"): 4},
        mobile_ion_identifiers=("Na1", "Na2"), site_mapping=SITE_MAPPING,
        distance_matrix_rtol=0.01, distance_matrix_atol=0.01, find_nearest_if_fail=False,
        convert_to_primitive_cell=True, export_local_env_structure=False, supercell_shape=sc,
        event_file=str(work / "events.json"))
    t_events = time.perf_counter() - t0
    lib = EventLib.from_file(str(work / "events.json"))
    full = load_labeled_structure_from_cif(cif, primitive=True)
    aso = ActiveSiteOrder.from_structure_and_mapping(full, SITE_MAPPING, supercell_shape=sc)
    st = aso.active_structure()
    na = [i for i, s in enumerate(st) if s.species_string.startswith("Na")]
    pairs = [list(map(int, e.mobile_ion_indices)) for e in lib.events]
    hop_len = [float(st.get_distance(a, b)) for a, b in pairs]
    model_file = work / "model.json"
    LocalBarrierModel.constant_barrier(barrier_meV).to(str(model_file))
    rng = np.random.default_rng(0)
    vacant = rng.choice(na, size=len(na) // 8, replace=False)
    occ = [0] * len(st)  # state 0 = Na (occupied), 1 = X (vacant); Si/P sites stay 0 (Si)
    for i in vacant:
        occ[int(i)] = 1
    results = []
    import os

    cif = str(Path(cif).resolve())
    out = str(Path(out).resolve())
    os.chdir(work)  # kmcpy writes its result files into the working directory
    for r in range(runs):
        cfg = Configuration(
            structure_file=cif, model_file=str(model_file), event_file=str(work / "events.json"),
            initial_occupations=occ, mobile_ion_specie="Na", temperature=temperature,
            attempt_frequency=nu, equilibration_passes=0, kmc_passes=passes,
            supercell_shape=tuple(sc), site_mapping=SITE_MAPPING,
            convert_to_primitive_cell=True, elementary_hop_distance=float(np.mean(hop_len)),
            random_seed=1000 + r, name=f"bench{r}")
        kmc = KMC.from_config(cfg)
        t0 = time.perf_counter()
        tracker = kmc.run(label=f"run{r}")
        dt = time.perf_counter() - t0
        info = tracker.return_current_info()
        n_hops = passes * len(na)
        results.append({"D_J_cm2_s": info[2], "D_tracer_cm2_s": info[3], "haven": info[5],
                        "f": info[6], "sim_time_s": info[0], "hops": n_hops, "seconds": dt,
                        "hops_per_second": n_hops / dt})
        print(f"kmcpy {shape} run {r}: {n_hops / dt:,.0f} hops/s", file=sys.stderr, flush=True)
    out_d = {
        "kmcpy_version": kmcpy.__version__ if hasattr(kmcpy, "__version__") else "0.3.0",
        "supercell": sc, "temperature_K": temperature, "attempt_frequency_Hz": nu,
        "barrier_eV": barrier_meV / 1000.0, "lattice": st.lattice.matrix.tolist(),
        "na_frac": [st[i].frac_coords.tolist() for i in na], "na_index": na,
        "pairs": pairs, "hop_lengths_A": hop_len, "vacant": [int(i) for i in vacant],
        "n_events": len(pairs), "event_generation_s": t_events, "runs": results}
    Path(out).write_text(json.dumps(out_d))


if __name__ == "__main__":
    main()
