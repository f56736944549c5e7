"""Checks every built configuration must pass (shared by the structure tests).

"Physically sensible" minimum distances (Angstrom), each well under the shortest distance of
its kind in ordered NASICON frameworks and well above a clash: T-O 1.45 (P-O bonds are
1.50-1.56 A), M-O 1.80 (Ti-O in TiO6 >= 1.85 A), Na-O 2.20 (Na-O >= 2.3 A), O-O 2.30
(tetrahedral edges ~2.5 A), any cation pair 2.50 (the Na-Na rule; framework cations are
>= 3 A apart).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nasicon_sim.structure.parent import load_parent
from nasicon_sim.structure.supercell import parent_indices_of

MIN_DISTANCE_A = {
    ("O", "T"): 1.45, ("M", "O"): 1.80, ("Na", "O"): 2.20, ("O", "O"): 2.30,
}
CATION_MIN_A = 2.50


def check_configuration(config):
    """Assertions every built structure must pass."""
    s = config.structure
    realised = config.realised_composition
    fu = 4 * round(abs(np.linalg.det(config.supercell_matrix)))
    # exact composition
    held = s.composition.element_composition
    for el, amount in realised.amounts().items():
        assert held[el] == pytest.approx(amount * fu, abs=1e-9), el
    assert set(held.as_dict()) == set(realised.amounts())
    # charge neutral with the composition's oxidation states
    assert s.charge == pytest.approx(0.0, abs=1e-9)
    for site in s:
        assert site.specie.oxi_state == realised.oxidation_states[site.specie.symbol]
    # site map: properties present, consistent with the parent and with the species
    parent = load_parent()
    props = s.site_properties
    for key in ("sublattice", "parent_label", "wyckoff", "parent_index"):
        assert key in props
    plabel, pwyck, psub = (parent.site_properties[k] for k in ("label", "wyckoff", "sublattice"))
    for site in s:
        p = site.properties["parent_index"]
        assert site.properties["parent_label"] == plabel[p]
        assert site.properties["wyckoff"] == pwyck[p]
        assert site.properties["sublattice"] == psub[p]
        el = site.specie.symbol
        expected = "Na" if el == "Na" else "O" if el == "O" else "T" if el in ("Si", "P") else "M"
        assert site.properties["sublattice"] == expected
    # each atom sits on the parent position its index names
    assert np.array_equal(parent_indices_of(s.frac_coords, config.supercell_matrix, parent, 1e-3),
                          np.array(props["parent_index"]))
    # no two atoms closer than physically sensible
    dm = s.distance_matrix + np.eye(len(s)) * 99
    sub = np.array(props["sublattice"])
    for a, b in itertools.combinations_with_replacement(["Na", "M", "T", "O"], 2):
        d = dm[np.ix_(sub == a, sub == b)].min()
        key = tuple(sorted((a, b)))
        limit = MIN_DISTANCE_A.get(key, CATION_MIN_A if "O" not in key else 0.0)
        assert d > limit, (a, b, d)
    # metadata of the contract
    meta = s.properties["nasicon_sim"]
    assert meta["parent"] == "NZSP_C2c"
    assert meta["supercell_matrix"] == [list(r) for r in config.supercell_matrix]
    assert meta["composition"] == realised.formula
    assert meta["method"] == config.method and meta["seed"] == config.seed
    assert meta["ewald_energy_eV"] == pytest.approx(config.ewald_energy_eV)
    assert meta["ewald_energy_per_atom_eV"] == pytest.approx(config.ewald_energy_eV / len(s))
