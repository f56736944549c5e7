"""Hostile or meaningless BVSE requests are refused with one line (issue 12, items 3, 8, 10)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from nasicon_sim.cli.main import main
from nasicon_sim.structure.parent import reference_structures_dir

CIF = str(reference_structures_dir() / "NZSP_C2c.cif")


@cache
def _ordered():
    from nasicon_sim.structure.ensemble import build_ensemble

    return build_ensemble("Na3Zr2Si2PO12", n=1, seed=0, method="random").configurations[0] \
        .structure


def poscar(tmp_path, name, edit) -> str:
    """Write the ordered NZSP cell as a POSCAR after ``edit(lines, species, first_line)``."""
    from pymatgen.io.vasp import Poscar

    s = _ordered().copy()
    s.remove_oxidation_states()
    for key in list(s.site_properties):
        s.remove_site_property(key)
    lines = Poscar(s).get_str().splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.strip().lower().startswith("direct")) + 1
    species = [sp for sp, n in zip(lines[5].split(), lines[6].split()) for _ in range(int(n))]
    edit(lines, species, first)
    path = tmp_path / f"{name}.vasp"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _nan_on_na(lines, species, first):
    lines[first + species.index("Na")] = " nan 0.25 0.25"


def _huge(lines, species, first):
    lines[first + species.index("Zr")] = " 1e300 0.25 0.25"


def _zr_on_o(lines, species, first):
    lines[first + species.index("Zr")] = lines[first + species.index("O")]


def _all_at_origin(lines, species, first):
    for k in range(len(species)):
        lines[first + k] = " 0 0 0"


def run_cli(capsys, args) -> str:
    assert main(["bvse", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("edit, message", [
    (_nan_on_na, "non-finite"),
    (_huge, "non-finite or absurd"),
    (_zr_on_o, "overlap"),
    (_all_at_origin, "overlap"),  # was ZeroDivisionError in the cutoff bound
])
def test_impossible_geometry_is_refused(capsys, tmp_path, edit, message):
    err = run_cli(capsys, [poscar(tmp_path, edit.__name__, edit), "--spacing", "0.4"])
    assert message in err


def test_structure_without_counter_ions_is_refused(capsys, tmp_path):
    from pymatgen.io.cif import CifWriter

    s = _ordered().copy()
    s.remove_species(["O2-"])
    path = tmp_path / "no_anions.cif"
    CifWriter(s).write_file(path)
    err = run_cli(capsys, [str(path), "--spacing", "0.4", "--oxi", "Zr=4", "--oxi", "Si=4",
                           "--oxi", "P=5", "--oxi", "Na=1"])
    assert "no counter-ions" in err and "--oxi" in err


@pytest.mark.parametrize("args, message", [
    (["--spacing", "0"], "--spacing"),
    (["--spacing", "100"], "--spacing"),  # was a 1x1x1 grid answering E_3D = 0
    (["--spacing", "1e-300"], "a million points"),  # was OverflowError
    (["--spacing", "nan"], "--spacing"),
    (["--spacing", "0.01"], "--max-memory-gb"),
    (["--oxi", "Na=2"], "--mobile-ion"),  # the mobile ion's charge was silently ignored
    (["--oxi", "Zz=2"], "not a chemical element"),
])
def test_meaningless_requests_name_the_flag(capsys, args, message):
    assert message in run_cli(capsys, [CIF, *args])


def test_clustered_atoms_in_a_huge_cell_do_not_exhaust_memory():
    # was MemoryError (4.5 GB of empty cell-list bins) in cutoff.min_group_distance
    import resource

    from nasicon_sim.bvse.cutoff import min_group_distance

    rng = np.random.default_rng(0)
    frac = 0.01 * rng.random((200, 3))
    d = min_group_distance(np.eye(3) * 1000.0, frac)
    brute = min(np.linalg.norm((frac[i] - frac[j]) * 1000.0)
                for i in range(200) for j in range(i))
    assert d == pytest.approx(min(brute, 4.0))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 3e6  # KB: well under 3 GB


def test_huge_cell_is_refused_by_the_memory_guard(capsys, tmp_path):
    from pymatgen.core import Lattice, Structure

    s = _ordered()
    big = Structure(Lattice.cubic(1000.0), s.species, s.cart_coords, coords_are_cartesian=True)
    path = tmp_path / "big.cif"
    big.to(filename=str(path))
    err = run_cli(capsys, [str(path), "--spacing", "0.5"])
    assert "--max-memory-gb" in err
