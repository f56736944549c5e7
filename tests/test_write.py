"""Writers: CIF / extended XYZ / POSCAR round trips with independent readers; manifest."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from nasicon_sim.errors import NasiconSimError, StructureError
from nasicon_sim.io.write import (
    MANIFEST_NAME,
    EnsembleWriter,
    atomic_write_text,
    cif_string,
    extxyz_string,
    poscar_string,
    write_structure,
)
from nasicon_sim.structure.ensemble import build_ensemble
from nasicon_sim.structure.parent import load_parent
from nasicon_sim.structure.supercell import parent_indices_of

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"


@pytest.fixture(scope="module")
def ensemble():
    return build_ensemble(ME1, n=3, seed=0, method="ewald", supercell="1x1x2")


def test_cif_round_trip_with_labels_and_oxidation_states(ensemble, tmp_path):
    from pymatgen.io.cif import CifFile, CifParser

    config = ensemble[0]
    path = write_structure(config.structure, tmp_path / "a.cif")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = CifParser(str(path)).parse_structures(primitive=False)[0]
    s = config.structure
    assert len(back) == len(s)
    assert np.allclose(back.lattice.parameters, s.lattice.parameters, atol=1e-6)
    assert back.composition == s.composition  # oxidation states included
    # pymatgen regroups sites; the label's running index points back to the written atom
    seen = set()
    for b in back:
        match = re.fullmatch(r"([A-Za-z]+\d*)_(\d+)", b.label)
        assert match, b.label
        n = int(match.group(2))
        a = s[n]
        seen.add(n)
        assert match.group(1) == a.properties["parent_label"]
        assert a.species_string == b.species_string
        assert np.allclose(a.frac_coords, b.frac_coords, atol=1e-7)
    assert seen == set(range(len(s)))
    block = next(iter(CifFile.from_file(str(path)).data.values()))
    meta = json.loads(block.data["_nasicon_sim_metadata"])
    assert meta == json.loads(json.dumps(config.metadata()))
    # parent_index is restored from positions and the supercell matrix
    idx = parent_indices_of(back.frac_coords, meta["supercell_matrix"], load_parent())
    order = [int(b.label.rsplit("_", 1)[1]) for b in back]
    assert np.array_equal(idx, np.array(s.site_properties["parent_index"])[order])


def test_cif_is_readable_by_ase(ensemble, tmp_path):
    from ase.io import read

    path = tmp_path / "b.cif"
    path.write_text(cif_string(ensemble[1].structure))
    atoms = read(path)
    assert sorted(atoms.get_chemical_symbols()) == sorted(s.specie.symbol for s in ensemble[1].structure)


def test_extxyz_round_trip(ensemble, tmp_path):
    from ase.io import read

    config = ensemble[0]
    path = write_structure(config.structure, tmp_path / "a.extxyz")
    atoms = read(path, format="extxyz")
    props = config.structure.site_properties
    for key in ("parent_label", "wyckoff", "sublattice"):
        assert list(atoms.arrays[key]) == list(props[key])
    assert list(atoms.arrays["parent_index"]) == list(props["parent_index"])
    assert list(atoms.arrays["oxi_state"]) == [s.specie.oxi_state for s in config.structure]
    assert json.loads(atoms.info["nasicon_sim"]) == json.loads(json.dumps(config.metadata()))
    assert atoms.info["ewald_energy_eV"] == pytest.approx(config.ewald_energy_eV)
    assert np.allclose(atoms.get_scaled_positions(wrap=False), config.structure.frac_coords, atol=1e-6)


def test_poscar_round_trip(ensemble, tmp_path):
    from pymatgen.io.vasp import Poscar

    config = ensemble[0]
    path = write_structure(config.structure, tmp_path / "POSCAR")
    back = Poscar.from_file(str(path)).structure
    assert back.composition.element_composition == config.structure.composition.element_composition
    assert np.allclose(back.frac_coords, config.structure.frac_coords, atol=1e-7)
    assert poscar_string(config.structure).splitlines()[0].startswith(config.metadata()["composition"])


def test_writers_need_the_site_map(tmp_path):
    from pymatgen.core import Lattice, Structure

    bare = Structure(Lattice.cubic(4), ["Na"], [[0, 0, 0]])
    with pytest.raises(StructureError, match="site-map contract"):
        cif_string(bare)
    with pytest.raises(StructureError, match="site-map contract"):
        extxyz_string(bare)
    with pytest.raises(NasiconSimError, match="cannot tell the format"):
        write_structure(bare, tmp_path / "x.pdb")


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_ensemble_writer_incremental_manifest(ensemble, tmp_path):
    out = tmp_path / "ens"
    writer = EnsembleWriter(out, {"method": "ewald"}, formats=["cif", "extxyz", "poscar"])
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["status"] == "running" and manifest["configurations"] == []
    for k, config in enumerate(ensemble):
        files = writer.add(config)
        manifest = json.loads((out / MANIFEST_NAME).read_text())
        assert manifest["n_configurations"] == k + 1
        entry = manifest["configurations"][k]
        assert entry["files"] == files == {"cif": f"conf_{k:03d}.cif", "extxyz": f"conf_{k:03d}.extxyz",
                                           "poscar": f"conf_{k:03d}.vasp"}
        assert entry["ewald_energy_eV"] == pytest.approx(config.ewald_energy_eV)
        assert entry["supercell_matrix"] == [list(r) for r in config.supercell_matrix]
        for name in files.values():
            assert (out / name).is_file()
    writer.finish(ensemble.summary())
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["status"] == "complete"
    assert manifest["ensemble"]["n_configurations"] == 3
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    with pytest.raises(NasiconSimError, match="already holds an ensemble"):
        EnsembleWriter(out, {})
    EnsembleWriter(out, {}, overwrite=True).abort()
    assert json.loads((out / MANIFEST_NAME).read_text())["status"] == "interrupted"


def test_interrupted_build_keeps_finished_configurations(tmp_path):
    out = tmp_path / "cut"
    writer = EnsembleWriter(out, {"method": "random"})

    def add_then_stop(config):
        writer.add(config)
        if config.index == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_ensemble(ME1, n=5, seed=0, method="random", callback=add_then_stop)
    writer.abort()
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["status"] == "interrupted" and manifest["n_configurations"] == 2
    assert sorted(p.name for p in out.glob("*.cif")) == ["conf_000.cif", "conf_001.cif"]


def test_unknown_format(tmp_path):
    with pytest.raises(NasiconSimError, match="unknown output format"):
        EnsembleWriter(tmp_path / "z", {}, formats=["cif", "pdb"])
