"""The kMC lattice: mobile-ion sites, directed hops and Na-Na pair terms of a periodic supercell.

A :class:`CellModel` holds one periodic cell: site positions and energies, links (a pair of
sites, the lattice translation of the second, a kinetically resolved barrier) and the number of
mobile ions. It comes from a BVSE migration network (:func:`cell_model_from_network`) or is
written down directly (:func:`cubic_cell`, for tests and benchmarks). :func:`build_lattice` tiles
it into a :class:`KMCLattice`: every site copied into every cell of the supercell, every link
turned into two directed hops with their displacement vectors, and the Na-Na pair list within
the interaction cutoff (:mod:`nasicon_sim.transport.energy`).

Barriers. A link's kinetically resolved activation barrier (Van der Ven et al., Phys. Rev. B 64
(2001) 184307; Deng et al., Nat. Commun. 13 (2022) 4470) is
``E_KRA = E_saddle - (E_a + E_b) / 2`` with the network's saddle and site energies (the refined,
grid-independent values where the BVSE stage provides them: ``Link.saddle_refined_eV``,
``Site.energy_refined_eV``; otherwise the grid values).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from nasicon_sim.errors import NasiconSimError

__all__ = [
    "CellModel",
    "KMCLattice",
    "build_lattice",
    "cell_model_from_network",
    "cubic_cell",
    "supercell_for",
]

logger = logging.getLogger(__name__)


def _ro(a, dtype) -> np.ndarray:
    a = np.array(a, dtype=dtype)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class CellModel:
    """One periodic cell of mobile-ion sites and the hops between them.

    Attributes
    ----------
    lattice : numpy.ndarray (3, 3)
        Rows are lattice vectors (Angstrom).
    frac : numpy.ndarray (n_sites, 3)
        Fractional site positions.
    site_energy_eV : numpy.ndarray (n_sites,)
        Site energy of an isolated ion (eV; any common reference).
    labels : tuple of str
        Parent label of each site (``"Na1"``, ``"Na2"``, ``"Na3"``; ``"site7"`` when unknown).
    link_a, link_b : numpy.ndarray (n_links,)
        Site indices of each link; b is meant in cell ``link_t`` relative to a.
    link_t : numpy.ndarray (n_links, 3)
        Lattice translation (cells) of b's image.
    link_kra_eV : numpy.ndarray (n_links,)
        Kinetically resolved activation barrier of each link (eV).
    link_names : tuple of str
        Hop type of each link, e.g. ``"Na1-Na3"`` (the two labels, sorted).
    n_mobile : int
        Mobile ions in the cell.
    occupied : numpy.ndarray (n_mobile,) or None
        Sites the structure's own ions sit on (a starting arrangement), when known.
    """

    lattice: np.ndarray
    frac: np.ndarray
    site_energy_eV: np.ndarray
    labels: tuple[str, ...]
    link_a: np.ndarray
    link_b: np.ndarray
    link_t: np.ndarray
    link_kra_eV: np.ndarray
    link_names: tuple[str, ...]
    n_mobile: int
    occupied: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name, dt in (("lattice", float), ("frac", float), ("site_energy_eV", float),
                         ("link_a", np.int64), ("link_b", np.int64), ("link_t", np.int64),
                         ("link_kra_eV", float)):
            object.__setattr__(self, name, _ro(getattr(self, name), dt))
        object.__setattr__(self, "frac", self.frac.reshape(-1, 3))
        object.__setattr__(self, "link_t", self.link_t.reshape(-1, 3))
        if self.occupied is not None:
            object.__setattr__(self, "occupied", _ro(self.occupied, np.int64))
        n = len(self.frac)
        if not (len(self.site_energy_eV) == len(self.labels) == n):
            raise NasiconSimError("a cell model needs one energy and one label per site")
        if not (len(self.link_a) == len(self.link_b) == len(self.link_t)
                == len(self.link_kra_eV) == len(self.link_names)):
            raise NasiconSimError("a cell model needs a, b, translation, barrier, name per link")
        if not 0 <= int(self.n_mobile) <= n:
            raise NasiconSimError(
                f"{self.n_mobile} mobile ions do not fit on {n} sites of the migration network")

    @property
    def volume_A3(self) -> float:
        """Cell volume (Angstrom^3), the determinant (right for monoclinic cells)."""
        return abs(float(np.linalg.det(self.lattice)))


@dataclass(frozen=True)
class KMCLattice:
    """A periodic kMC supercell: sites, directed hops and Na-Na pairs (all arrays read-only).

    Attributes
    ----------
    lattice : numpy.ndarray (3, 3)
        Supercell vectors (rows, Angstrom).
    supercell : tuple of 3 ints
        Repetitions of the cell model along its vectors.
    frac : numpy.ndarray (n_sites, 3)
        Fractional positions in the supercell.
    site_energy_eV : numpy.ndarray (n_sites,)
    labels : tuple of str
        Parent label of each site.
    hop_src, hop_dst : numpy.ndarray (n_hops,)
        Directed hops (every link twice).
    hop_vec_A : numpy.ndarray (n_hops, 3)
        Cartesian displacement of each hop (Angstrom).
    hop_kra_eV : numpy.ndarray (n_hops,)
    hop_type : numpy.ndarray (n_hops,)
        Index into ``hop_names``.
    hop_names : tuple of str
    pair_i, pair_j : numpy.ndarray (n_pairs,)
        Ordered site pairs within the interaction cutoff (both orders listed).
    pair_v_eV : numpy.ndarray (n_pairs,)
        Pair energy when both sites are occupied (eV; 0 for blocked pairs).
    pair_blocked : numpy.ndarray (n_pairs,) bool
        Closer than the blocking distance: the two sites exclude each other.
    n_mobile : int
    occupied : numpy.ndarray (n_mobile,) or None
        Starting sites from the structure, when known.
    interaction : dict
        How the pair terms were made (form, parameters, cutoff and its tail bound).
    """

    lattice: np.ndarray
    supercell: tuple[int, int, int]
    frac: np.ndarray
    site_energy_eV: np.ndarray
    labels: tuple[str, ...]
    hop_src: np.ndarray
    hop_dst: np.ndarray
    hop_vec_A: np.ndarray
    hop_kra_eV: np.ndarray
    hop_type: np.ndarray
    hop_names: tuple[str, ...]
    pair_i: np.ndarray
    pair_j: np.ndarray
    pair_v_eV: np.ndarray
    pair_blocked: np.ndarray
    n_mobile: int
    occupied: np.ndarray | None = None
    interaction: dict = field(default_factory=dict, compare=False)

    @property
    def n_sites(self) -> int:
        """Sites in the supercell."""
        return len(self.frac)

    @property
    def volume_A3(self) -> float:
        """Supercell volume (Angstrom^3), the determinant of the lattice matrix."""
        return abs(float(np.linalg.det(self.lattice)))

    @property
    def label_names(self) -> tuple[str, ...]:
        """Distinct site labels, sorted."""
        return tuple(sorted(set(self.labels)))


def _widths(lattice: np.ndarray) -> np.ndarray:
    """Distances between opposite faces of the cell (Angstrom)."""
    inv = np.linalg.inv(lattice)
    return 1.0 / np.linalg.norm(inv, axis=0)


def supercell_for(lattice: np.ndarray, min_width_A: float) -> tuple[int, int, int]:
    """Smallest diagonal repetition whose face-to-face widths are all >= ``min_width_A``.

    >>> supercell_for(np.eye(3) * 5.0, 12.0)
    (3, 3, 3)
    """
    w = _widths(np.asarray(lattice, dtype=float))
    return tuple(max(1, int(math.ceil(min_width_A / x - 1e-9))) for x in w)


def cubic_cell(a_A: float = 1.0, barrier_eV: float = 0.0, n_mobile: int = 0,
               site_energies_eV: tuple[float, ...] | None = None,
               axes: tuple[int, ...] = (0, 1, 2)) -> CellModel:
    """A simple cubic lattice of spacing ``a_A`` as a cell model (for tests and benchmarks).

    With ``site_energies_eV`` of length 2 the cell is doubled along x (a rock-salt-like
    two-energy lattice, each site's neighbours along x of the other kind). ``axes`` limits
    hops to some directions (``(2,)``: a 1D channel along z). Give the ion count of the whole
    supercell to :func:`build_lattice`.
    """
    if site_energies_eV is None or len(site_energies_eV) == 1:
        e = [0.0 if site_energies_eV is None else float(site_energies_eV[0])]
        lattice = np.eye(3) * a_A
        frac = [[0.0, 0.0, 0.0]]
        la, lb, lt = [], [], []
        for ax in axes:
            t = [0, 0, 0]
            t[ax] = 1
            la.append(0)
            lb.append(0)
            lt.append(t)
        labels = ("A",)
    else:
        e = [float(x) for x in site_energies_eV]
        if len(e) != 2:
            raise NasiconSimError("cubic_cell takes one or two site energies")
        lattice = np.diag([2 * a_A, a_A, a_A])
        frac = [[0.0, 0.0, 0.0], [0.5, 0.0, 0.0]]
        la, lb, lt = [], [], []
        if 0 in axes:
            la += [0, 1]
            lb += [1, 0]
            lt += [[0, 0, 0], [1, 0, 0]]
        for ax in axes:
            if ax == 0:
                continue
            t = [0, 0, 0]
            t[ax] = 1
            for s in (0, 1):
                la.append(s)
                lb.append(s)
                lt.append(t)
        labels = ("A", "B")
    n = len(la)
    names = tuple("-".join(sorted((labels[a], labels[b]))) for a, b in zip(la, lb))
    return CellModel(lattice, frac, e, labels, la, lb, np.array(lt).reshape(-1, 3),
                     [barrier_eV] * n, names, n_mobile)


def _hop_name(a: str, b: str) -> str:
    return "-".join(sorted((a, b)))


def _site_energies(network, lattice: np.ndarray, frac: np.ndarray, merge_distance_A: float):
    """Site energies on one reference, and the merged groups of split minima.

    Refined energies are used when every link has a refined saddle and every merged group
    has a refined member to stand for it: a grid minimum whose refinement failed (it runs off
    to another minimum, i.e. a grid artefact such as the shallow minima beside Na1 on a
    coarse grid) is then merged into its real neighbour and carries no energy of its own
    (infinite, never a group's representative). Otherwise every energy is the grid's, so
    grid and refined values are never mixed.

    Returns
    -------
    refined : bool
    energies : array (n_sites,)
        eV, relative to the network minimum (inf for failed refinements when refined).
    group, offset : arrays
        From :func:`_merge_groups`.
    """
    if all(getattr(x, "saddle_refined_eV", None) is not None for x in network.links):
        e_ref = np.array([np.inf if getattr(s, "energy_refined_eV", None) is None
                          else float(s.energy_refined_eV) for s in network.sites])
        if np.isfinite(e_ref).any():
            group, offset = _merge_groups(lattice, frac, e_ref, merge_distance_A)
            if all(np.isfinite(e_ref[group == g]).any() for g in range(int(group.max()) + 1)):
                return True, e_ref, group, offset
    e_grid = np.array([float(s.energy_eV) for s in network.sites])
    group, offset = _merge_groups(lattice, frac, e_grid, merge_distance_A)
    return False, e_grid, group, offset


def _merge_groups(lattice: np.ndarray, frac: np.ndarray, energies: np.ndarray,
                  distance_A: float) -> tuple[np.ndarray, np.ndarray]:
    """Group sites that are all mutually closer than ``distance_A`` (periodic images included).

    Sites are taken in order of energy; each unassigned site starts a group and takes, in
    order of energy, the unassigned sites closer than ``distance_A`` to every member (a
    clique of mutually exclusive sites, so a group can hold one ion, as each of its sites).

    Returns (group of each site, integer offset: ``frac + offset`` is the image next to the
    group's lowest site).
    """
    n = len(frac)
    group = np.full(n, -1, np.int64)
    offset = np.zeros((n, 3), np.int64)
    if distance_A <= 0:
        return np.arange(n), offset
    shifts = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])
    # dist[u, v, s]: distance from u to the image of v shifted by s
    diff = frac[None, :, None, :] + shifts[None, None, :, :] - frac[:, None, None, :]
    dist = np.linalg.norm(diff @ lattice, axis=-1)
    ng = 0
    for root in np.argsort(energies, kind="stable"):
        if group[root] >= 0:
            continue
        group[root] = ng
        members = [(int(root), np.zeros(3, np.int64))]
        for v in np.argsort(energies, kind="stable"):
            if group[v] >= 0:
                continue
            k = int(np.argmin(dist[root, v]))
            if dist[root, v, k] >= distance_A:
                continue
            off = shifts[k]
            pos = (frac[v] + off) @ lattice
            if all(np.linalg.norm(pos - (frac[m] + om) @ lattice) < distance_A
                   for m, om in members):
                group[v] = ng
                offset[v] = off
                members.append((int(v), off))
        ng += 1
    return group, offset


def cell_model_from_network(network, lattice: np.ndarray, n_mobile: int,
                            mobile_frac: np.ndarray | None = None,
                            barrier_table: dict[str, float] | None = None,
                            merge_distance_A: float = 0.0) -> CellModel:
    """The kMC cell of a BVSE migration network.

    Parameters
    ----------
    network : nasicon_sim.network.MigrationNetwork
        Or anything with ``sites`` and ``links`` of the same attributes.
    lattice : array (3, 3)
        The cell the network was computed in (rows, Angstrom).
    n_mobile : int
        Mobile ions in that cell (the structure's Na count).
    mobile_frac : array (n, 3), optional
        The structure's own ion positions; each is put on its nearest site as the start.
    barrier_table : dict, optional
        E_KRA (eV) per hop type (``"Na1-Na3"``, either order) replacing the BVSE values.
    merge_distance_A : float
        Sites all mutually closer than this become one kMC site: the lowest of them, with
        its energy and label; links inside a group (back-and-forth rattling between split
        minima, which carries no charge over any distance) are dropped, links leaving it are
        kept (the lowest saddle per pair of groups and translation). 0: no merging.

    Returns
    -------
    CellModel
    """
    lattice = np.asarray(lattice, dtype=float)
    sites = network.sites
    if not sites:
        raise NasiconSimError("the migration network has no sites")
    labels_all = [s.label if s.label is not None else f"site{s.index}" for s in sites]
    frac_all = np.array([s.frac_coords for s in sites], dtype=float).reshape(-1, 3)
    refined, e_all, group, offset = _site_energies(network, lattice, frac_all,
                                                   float(merge_distance_A))
    n_groups = int(group.max()) + 1
    roots = np.array([np.flatnonzero(group == g)[np.argmin(e_all[group == g])]
                      for g in range(n_groups)])
    labels = tuple(labels_all[r] for r in roots)
    energies = e_all[roots]
    frac = frac_all[roots]
    table = {}
    for k, v in (barrier_table or {}).items():
        parts = str(k).split("-")
        if len(parts) != 2:
            raise NasiconSimError(f"barrier table key {k!r} must name a hop type like Na1-Na3")
        table[_hop_name(*parts)] = float(v)
    best: dict[tuple, tuple[float, int]] = {}
    for li, link in enumerate(network.links):
        a, b = int(link.site_a), int(link.site_b)
        ga, gb = int(group[a]), int(group[b])
        t = np.asarray(link.translation, dtype=np.int64) + offset[a] - offset[b]
        if ga > gb or (ga == gb and tuple(t) < tuple(-t)):
            ga, gb, t = gb, ga, -t
        if ga == gb and not np.any(t):
            continue  # inside one merged site
        saddle = float(link.saddle_refined_eV if refined else link.saddle_eV)
        key = (ga, gb, *(int(x) for x in t))
        if key not in best or saddle < best[key][0]:
            best[key] = (saddle, li)
    la, lb, lt, kra, names = [], [], [], [], []
    for key, (saddle, _li) in sorted(best.items()):
        ga, gb = key[0], key[1]
        name = _hop_name(labels[ga], labels[gb])
        la.append(ga)
        lb.append(gb)
        lt.append(key[2:])
        kra.append(table.get(name, saddle - 0.5 * (energies[ga] + energies[gb])))
        names.append(name)
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise NasiconSimError(
            f"barrier table names hop types the network does not have: {', '.join(unknown)} "
            f"(it has {', '.join(sorted(set(names))) or 'none'}); fix --barrier")
    occupied = None
    if mobile_frac is not None and len(mobile_frac):
        from pymatgen.core import Lattice

        d = Lattice(lattice).get_all_distances(np.asarray(mobile_frac, float), frac)
        nearest = d.argmin(axis=1)
        if len(set(nearest.tolist())) == len(nearest):
            occupied = nearest
        else:
            logger.info("some of the structure's ions share a nearest site; starting at random")
    if n_mobile > len(frac):
        raise NasiconSimError(
            f"{n_mobile} mobile ions do not fit on the {len(frac)} kMC sites of the network "
            f"({len(sites)} sites, merged below {merge_distance_A} A); lower "
            "--blocking-distance")
    return CellModel(lattice, frac, energies, labels, la, lb, np.array(lt).reshape(-1, 3),
                     kra, tuple(names), int(n_mobile), occupied)


def build_lattice(cell: CellModel, supercell: tuple[int, int, int],
                  interaction=None, n_mobile: int | None = None) -> KMCLattice:
    """Tile a cell model into a kMC supercell.

    Parameters
    ----------
    cell : CellModel
    supercell : tuple of 3 ints
        Repetitions along the cell vectors.
    interaction : nasicon_sim.transport.energy.PairInteraction, optional
        Na-Na pair terms and blocking distance (None: no interactions, no blocking).
    n_mobile : int, optional
        Ions in the whole supercell (default: the cell's count times the number of cells);
        then the structure's starting sites are not used.

    Returns
    -------
    KMCLattice

    Raises
    ------
    NasiconSimError
        If the supercell is narrower than twice the interaction cutoff (pairs would be counted
        through two images).
    """
    reps = np.array([int(x) for x in supercell], dtype=np.int64)
    if reps.shape != (3,) or np.any(reps < 1):
        raise NasiconSimError(f"the supercell must be three positive integers, got {supercell}")
    n_cells = int(np.prod(reps))
    ns = len(cell.frac)
    cells = np.array(np.meshgrid(*[np.arange(r) for r in reps], indexing="ij")).reshape(3, -1).T
    cell_index = {tuple(c): k for k, c in enumerate(cells.tolist())}
    sup_lat = cell.lattice * reps[:, None]
    frac = ((cells[:, None, :] + cell.frac[None, :, :]) / reps).reshape(-1, 3)
    energies = np.tile(cell.site_energy_eV, n_cells)
    labels = tuple(cell.labels) * n_cells
    # directed hops: every link in both directions, from every cell
    src, dst, vec, kra, typ = [], [], [], [], []
    type_names = tuple(sorted(set(cell.link_names)))
    type_of = {n: i for i, n in enumerate(type_names)}
    dvec = (cell.frac[cell.link_b] + cell.link_t - cell.frac[cell.link_a]) @ cell.lattice
    for li in range(len(cell.link_a)):
        a, b, t = int(cell.link_a[li]), int(cell.link_b[li]), cell.link_t[li]
        if a == b and not np.any(t % reps):
            continue  # a site's own image in the supercell: no hop
        for k, c in enumerate(cells):
            cb = cell_index[tuple(((c + t) % reps).tolist())]
            i, j = k * ns + a, cb * ns + b
            src += [i, j]
            dst += [j, i]
            vec += [dvec[li], -dvec[li]]
            kra += [cell.link_kra_eV[li]] * 2
            typ += [type_of[cell.link_names[li]]] * 2
    # events of one site next to each other (leaves of the kMC sum tree stay local in memory)
    order = np.lexsort((np.array(dst, dtype=np.int64), np.array(src, dtype=np.int64)))
    src = np.array(src, dtype=np.int64)[order]
    dst = np.array(dst, dtype=np.int64)[order]
    vec = np.array(vec, dtype=float).reshape(-1, 3)[order]
    kra = np.array(kra, dtype=float)[order]
    typ = np.array(typ, dtype=np.int64)[order]
    occupied = None
    total = int(cell.n_mobile) * n_cells if n_mobile is None else int(n_mobile)
    if not 0 <= total <= ns * n_cells:
        raise NasiconSimError(f"{total} mobile ions do not fit on {ns * n_cells} sites")
    if cell.occupied is not None and n_mobile is None:
        occupied = (np.arange(n_cells)[:, None] * ns + cell.occupied[None, :]).reshape(-1)
    pi = pj = np.zeros(0, np.int64)
    pv = np.zeros(0)
    pb = np.zeros(0, bool)
    info: dict = {"form": "none"}
    if interaction is not None:
        pi, pj, pv, pb, info = interaction.pairs(sup_lat, frac, _widths(sup_lat))
    return KMCLattice(
        lattice=_ro(sup_lat, float), supercell=tuple(int(x) for x in reps),
        frac=_ro(frac, float), site_energy_eV=_ro(energies, float), labels=labels,
        hop_src=_ro(src, np.int64), hop_dst=_ro(dst, np.int64),
        hop_vec_A=_ro(vec, float), hop_kra_eV=_ro(kra, float),
        hop_type=_ro(typ, np.int64), hop_names=type_names,
        pair_i=_ro(pi, np.int64), pair_j=_ro(pj, np.int64), pair_v_eV=_ro(pv, float),
        pair_blocked=_ro(pb, bool), n_mobile=total,
        occupied=None if occupied is None else _ro(occupied, np.int64), interaction=info)
