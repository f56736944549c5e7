"""analyse() in worker processes: threads=1 never starts numba's threading layer, so forked
workers are safe even after the parent ran parallel kernels; results pickle and match."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys

import pytest
from _bvse_helpers import nzsp

from nasicon_sim.bvse import BVSESettings, analyse

SETTINGS = dict(spacing_A=0.5, keep_landscape=False)


def _worker(shift):
    s = nzsp()
    s.translate_sites(range(len(s)), [shift, 0.0, 0.0])
    return analyse(s, BVSESettings(threads=1, **SETTINGS))


def test_serial_run_does_not_start_a_threading_layer():
    code = (
        "import numba\n"
        "from nasicon_sim.bvse import BVSESettings, analyse\n"
        "from nasicon_sim.io.read import read_structure\n"
        "from nasicon_sim.structure.parent import reference_structures_dir\n"
        "s = read_structure(reference_structures_dir() / 'NZSP_C2c.cif')\n"
        "analyse(s, BVSESettings(spacing_A=0.5, threads=1))\n"
        "try:\n"
        "    numba.threading_layer()\n"
        "    print('started')\n"
        "except ValueError:\n"
        "    print('not started')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    assert out.strip() == "not started"


def test_forked_workers_after_a_parallel_run():
    parent = analyse(nzsp(), BVSESettings(threads=None, **SETTINGS))  # parent uses threads
    ctx = mp.get_context("fork")
    with ctx.Pool(2) as pool:
        results = pool.map_async(_worker, [0.0, 0.5]).get(timeout=300)
    assert results[0].barriers_eV == parent.barriers_eV
    assert results[1].refined_barriers_eV == pytest.approx(parent.refined_barriers_eV, abs=1e-6)
