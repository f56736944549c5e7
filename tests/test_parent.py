"""Reference structures: loading, oxidation states, Wyckoff labels and sublattices."""

from __future__ import annotations

from collections import Counter

import pytest

from nasicon_sim.errors import StructureError
from nasicon_sim.structure.parent import (
    _wyckoff_from_spglib,
    list_reference_structures,
    load_parent,
    load_reference,
    read_annotated_cif,
)


def test_parent_is_c2c_nzsp_with_annotations():
    s = load_parent()
    assert s.lattice.abc == pytest.approx((15.586, 9.029, 9.205))
    props = s.site_properties
    by_label = {(lab, w, sub) for lab, w, sub in zip(props["label"], props["wyckoff"], props["sublattice"])}
    assert ("Na1", "4d", "Na") in by_label
    assert ("Na2", "4e", "Na") in by_label
    assert ("Na3", "8f", "Na") in by_label
    assert ("Zr1", "8f", "M") in by_label
    assert ("P1", "4e", "T") in by_label
    assert ("Si2", "8f", "T") in by_label
    counts = Counter(props["sublattice"])
    assert counts == {"Na": 16, "M": 8, "T": 12, "O": 48}
    # Z = 4 formula units of Na3Zr2Si2PO12 (Na2/Na3 at 2/3 occupancy)
    comp = s.composition.element_composition
    assert comp["Na"] == pytest.approx(12, abs=0.01)
    assert comp["Zr"] == 8 and comp["O"] == 48


def test_oxidation_states_attached():
    s = load_parent()
    charges = {sp.symbol: sp.oxi_state for site in s for sp in site.species}
    assert charges == {"Na": 1, "Zr": 4, "Si": 4, "P": 5, "O": -2}
    assert s.charge == pytest.approx(0.0, abs=0.01)


def test_space_group_of_ordered_framework():
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    s = load_parent()
    s.remove_species(["Na+"])
    assert SpacegroupAnalyzer(s, symprec=1e-2).get_space_group_number() == 15


@pytest.mark.parametrize("name", list_reference_structures())
def test_cif_wyckoff_column_agrees_with_spglib(name):
    s = load_reference(name)
    assert s.site_properties["wyckoff"] == _wyckoff_from_spglib(s)


def test_copies_are_independent():
    a = load_parent()
    a.remove_species(["Na+"])
    assert len(load_parent()) == 84


def test_unknown_reference_and_missing_file():
    with pytest.raises(StructureError, match="unknown reference structure"):
        load_reference("NZSP_P1")
    with pytest.raises(StructureError, match="no such CIF"):
        read_annotated_cif("/nonexistent/file.cif")


def test_missing_oxidation_state(tmp_path):
    path = tmp_path / "x.cif"
    from nasicon_sim.structure.parent import reference_structures_dir

    path.write_text((reference_structures_dir() / "NZSP_C2c.cif").read_text())
    with pytest.raises(StructureError, match="no oxidation state given for Zr"):
        read_annotated_cif(path, {"Na": 1, "Si": 4, "P": 5, "O": -2})
