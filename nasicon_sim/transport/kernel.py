"""Compiled kMC kernels (numba): canonical Metropolis equilibration and rejection-free BKL kMC.

State of one run (all arrays owned by the caller, changed in place):

* ``occ[s]`` 0/1, ``ion_at[s]`` (ion on site s or -1), ``ion_site[k]``, ``vac[m]`` and
  ``slot[s]`` (position of s in ``ion_site`` or ``vac``), for O(1) random picks;
* ``phi[s] = sum_j n_j V_sj`` (interaction field) and ``nblk[s]`` (occupied sites within the
  blocking distance of s), kept up to date move by move;
* ``disp[k, 3]`` unwrapped displacement of every ion (Angstrom).

Rates (Van der Ven et al. 2001; Deng et al. 2022, as kmcpy): a hop e from i to a vacant,
unblocked j has ``nu exp(-beta E_e)`` with ``E_e = E_KRA + dE / 2``, where
``dE = e_j - e_i + phi_j - phi_i - V_ij`` is the change of the configurational energy. When that
would fall below max(dE, 0) (a barrier below the energy drop), it is raised to max(dE, 0); the
reverse barrier is treated alike, so forward minus reverse is still dE and detailed balance holds.

Selection is BKL / n-fold way (Bortz, Kalos & Lebowitz, J. Comput. Phys. 17 (1975) 10): event
rates are the leaves of a binary sum tree (O(log N) to update a leaf and to select an event);
time advances by ``-ln(u) / R_total``. After a hop only the events of the two sites and of the
sites within the interaction reach of them are recomputed (a fixed number, independent of N).
Internal nodes are always recomputed as the sum of their two children, so no round-off drifts.
"""

# numba compiles only the legacy np.random API (seeded per call, one stream per thread)
# ruff: noqa: NPY002
from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["equilibrate", "initial_fields", "run_blocks"]


@numba.njit(cache=True)
def initial_fields(occ, nb_start, nb_j, nb_v, nb_blk, phi, nblk):
    """Fill ``phi`` and ``nblk`` from the occupation."""
    n = occ.shape[0]
    for s in range(n):
        p = 0.0
        b = 0
        for q in range(nb_start[s], nb_start[s + 1]):
            j = nb_j[q]
            if occ[j]:
                p += nb_v[q]
                if nb_blk[q]:
                    b += 1
        phi[s] = p
        nblk[s] = b


@numba.njit(cache=True)
def _move(i, j, occ, ion_at, ion_site, vac, slot, nb_start, nb_j, nb_v, nb_blk, phi, nblk):
    """Move the ion on i to the vacant site j; update lists and fields."""
    k = ion_at[i]
    m = slot[j]
    occ[i] = 0
    occ[j] = 1
    ion_at[j] = k
    ion_at[i] = -1
    ion_site[k] = j
    vac[m] = i
    slot[i] = m
    slot[j] = k
    for q in range(nb_start[i], nb_start[i + 1]):
        s = nb_j[q]
        phi[s] -= nb_v[q]
        if nb_blk[q]:
            nblk[s] -= 1
    for q in range(nb_start[j], nb_start[j + 1]):
        s = nb_j[q]
        phi[s] += nb_v[q]
        if nb_blk[q]:
            nblk[s] += 1


@numba.njit(cache=True)
def equilibrate(n_moves, beta, seed, eps, occ, ion_at, ion_site, vac, slot,
                nb_start, nb_j, nb_v, nb_blk, phi, nblk):
    """Canonical Metropolis: ``n_moves`` attempts to move a random ion to a random vacancy.

    Returns the number of accepted moves.
    """
    np.random.seed(seed)
    n_ion = ion_site.shape[0]
    n_vac = vac.shape[0]
    if n_ion == 0 or n_vac == 0:
        return 0
    acc = 0
    for _ in range(n_moves):
        k = np.random.randint(n_ion)
        i = ion_site[k]
        j = vac[np.random.randint(n_vac)]
        v_ij = 0.0
        b_ij = 0
        for q in range(nb_start[i], nb_start[i + 1]):
            if nb_j[q] == j:
                v_ij = nb_v[q]
                if nb_blk[q]:
                    b_ij = 1
                break
        if nblk[j] - b_ij > 0:
            continue
        de = eps[j] - eps[i] + phi[j] - phi[i] - v_ij
        if de > 0.0 and np.random.random() >= math.exp(-beta * de):
            continue
        _move(i, j, occ, ion_at, ion_site, vac, slot, nb_start, nb_j, nb_v, nb_blk, phi, nblk)
        acc += 1
    return acc


@numba.njit(cache=True)
def _rate(e, src, dst, kra, v_hop, b_hop, eps, occ, phi, nblk, beta, nu):
    i = src[e]
    j = dst[e]
    if occ[i] == 0 or occ[j] == 1:
        return 0.0
    if nblk[j] - b_hop[e] > 0:
        return 0.0
    de = eps[j] - eps[i] + phi[j] - phi[i] - v_hop[e]
    barrier = kra[e] + 0.5 * de
    floor = de if de > 0.0 else 0.0
    if barrier < floor:
        barrier = floor
    return nu * math.exp(-beta * barrier)


@numba.njit(cache=True)
def _set_leaf(tree, size, e, value):
    p = size + e
    tree[p] = value
    p //= 2
    while p >= 1:
        tree[p] = tree[2 * p] + tree[2 * p + 1]
        p //= 2


@numba.njit(cache=True)
def _find(tree, size, u):
    p = 1
    while p < size:
        left = tree[2 * p]
        if u < left:
            p = 2 * p
        else:
            u -= left
            p = 2 * p + 1
    return p - size


@numba.njit(cache=True)
def _refresh_site(s, tree, size, out_start, out_e, in_start, in_e, src, dst, kra, v_hop,
                  b_hop, eps, occ, phi, nblk, beta, nu):
    for q in range(out_start[s], out_start[s + 1]):
        e = out_e[q]
        r = _rate(e, src, dst, kra, v_hop, b_hop, eps, occ, phi, nblk, beta, nu)
        if r != tree[size + e]:
            _set_leaf(tree, size, e, r)
    for q in range(in_start[s], in_start[s + 1]):
        e = in_e[q]
        r = _rate(e, src, dst, kra, v_hop, b_hop, eps, occ, phi, nblk, beta, nu)
        if r != tree[size + e]:
            _set_leaf(tree, size, e, r)


@numba.njit(cache=True)
def _refresh_neighbour(s, tree, size, out_start, out_e, in_start, in_e, src, dst, kra, v_hop,
                       b_hop, eps, occ, phi, nblk, beta, nu):
    # only the field of s changed: an occupied s can only hop out, a vacant s only receive
    if occ[s]:
        for q in range(out_start[s], out_start[s + 1]):
            e = out_e[q]
            r = _rate(e, src, dst, kra, v_hop, b_hop, eps, occ, phi, nblk, beta, nu)
            if r != tree[size + e]:
                _set_leaf(tree, size, e, r)
    else:
        for q in range(in_start[s], in_start[s + 1]):
            e = in_e[q]
            r = _rate(e, src, dst, kra, v_hop, b_hop, eps, occ, phi, nblk, beta, nu)
            if r != tree[size + e]:
                _set_leaf(tree, size, e, r)


@numba.njit(cache=True)
def run_blocks(n_blocks, hops_per_block, beta, nu, seed, eps, occ, ion_at, ion_site, vac, slot,
               nb_start, nb_j, nb_v, nb_blk, phi, nblk, out_start, out_e, in_start, in_e,
               src, dst, vec, kra, v_hop, b_hop, disp, occ_time, blk_time, blk_tracer,
               blk_coll, blk_hop2, blk_cxyz):
    """BKL kMC in ``n_blocks`` blocks of ``hops_per_block`` hops.

    Per block b it writes: ``blk_time[b]`` (s), ``blk_tracer[b]`` = sum_k |dr_k|^2 (A^2),
    ``blk_coll[b]`` = |sum_k dr_k|^2 (A^2) and ``blk_cxyz[b, c]`` its Cartesian components,
    ``blk_hop2[b]`` = sum of squared hop lengths (A^2);
    ``occ_time[s]`` accumulates
    the time site s was occupied (s). Returns the number of blocks completed (fewer than
    ``n_blocks`` only when no hop is possible: total rate 0).
    """
    np.random.seed(seed)
    n_ev = src.shape[0]
    size = 1
    while size < max(n_ev, 1):
        size *= 2
    tree = np.zeros(2 * size)
    for e in range(n_ev):
        tree[size + e] = _rate(e, src, dst, kra, v_hop, b_hop, eps, occ, phi, nblk, beta, nu)
    for p in range(size - 1, 0, -1):
        tree[p] = tree[2 * p] + tree[2 * p + 1]
    n_sites = occ.shape[0]
    n_ion = ion_site.shape[0]
    last = np.zeros(n_sites)
    t = 0.0
    start = np.zeros((n_ion, 3))
    for b in range(n_blocks):
        for k in range(n_ion):
            for c in range(3):
                start[k, c] = disp[k, c]
        t0 = t
        cx = 0.0
        cy = 0.0
        cz = 0.0
        h2 = 0.0
        for _ in range(hops_per_block):
            total = tree[1]
            if not total > 0.0:
                for s in range(n_sites):
                    occ_time[s] += (t - last[s]) * occ[s]
                    last[s] = t
                return b
            u = np.random.random() * total
            e = _find(tree, size, u)
            if e >= n_ev:  # round-off at the right edge
                e = n_ev - 1
            while tree[size + e] <= 0.0 and e > 0:
                e -= 1
            t += -math.log(1.0 - np.random.random()) / total
            i = src[e]
            j = dst[e]
            k = ion_at[i]
            occ_time[i] += t - last[i]
            last[i] = t
            last[j] = t
            dx = vec[e, 0]
            dy = vec[e, 1]
            dz = vec[e, 2]
            disp[k, 0] += dx
            disp[k, 1] += dy
            disp[k, 2] += dz
            cx += dx
            cy += dy
            cz += dz
            h2 += dx * dx + dy * dy + dz * dz
            _move(i, j, occ, ion_at, ion_site, vac, slot, nb_start, nb_j, nb_v, nb_blk, phi, nblk)
            _refresh_site(i, tree, size, out_start, out_e, in_start, in_e, src, dst, kra, v_hop,
                          b_hop, eps, occ, phi, nblk, beta, nu)
            _refresh_site(j, tree, size, out_start, out_e, in_start, in_e, src, dst, kra, v_hop,
                          b_hop, eps, occ, phi, nblk, beta, nu)
            for q in range(nb_start[i], nb_start[i + 1]):
                _refresh_neighbour(nb_j[q], tree, size, out_start, out_e, in_start, in_e, src,
                                   dst, kra, v_hop, b_hop, eps, occ, phi, nblk, beta, nu)
            for q in range(nb_start[j], nb_start[j + 1]):
                _refresh_neighbour(nb_j[q], tree, size, out_start, out_e, in_start, in_e, src,
                                   dst, kra, v_hop, b_hop, eps, occ, phi, nblk, beta, nu)
        tr = 0.0
        for k in range(n_ion):
            for c in range(3):
                d = disp[k, c] - start[k, c]
                tr += d * d
        blk_time[b] = t - t0
        blk_tracer[b] = tr
        blk_coll[b] = cx * cx + cy * cy + cz * cz
        blk_hop2[b] = h2
        blk_cxyz[b, 0] = cx * cx
        blk_cxyz[b, 1] = cy * cy
        blk_cxyz[b, 2] = cz * cz
    for s in range(n_sites):
        occ_time[s] += (t - last[s]) * occ[s]
        last[s] = t
    return n_blocks
