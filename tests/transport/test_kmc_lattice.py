"""Lattice building from a network: refined energies, translations, supercells."""

from __future__ import annotations

import numpy as np
import pytest

from nasicon_sim.errors import NasiconSimError
from nasicon_sim.transport import (
    build_lattice,
    cell_model_from_network,
    cubic_cell,
    network_from_dict,
    supercell_for,
)


def _network(refined: bool):
    sites = [{"index": 0, "energy_eV": 0.0, "frac_coords": [0.0, 0.0, 0.0], "label": "Na1"},
             {"index": 1, "energy_eV": 0.4, "frac_coords": [0.5, 0.0, 0.0], "label": "Na2"}]
    links = [{"site_a": 0, "site_b": 1, "translation": [0, 0, 0], "saddle_eV": 0.7},
             {"site_a": 1, "site_b": 0, "translation": [1, 0, 0], "saddle_eV": 0.8}]
    if refined:
        sites[0]["energy_refined_eV"] = -0.01
        sites[1]["energy_refined_eV"] = 0.41
        links[0]["saddle_refined_eV"] = 0.65
        links[1]["saddle_refined_eV"] = 0.75
    return network_from_dict({"sites": sites, "links": links})


@pytest.mark.parametrize("refined", [False, True])
def test_kra_uses_refined_energies_when_the_network_has_them(refined):
    cell = cell_model_from_network(_network(refined), np.eye(3) * 6.0, 1)
    if refined:
        assert sorted(cell.link_kra_eV) == pytest.approx([0.65 - 0.2, 0.75 - 0.2])
        assert cell.site_energy_eV == pytest.approx([-0.01, 0.41])
    else:
        assert sorted(cell.link_kra_eV) == pytest.approx([0.7 - 0.2, 0.8 - 0.2])
    assert cell.link_names == ("Na1-Na2", "Na1-Na2")


def test_translations_give_hop_vectors_and_periodic_targets():
    cell = cell_model_from_network(_network(False), np.eye(3) * 6.0, 1)
    lat = build_lattice(cell, (3, 1, 1))
    assert lat.n_sites == 6 and lat.n_mobile == 3 and len(lat.hop_src) == 12
    # a 1D chain along x with spacing 3 A: every hop is +-3 A along x
    assert np.allclose(np.abs(lat.hop_vec_A[:, 0]), 3.0)
    assert np.allclose(lat.hop_vec_A[:, 1:], 0.0)
    # each site has exactly two neighbours (left and right)
    assert np.all(np.bincount(lat.hop_src) == 2)


def test_supercell_width_and_bad_input():
    assert supercell_for(np.diag([13.0, 9.0, 9.2]), 20.0) == (2, 3, 3)
    with pytest.raises(NasiconSimError, match="do not fit"):
        build_lattice(cubic_cell(), (2, 2, 2), n_mobile=9)
    with pytest.raises(NasiconSimError, match="supercell"):
        build_lattice(cubic_cell(), (0, 2, 2))


def test_split_minima_closer_than_the_merge_distance_become_one_site():
    # sites 0 and 1 are 1.2 A apart (a split minimum), site 2 is a separate site
    sites = [{"index": 0, "energy_eV": 0.0, "frac_coords": [0.0, 0.0, 0.0], "label": "Na1"},
             {"index": 1, "energy_eV": 0.05, "frac_coords": [0.2, 0.0, 0.0], "label": "Na1"},
             {"index": 2, "energy_eV": 0.3, "frac_coords": [0.5, 0.0, 0.0], "label": "Na2"}]
    links = [{"site_a": 0, "site_b": 1, "translation": [0, 0, 0], "saddle_eV": 0.06},
             {"site_a": 1, "site_b": 2, "translation": [0, 0, 0], "saddle_eV": 0.5},
             {"site_a": 2, "site_b": 0, "translation": [1, 0, 0], "saddle_eV": 0.6},
             {"site_a": 0, "site_b": 1, "translation": [-1, 0, 0], "saddle_eV": 0.9}]
    net = network_from_dict({"sites": sites, "links": links})
    cell = cell_model_from_network(net, np.eye(3) * 6.0, 1, merge_distance_A=1.5)
    assert cell.labels == ("Na1", "Na2") and cell.site_energy_eV == pytest.approx([0.0, 0.3])
    # the rattle 0-1 is gone; 1-2 becomes root-2 (saddle 0.5), 2-0 across the cell stays;
    # 0 -> image of 1 one cell left merges into a self-link of the group across the cell
    kra = dict(zip(zip(cell.link_a.tolist(), cell.link_b.tolist(),
                       map(tuple, cell.link_t.tolist())), cell.link_kra_eV.tolist()))
    assert kra[(0, 1, (0, 0, 0))] == pytest.approx(0.5 - 0.15)
    assert kra[(0, 1, (-1, 0, 0))] == pytest.approx(0.6 - 0.15)
    assert kra[(0, 0, (1, 0, 0))] == pytest.approx(0.9)
    assert len(kra) == 3
    unmerged = cell_model_from_network(net, np.eye(3) * 6.0, 1)
    assert len(unmerged.labels) == 3 and len(unmerged.link_a) == 4
