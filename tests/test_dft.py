"""VASP inputs (pymatgen MP sets, POTCAR.spec, site-map sidecar) and finished runs read back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from nasicon_sim.dft import VaspInputSettings, read_vasp_output, write_vasp_inputs
from nasicon_sim.errors import NasiconSimError, StructureError
from nasicon_sim.io.read import read_structure
from nasicon_sim.io.sitemap import SITE_MAP_FILE, apply_site_map, read_site_map, site_map_record
from nasicon_sim.structure.ensemble import build_ensemble

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"


@pytest.fixture(scope="module")
def me1():
    return build_ensemble(ME1, n=1, seed=0, method="ewald")[0]


@pytest.fixture(scope="module")
def ase_vasprun() -> Path:
    import ase

    path = Path(ase.__file__).parent / "test" / "testdata" / "vasp" / "vasprun_pstress.xml"
    if not path.is_file():
        pytest.skip("ASE's test data (vasprun_pstress.xml) is not installed")
    return path


def test_inputs_keep_the_atom_order_and_write_only_potcar_spec(me1, tmp_path):
    from pymatgen.io.vasp import Incar, Kpoints, Poscar

    d = write_vasp_inputs(me1.structure, tmp_path / "c0", source="conf_000.cif")
    names = sorted(p.name for p in d.iterdir())
    assert names == sorted(["INCAR", "KPOINTS", "POSCAR", "POTCAR.spec", SITE_MAP_FILE])
    poscar = Poscar.from_file(str(d / "POSCAR"), check_for_potcar=False)
    s = me1.structure
    assert [x.specie.symbol for x in poscar.structure] == [x.specie.symbol for x in s]
    assert np.allclose(poscar.structure.frac_coords, s.frac_coords, atol=1e-8)
    # one POTCAR symbol per species block, in POSCAR order (MP's choices, e.g. Na_pv, Zr_sv)
    spec = (d / "POTCAR.spec").read_text().split()
    assert [sym.split("_")[0] for sym in spec] == poscar.site_symbols
    assert spec[:2] == ["Na_pv", "Zr_sv"]
    incar = Incar.from_file(str(d / "INCAR"))
    assert incar["ISIF"] == 3 and incar["ENCUT"] == 520
    assert Kpoints.from_file(str(d / "KPOINTS")).kpts
    record = read_site_map(d / SITE_MAP_FILE)
    assert record["metadata"] == me1.metadata()
    assert record["parent_label"] == list(s.site_properties["parent_label"])
    assert record["vasp"]["potcar_symbols"] == spec and record["source"] == "conf_000.cif"


def test_positions_only_incar_overrides_and_kpoint_density(me1, tmp_path):
    from pymatgen.io.vasp import Incar, Kpoints

    settings = VaspInputSettings(cell=False, incar={"ISPIN": 1, "NCORE": 4}, reciprocal_density=200)
    d = write_vasp_inputs(me1.structure, tmp_path / "c0", settings)
    incar = Incar.from_file(str(d / "INCAR"))
    assert (incar["ISIF"], incar["ISPIN"], incar["NCORE"]) == (2, 1, 4)
    dense = np.prod(Kpoints.from_file(str(d / "KPOINTS")).kpts[0])
    d64 = write_vasp_inputs(me1.structure, tmp_path / "c1")
    assert dense > np.prod(Kpoints.from_file(str(d64 / "KPOINTS")).kpts[0])
    with pytest.raises(NasiconSimError, match="already holds"):
        write_vasp_inputs(me1.structure, tmp_path / "c0")
    with pytest.raises(NasiconSimError, match="input set"):
        VaspInputSettings(input_set="MyFancySet")


def _contcar_from(directory: Path, shift: float = 0.01) -> Path:
    """A CONTCAR as VASP would leave it: same order, atoms moved a little."""
    from pymatgen.io.vasp import Poscar

    p = Poscar.from_file(str(directory / "POSCAR"), check_for_potcar=False)
    s = p.structure
    rng = np.random.default_rng(1)
    cart = s.cart_coords + rng.normal(0, shift, (len(s), 3))
    moved = s.__class__(s.lattice, s.species, cart, coords_are_cartesian=True)
    Poscar(moved).write_file(str(directory / "CONTCAR"))
    return directory / "CONTCAR"


def test_contcar_maps_back_to_its_configuration_and_runs_bvse(me1, tmp_path):
    from nasicon_sim.bvse import BVSESettings, analyse
    from nasicon_sim.network import ReferenceSites
    from nasicon_sim.structure.supercell import parent_sites_of

    d = write_vasp_inputs(me1.structure, tmp_path / "c0")
    _contcar_from(d)
    s = read_vasp_output(d)
    assert s.properties["oxidation_states_source"] == "file"
    assert [str(x.specie) for x in s] == [str(x.specie) for x in me1.structure]
    for key in ("parent_label", "wyckoff", "sublattice", "parent_index"):
        assert s.site_properties[key] == me1.structure.site_properties[key]
    assert s.properties["nasicon_sim"] == me1.metadata()
    result = analyse(s, BVSESettings(spacing_A=0.4), ReferenceSites(*parent_sites_of(s)))
    labels = {site.label for site in result.network.sites}
    assert labels <= {"Na1", "Na2", "Na3"} and "Na1" in labels
    assert 0 < result.barriers_eV[2] < 5


def test_reordered_or_foreign_contcars_are_refused(me1, tmp_path):
    from pymatgen.io.vasp import Poscar

    d = write_vasp_inputs(me1.structure, tmp_path / "c0")
    s = Poscar.from_file(str(d / "POSCAR"), check_for_potcar=False).structure
    swapped = s.copy()
    na, o = 0, len(s) - 1
    swapped.replace(na, "O", coords=s[na].frac_coords)
    swapped.replace(o, "Na", coords=s[o].frac_coords)
    Poscar(swapped).write_file(str(d / "CONTCAR"))
    with pytest.raises(StructureError, match="atom 0 is O in the structure but Na"):
        read_vasp_output(d)
    shorter = s.copy()
    shorter.remove_sites([len(s) - 1])
    Poscar(shorter).write_file(str(d / "CONTCAR"))
    with pytest.raises(StructureError, match="describes 82 atoms but the structure has 81"):
        read_vasp_output(d / "CONTCAR")
    # without the sidecar the same file reads as a plain structure
    plain = read_structure(d / "CONTCAR", site_map=False)
    assert "parent_label" not in plain.site_properties
    with pytest.raises(StructureError, match="holds none of"):
        read_vasp_output(tmp_path)


def test_vasprun_matches_ases_reader_and_takes_a_sidecar(ase_vasprun, tmp_path):
    from ase.io import read

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(ase_vasprun, run / "vasprun.xml")
    ref = read(run / "vasprun.xml", index=-1)  # an independent reader
    s = read_structure(run / "vasprun.xml", oxidation_states={"C": 0})
    assert np.allclose(s.lattice.matrix, ref.cell.array)
    assert np.allclose(s.cart_coords, ref.get_positions())
    assert s.properties["dft"]["converged_ionic"] is True
    assert s.properties["dft"]["file"] == "vasprun.xml"
    # a sidecar written for this cell is attached atom by atom
    record = site_map_record(s, source="test")
    record["metadata"] = {"composition": "C2", "index": 7}
    (run / SITE_MAP_FILE).write_text(json.dumps(record))
    t = read_vasp_output(run)
    assert t.properties["nasicon_sim"] == {"composition": "C2", "index": 7}
    assert "dft" in t.properties
    record["elements"] = ["Si", "C"]
    (run / SITE_MAP_FILE).write_text(json.dumps(record))
    with pytest.raises(StructureError, match="atom 0 is C"):
        read_vasp_output(run)


def test_site_map_sidecar_errors(me1, tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    with pytest.raises(StructureError, match="not a nasicon-sim site map"):
        read_site_map(bad)
    bad.write_text("not json")
    with pytest.raises(StructureError, match="cannot read"):
        read_site_map(bad)
    record = site_map_record(me1.structure)
    record["parent_label"] = record["parent_label"][:-1]
    bad.write_text(json.dumps(record))
    with pytest.raises(StructureError, match="parent_label has 81 entries for 82"):
        read_site_map(bad)
    s = me1.structure.copy()
    assert apply_site_map(s, site_map_record(me1.structure)).site_properties == \
        me1.structure.site_properties
