"""Migration network: basins, saddles, site labels and percolating paths."""

from __future__ import annotations

import numpy as np
import pytest
from _bvse_helpers import nzsp, nzsp_framework, smooth_random_field

from nasicon_sim.bvse import BVSESettings, analyse, compute_landscape
from nasicon_sim.network import (
    ReferenceSites,
    basin_graph,
    migration_network,
    reference_sites_from_structure,
)
from nasicon_sim.percolation import percolation_thresholds

A, B = 0.25, 0.1  # double well along x: f(u) = A cos(4 pi u) + B cos(2 pi u)


def double_well(n=40):
    u = np.arange(n) / n
    uu, vv, ww = np.meshgrid(u, u, u, indexing="ij")
    return (A * np.cos(4 * np.pi * uu) + B * np.cos(2 * np.pi * uu)
            + 3.0 * (2 - np.cos(2 * np.pi * vv) - np.cos(2 * np.pi * ww)))


def kruskal_thresholds(net):
    return tuple(p.barrier_eV for p in net.paths)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("connectivity", [6, 26])
def test_basin_graph_gives_the_voxel_thresholds_exactly(seed, connectivity):
    e = smooth_random_field((12, 10, 11), seed)
    perc = percolation_thresholds(e, connectivity)
    net = migration_network(e, np.eye(3) * 5, cap_eV=e.max() - e.min() + 1.0,
                            connectivity=connectivity, merge_depth_eV=0.0)
    assert kruskal_thresholds(net) == perc.barriers_eV


def test_double_well_sites_saddles_and_path():
    n = 40
    e = double_well(n)
    ref = ReferenceSites([[0.25, 0, 0], [0.75, 0, 0]], ("A", "B"), ("2a", "2b"))
    net = migration_network(e, np.eye(3) * 8.0, cap_eV=2.0, reference=ref,
                            merge_depth_eV=0.0)
    f = lambda u: A * np.cos(4 * np.pi * u) + B * np.cos(2 * np.pi * u)  # noqa: E731
    e_min = e.min()
    assert [s.label for s in net.sites] == ["A", "B"] or [s.label for s in net.sites] == ["B", "A"]
    assert {s.wyckoff for s in net.sites} == {"2a", "2b"}
    assert all(s.label_distance_A < 0.3 for s in net.sites)
    saddles = sorted(link.saddle_eV for link in net.links)
    assert saddles == pytest.approx(sorted([f(0.5) - e_min, f(0.0) - e_min]), abs=1e-12)
    for link in net.links:
        ea, eb = net.sites[link.site_a].energy_eV, net.sites[link.site_b].energy_eV
        assert link.barrier_from_a_eV == pytest.approx(link.saddle_eV - ea)
        assert link.barrier_from_b_eV == pytest.approx(link.saddle_eV - eb)
    one_d = net.path(1)
    assert one_d.barrier_eV == pytest.approx(f(0.0) - e_min, abs=1e-12)  # the higher pass
    assert one_d.wrap_vector in ((1, 0, 0), (-1, 0, 0))
    assert set(one_d.cycle_labels) == {"A", "B"}
    assert one_d.bottleneck.frac_coords[0] in (0.0,)
    assert net.path(2) is None  # transverse barriers (~6 eV) are above the 2 eV cap


def test_shallow_minima_are_merged_into_sites():
    dimple = double_well(40)
    dimple[15, 0, 0] -= 0.15  # a small local minimum on the flank of one well
    strict = migration_network(dimple, np.eye(3) * 8, 2.0, merge_depth_eV=0.0)
    assert strict.n_minima == len(strict.sites) == 3
    shallow = max(strict.sites, key=lambda s: s.energy_eV)
    depth = min(min(link.barrier_from_a_eV if link.site_a == shallow.index else np.inf,
                    link.barrier_from_b_eV if link.site_b == shallow.index else np.inf)
                for link in strict.links)
    assert 0 < depth < 0.15
    kept = migration_network(dimple, np.eye(3) * 8, 2.0, merge_depth_eV=0.9 * depth)
    merged = migration_network(dimple, np.eye(3) * 8, 2.0, merge_depth_eV=1.1 * depth)
    assert len(kept.sites) == 3
    assert len(merged.sites) == 2 and merged.n_minima == 3
    assert sorted(s.n_minima for s in merged.sites) == [1, 2]
    # merging never changes the exact thresholds
    assert kruskal_thresholds(strict) == kruskal_thresholds(merged)


def test_basin_graph_links_are_canonical():
    e = double_well(20)
    minima, keys, saddle, basin = basin_graph(e, e.min() + 2.0)
    assert len(minima) == 2 and basin.min() == -1
    assert np.all(keys[:, 0] <= keys[:, 1])
    assert len({tuple(k) for k in keys}) == len(keys)


@pytest.fixture(scope="module")
def nzsp_result():
    return analyse(nzsp(), BVSESettings(spacing_A=0.25))


def test_nzsp_sites_are_the_na_sites_by_wyckoff(nzsp_result):
    net = nzsp_result.network
    assert net.sites[0].label == "Na1" and net.sites[0].wyckoff == "4d"
    labels = {(s.label, s.wyckoff) for s in net.sites}
    assert labels == {("Na1", "4d"), ("Na2", "4e"), ("Na3", "8f")}
    assert all(not s.interstitial for s in net.sites)


def test_nzsp_bottlenecks(nzsp_result):
    # on Hong's C2/c model, 1D migration is limited by Na1-Na3 links, 3D by Na1-Na2
    net = nzsp_result.network
    assert set(net.path(1).bottleneck.labels) == {"Na1", "Na3"}
    assert set(net.path(3).bottleneck.labels) == {"Na1", "Na2"}
    assert net.path(1).barrier_eV == pytest.approx(nzsp_result.barriers_eV[0])


def test_explicit_reference_sites_label_an_empty_framework():
    parent = nzsp()
    ref = reference_sites_from_structure(parent, "Na")
    assert ref.labels[:4] == ("Na1",) * 4 and set(ref.wyckoffs) == {"4d", "4e", "8f"}
    # the framework alone has no Na to name sites by: pass the parent's Na positions
    result = analyse(nzsp_framework(), BVSESettings(spacing_A=0.3), reference_sites=ref)
    assert {s.label for s in result.network.sites} == {"Na1", "Na2", "Na3"}
    bare = analyse(nzsp_framework(), BVSESettings(spacing_A=0.3))
    assert all(s.label is None for s in bare.network.sites)


def test_reference_labels_prefer_parent_label():
    s = nzsp()
    s.add_site_property("parent_label", [f"P{i}" for i in range(len(s))])
    ref = reference_sites_from_structure(s, "Na")
    assert ref.labels[0] == "P0"


def test_landscape_and_network_agree_on_nzsp():
    land = compute_landscape(nzsp(), BVSESettings(spacing_A=0.3, connectivity=6))
    perc = percolation_thresholds(land.energies_eV, 6)
    net = migration_network(land.energies_eV, land.lattice, perc.barriers_eV[2] + 0.1,
                            connectivity=6)
    assert kruskal_thresholds(net) == perc.barriers_eV


def test_reference_labels_without_any_label_are_numbered():
    from pymatgen.core import Lattice, Structure

    s = Structure(Lattice.cubic(5.0), ["Na", "Cl", "Na"], [[0, 0, 0], [0.5, 0.5, 0.5],
                                                             [0.5, 0, 0]])
    ref = reference_sites_from_structure(s, "Na")
    assert ref.labels == ("Na#1", "Na#2") and ref.wyckoffs == (None, None)
