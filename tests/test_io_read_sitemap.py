"""Reader extensions: builder CIFs back in order with metadata and parent_index (also after
relaxation), extxyz metadata as a dict, vasprun.xml detection, label-restricted parent indices."""

from __future__ import annotations

import numpy as np
import pytest

from nasicon_sim.errors import StructureError
from nasicon_sim.io.read import detect_format, read_structure
from nasicon_sim.io.write import write_structure
from nasicon_sim.structure.ensemble import build_ensemble
from nasicon_sim.structure.parent import load_parent
from nasicon_sim.structure.supercell import parent_indices_of


@pytest.fixture(scope="module")
def config():
    return build_ensemble("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", n=1, seed=3, method="ewald",
                          supercell="1x1x2")[0]


def test_builder_cif_comes_back_complete(config, tmp_path):
    s = config.structure
    back = read_structure(write_structure(s, tmp_path / "c.cif"))
    assert [str(x.specie) for x in back] == [str(x.specie) for x in s]
    assert np.allclose(back.frac_coords, s.frac_coords, atol=1e-6)
    assert back.site_properties == s.site_properties
    assert back.properties["nasicon_sim"] == config.metadata()
    # the builder's writers accept what the reader gives back
    again = read_structure(write_structure(back, tmp_path / "again.cif"))
    assert again.site_properties == s.site_properties
    assert np.allclose(again.frac_coords, s.frac_coords, atol=1e-6)


def test_parent_index_survives_large_displacements(config, tmp_path):
    s = config.structure.copy()
    na = [i for i, site in enumerate(s) if site.specie.symbol == "Na"]
    s.translate_sites(na[:4], [1.2, 0.4, -0.3], frac_coords=False)  # far beyond 0.5 A
    s.lattice = s.lattice.__class__(s.lattice.matrix * 1.015)  # and a strained cell
    back = read_structure(write_structure(s, tmp_path / "moved.cif"))
    assert back.site_properties["parent_index"] == s.site_properties["parent_index"]
    with pytest.raises(StructureError, match="from the nearest parent site"):
        parent_indices_of(back.frac_coords, config.supercell_matrix, load_parent())


def test_parent_indices_of_checks_its_labels(config):
    s = config.structure
    labels = s.site_properties["parent_label"]
    idx = parent_indices_of(s.frac_coords, config.supercell_matrix, load_parent(),
                            parent_labels=labels)
    assert idx.tolist() == s.site_properties["parent_index"]
    with pytest.raises(StructureError, match="not in the parent"):
        parent_indices_of(s.frac_coords, config.supercell_matrix, load_parent(),
                          parent_labels=["Xx9"] * len(s))
    with pytest.raises(StructureError, match="parent labels for"):
        parent_indices_of(s.frac_coords, config.supercell_matrix, load_parent(),
                          parent_labels=labels[:3])


def test_extxyz_metadata_is_a_dict(config, tmp_path):
    back = read_structure(write_structure(config.structure, tmp_path / "c.extxyz"))
    assert back.properties["nasicon_sim"] == config.metadata()


def test_vasprun_names_and_missing_sidecar(tmp_path):
    assert detect_format("a/vasprun.xml") == detect_format("vasprun_relax.xml.gz") == "vasprun"
    poscar = tmp_path / "POSCAR"
    from pymatgen.core import Lattice, Structure

    Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]).to(
        filename=str(poscar), fmt="poscar")
    with pytest.raises(StructureError, match="no nasicon_sim.json next to"):
        read_structure(poscar, site_map=True)
    with pytest.raises(StructureError, match="no such site map"):
        read_structure(poscar, site_map=tmp_path / "missing.json")
