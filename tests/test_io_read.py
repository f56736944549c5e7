"""Structure readers: formats, oxidation-state sources, site-map restoration, clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _bvse_helpers import nzsp_framework

from nasicon_sim.errors import NasiconSimError, OxidationStateError, StructureError
from nasicon_sim.io.read import assign_oxidation_states, detect_format, read_structure
from nasicon_sim.structure.parent import load_parent, reference_structures_dir


def ordered_nzsp():
    """An ordered, charge-balanced NZSP cell: Na on Na1, Na2 and four of the eight Na3."""
    s = load_parent()
    na3 = [i for i, site in enumerate(s) if site.properties["label"] == "Na3"]
    keep = [i for i in range(len(s)) if i not in na3[4:]]
    s = s.__class__.from_sites([s[i] for i in keep])
    for i, site in enumerate(s):
        if site.species.elements[0].symbol == "Na":
            s.replace(i, {"Na+": 1.0}, properties=site.properties)
    return s


def test_reference_cif_gets_nasicon_states_labels_and_wyckoff():
    s = read_structure(reference_structures_dir() / "NZSP_C2c.cif")
    assert s.properties["oxidation_states_source"] == "nasicon"
    assert s.site_properties["label"][0] == "Na1"
    assert s.site_properties["wyckoff"][0] == "4d"
    states = {sp.symbol: sp.oxi_state for site in s for sp in site.species}
    assert states == {"Na": 1, "Zr": 4, "Si": 4, "P": 5, "O": -2}


def test_cif_with_oxidation_numbers_reads_them_from_the_file(tmp_path):
    from pymatgen.io.cif import CifWriter

    path = tmp_path / "decorated.cif"
    s = nzsp_framework()
    s.replace_species({"Zr4+": "Ti4+"})  # not what NASICON chemistry would give for this cell
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen notes the repeated site labels
        CifWriter(s).write_file(path)
    assert "_atom_type_oxidation_number" in path.read_text()
    t = read_structure(path)
    assert t.properties["oxidation_states_source"] == "file"
    assert {str(sp) for sp in t.composition} >= {"Ti4+", "O2-"}


def test_poscar_and_contcar_without_states_use_nasicon_chemistry(tmp_path):
    s = ordered_nzsp()
    s.remove_oxidation_states()
    for name in ("POSCAR", "CONTCAR", "relaxed.vasp"):
        path = tmp_path / name
        s.to(filename=str(path), fmt="poscar")
        t = read_structure(path)
        assert t.properties["oxidation_states_source"] == "nasicon"
        assert len(t) == len(s)


def test_extxyz_restores_the_site_map(tmp_path):
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    s = ordered_nzsp()
    atoms = AseAtomsAdaptor.get_atoms(s)
    for key in ("oxi_states", "label", "wyckoff", "sublattice"):
        if key in atoms.arrays:
            del atoms.arrays[key]
    atoms.set_array("parent_label", np.array([site.properties["label"] for site in s]))
    atoms.set_array("wyckoff", np.array([site.properties["wyckoff"] for site in s]))
    atoms.set_array("sublattice", np.array([site.properties["sublattice"] for site in s]))
    atoms.set_array("parent_index", np.arange(len(s)))
    path = tmp_path / "cfg.extxyz"
    write(path, atoms, format="extxyz")
    t = read_structure(path)
    assert t.site_properties["parent_label"] == [site.properties["label"] for site in s]
    assert t.site_properties["wyckoff"][0] == "4d"
    assert t.site_properties["parent_index"][:3] == [0, 1, 2]
    assert t.properties["oxidation_states_source"] == "nasicon"


def test_builder_cif_labels_restore_parent_label_and_wyckoff(tmp_path):
    s = ordered_nzsp()
    lines = ["data_cfg", f"_cell_length_a {s.lattice.a:.6f}",
             f"_cell_length_b {s.lattice.b:.6f}", f"_cell_length_c {s.lattice.c:.6f}",
             f"_cell_angle_alpha {s.lattice.alpha:.6f}",
             f"_cell_angle_beta {s.lattice.beta:.6f}",
             f"_cell_angle_gamma {s.lattice.gamma:.6f}",
             "_symmetry_space_group_name_H-M 'P 1'", "loop_", "_symmetry_equiv_pos_as_xyz", "'x, y, z'",
             "loop_", "_atom_site_label", "_atom_site_type_symbol", "_atom_site_fract_x",
             "_atom_site_fract_y", "_atom_site_fract_z", "_atom_site_occupancy"]
    for n, site in enumerate(s):
        x, y, z = site.frac_coords
        lines.append(f"{site.properties['label']}_{n} {site.specie.symbol} {x:.6f} {y:.6f} {z:.6f} 1")
    path = tmp_path / "builder.cif"
    path.write_text("\n".join(lines) + "\n")
    t = read_structure(path)
    assert t.site_properties["parent_label"][:2] == ["Na1", "Na1"]
    assert set(t.site_properties["wyckoff"]) == {"4d", "4e", "8f"}
    assert t.site_properties["sublattice"][0] == "Na"


def test_overrides_win_and_non_nasicon_uses_bvanalyzer():
    from pymatgen.core import Lattice, Structure

    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])
    s = assign_oxidation_states(nacl.copy())
    assert s.properties["oxidation_states_source"] == "bvanalyzer"
    assert {str(sp) for sp in s.composition} == {"Na+", "Cl-"}
    o = assign_oxidation_states(nacl.copy(), {"Na": 1, "Cl": -1})
    assert o.properties["oxidation_states_source"] == "override"
    t = ordered_nzsp()
    t.remove_oxidation_states()
    p = assign_oxidation_states(t, {"Zr": 3})
    assert p.properties["oxidation_states_source"] == "nasicon+override"
    assert any(str(sp) == "Zr3+" for sp in p.composition)


def test_oxidation_state_errors():
    from pymatgen.core import Lattice, Structure

    with pytest.raises(OxidationStateError, match="does not contain"):
        assign_oxidation_states(ordered_nzsp(), {"Ti": 3})
    alloy = Structure(Lattice.cubic(3.0), ["Cu", "Zn"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(OxidationStateError, match="--oxi"):
        assign_oxidation_states(alloy)


def test_file_errors(tmp_path):
    with pytest.raises(StructureError, match="no such file"):
        read_structure(tmp_path / "missing.cif")
    bad = tmp_path / "x.pdb"
    bad.write_text("nothing")
    with pytest.raises(StructureError, match="cannot tell the format"):
        read_structure(bad)
    broken = tmp_path / "broken.cif"
    broken.write_text("data_x\n_cell_length_a 3\n")
    with pytest.raises(NasiconSimError):
        read_structure(broken)
    assert detect_format("a/b/POSCAR_relaxed") == "poscar"
