"""Hops of the BVSE network of NZSP, user-named hops, end points."""

from __future__ import annotations

import numpy as np
import pytest
from _neb_helpers import Tether

from nasicon_sim.errors import NasiconSimError
from nasicon_sim.neb import NEBSettings, UnlinkedSitesError, compute_hop, find_hops, hop_between
from nasicon_sim.neb.endpoints import EndPointError, check_sites, make_end_points
from nasicon_sim.neb.workflow import candidate_sites


def test_hops_are_distinct_types_bottlenecks_first(nzsp):
    structure, _, bvse, ref = nzsp
    hops = find_hops(bvse.network, structure, ref)
    pairs = {tuple(sorted(h.labels)) for h in hops}
    # C2/c NZSP (Hong 1976 labels: Na1 4d, Na2 4e, Na3 8f): Na1-Na2 and Na1-Na3 links
    assert {("Na1", "Na2"), ("Na1", "Na3")} <= pairs
    types = [(tuple(sorted(h.labels)), h.env_key) for h in hops]
    assert len(types) == len(set(types))
    n_bott = sum(bool(h.bottleneck_of) for h in hops)
    assert n_bott >= 1 and all(h.bottleneck_of for h in hops[:n_bott])
    for starred in (False, True):  # by dimension, hops between parent sites first
        dims = [min(h.bottleneck_of) for h in hops[:n_bott]
                if any(lab.endswith("*") for lab in h.labels) == starred]
        assert dims == sorted(dims)
    for h in hops:  # walked from the deeper site, BVSE KRA between the two barriers
        assert h.bvse_barrier_forward_eV >= h.bvse_barrier_backward_eV
        assert h.bvse_barrier_backward_eV <= h.bvse_kra_eV <= h.bvse_barrier_forward_eV
        assert h.env_key.startswith("M:") and "|T:" in h.env_key
    assert len(find_hops(bvse.network, structure, ref, max_hops=2)) == 2


def test_named_hops(nzsp):
    structure, _, bvse, ref = nzsp
    link = bvse.network.links[0]
    h = hop_between(bvse.network, structure, f"{link.site_b},{link.site_a}", ref)
    assert (h.site_i, h.site_j) == (link.site_b, link.site_a)
    assert h.translation == tuple(-t for t in link.translation)
    assert h.bvse_barrier_forward_eV == pytest.approx(link.barrier_from_b_eV)
    k = hop_between(bvse.network, structure, "link:0", ref)
    assert (k.site_i, k.site_j) == (link.site_a, link.site_b)
    assert k.reversed().reversed() == k


def test_unlinked_sites_and_bad_specs(nzsp):
    structure, _, bvse, ref = nzsp
    net = bvse.network
    linked = {(lk.site_a, lk.site_b) for lk in net.links} | {(lk.site_b, lk.site_a)
                                                            for lk in net.links}
    pair = next((i, j) for i in range(len(net.sites)) for j in range(len(net.sites))
                if i != j and (i, j) not in linked)
    with pytest.raises(UnlinkedSitesError, match=f"sites {pair[0]} and {pair[1]} are not linked"):
        hop_between(net, structure, f"{pair[0]},{pair[1]}", ref)
    for spec, msg in (("a,b", "two site indices"), ("0,999", "sites 0.."),
                      ("link:x", "integer K"), (f"link:{len(net.links)}", "links 0..")):
        with pytest.raises(NasiconSimError, match=msg):
            hop_between(net, structure, spec, ref)


def test_end_points_put_the_ion_on_i_and_empty_j(nzsp):
    structure, _, bvse, ref = nzsp
    cell = structure.lattice.matrix
    cands = candidate_sites(bvse, ref, cell)
    for hop in find_hops(bvse.network, structure, ref):
        ends = make_end_points(structure, hop, cands)
        start, saddle, end = hop.cart_path_A(cell)
        m = ends.mover
        assert np.linalg.norm(ends.final.positions[m] - ends.initial.positions[m]
                              - (end - start)) < 1e-9
        others = np.delete(np.arange(len(ends.initial)), m)
        assert np.allclose(ends.final.positions[others], ends.initial.positions[others])
        na = [k for k in others if ends.initial[k].symbol == "Na"]
        from ase.geometry import find_mic

        for p in (start, saddle, end):  # nothing within the clearance of the path
            d, _ = find_mic(ends.initial.positions[na] - p, cell, pbc=True)
            assert np.linalg.norm(d, axis=1).min() >= 2.2 - 1e-9
        assert len(ends.initial) + len(ends.removed) == len(structure)
        assert all(("moved" in n or "removed" in n) for n in ends.notes)


def test_check_sites_names_the_ion_that_left(nzsp):
    structure, _, bvse, ref = nzsp
    hop = find_hops(bvse.network, structure, ref)[0]
    ends = make_end_points(structure, hop, candidate_sites(bvse, ref, structure.lattice.matrix))
    after = ends.final.copy()
    check_sites(ends.final, after, ends.mover, ends.end_cart_A, "final")
    after.positions[ends.mover] = ends.start_cart_A
    with pytest.raises(EndPointError, match=r"final end point is not stable: the moving Na"):
        check_sites(ends.final, after, ends.mover, ends.end_cart_A, "final")
    other = next(k for k in range(len(after)) if after[k].symbol == "Na" and k != ends.mover)
    after = ends.final.copy()
    after.positions[other] += [1.5, 0, 0]
    with pytest.raises(EndPointError, match=f"Na atom {other} relaxed 1.50 A away"):
        check_sites(ends.final, after, ends.mover, ends.end_cart_A, "final")


def test_end_point_leaving_its_site_is_a_result_not_a_crash(nzsp):
    structure, _, bvse, ref = nzsp
    hop = find_hops(bvse.network, structure, ref)[0]
    r = compute_hop(structure, hop, NEBSettings(n_images=1, relax_steps=200, fmax_eV_A=0.05,
                                                calculator="tether"),
                    calculator=Tether(), candidates_frac=candidate_sites(
                        bvse, ref, structure.lattice.matrix))
    assert r.status == "end-point-left-site"
    assert r.barrier_forward_eV is None and not r.converged
    assert "final end point is not stable" in r.message
    d = r.as_dict()
    assert d["barrier_forward_eV"] is None and d["labels"] == list(hop.labels)


def test_an_ion_off_centre_but_on_its_site_is_not_a_hop(nzsp):
    structure, _, bvse, ref = nzsp
    hop = find_hops(bvse.network, structure, ref)[0]
    cands = candidate_sites(bvse, ref, structure.lattice.matrix) @ structure.lattice.matrix
    ends = make_end_points(structure, hop, cands @ np.linalg.inv(structure.lattice.matrix))
    after = ends.final.copy()
    after.positions[ends.mover] = ends.end_cart_A + np.array([0.0, 0.0, 1.2])
    # 1.2 A off centre: a hop without candidates, on its site when no other site is nearer
    with pytest.raises(EndPointError, match="1.20 A away from its site"):
        check_sites(ends.final, after, ends.mover, ends.end_cart_A, "final")
    from ase.geometry import find_mic

    d, _ = find_mic(cands - after.positions[ends.mover], structure.lattice.matrix, pbc=True)
    dist = np.linalg.norm(d, axis=1)
    own = np.linalg.norm(find_mic(cands - ends.end_cart_A, structure.lattice.matrix,
                                  pbc=True)[0], axis=1) < 0.5
    if not np.any(dist[~own] < 1.2):
        check_sites(ends.final, after, ends.mover, ends.end_cart_A, "final",
                    candidates_cart_A=cands)
    after.positions[ends.mover] = ends.start_cart_A  # back on site i: nearer another site
    with pytest.raises(EndPointError, match="nearer another site|away from its site"):
        check_sites(ends.final, after, ends.mover, ends.end_cart_A, "final",
                    candidates_cart_A=cands)


def test_interstitial_minima_are_starred_and_come_last_in_their_group(nzsp):
    from dataclasses import replace

    structure, _, bvse, ref = nzsp
    net = bvse.network
    k = net.links[0].site_a
    sites = tuple(replace(s, interstitial=(s.index == k)) for s in net.sites)
    starred = replace(net, sites=sites)
    hops = find_hops(starred, structure, ref)
    assert any(lab.endswith("*") for h in hops for lab in h.labels)
    for h in hops:
        for lab, s in zip(h.labels, (h.site_i, h.site_j)):
            assert lab.endswith("*") == (s == k)
    groups = [bool(h.bottleneck_of) for h in hops]
    n_bott = sum(groups)
    bott = [any(lab.endswith("*") for lab in h.labels) for h in hops[:n_bott]]
    assert bott == sorted(bott)
