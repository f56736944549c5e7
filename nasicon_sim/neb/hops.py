"""Elementary hops of the BVSE migration network, labelled by parent sites and local environment.

A hop is a link of :class:`nasicon_sim.network.MigrationNetwork` (site i -> image of site j)
with:

* its **labels**, the parent-site labels of the two ends (``Na1``, ``Na2``...; the builder's
  ``parent_label``); a landscape minimum farther than 1 A from every parent site (an
  interstitial minimum, e.g. in a relaxed cell) carries the nearest label with a ``*``
  (``Na1*``), so its hops never share a hop type with hops between real sites;
* its **local environment key**: the framework cations within ``env_radius_A`` (default
  4.0 A) of the BVSE saddle, split into octahedral M and tetrahedral T cations, e.g.
  ``M:Zr2|T:P1Si2`` (the builder's ``sublattice`` property when present, else T = Si, P, S,
  Ge, As);
* its **hop type** ``"<label_i>-<label_j>|<env key>"`` (directional: the barrier table holds
  both directions);
* the BVSE saddle and barriers from both sides, and the BVSE KRA barrier (saddle minus the
  mean of the two site energies; Van der Ven et al., Phys. Rev. B 64 (2001) 184307).

:func:`find_hops` lists one representative per hop type (lowest saddle), the bottleneck links
of the percolating paths first (1D, 2D, 3D), then by saddle energy; :func:`hop_between` names
one hop by two network site indices (or ``link:K``, a link of ``nasicon-sim bvse --json``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nasicon_sim.errors import NasiconSimError

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from nasicon_sim.network import Link, MigrationNetwork, ReferenceSites

__all__ = ["Hop", "environment_key", "find_hops", "hop_between", "hop_from_link", "site_positions"]

#: Tetrahedral (T-site) elements when the structure carries no ``sublattice`` property.
T_ELEMENTS = frozenset({"Si", "P", "S", "Ge", "As"})
#: Radius around the saddle within which framework cations make the environment key, A.
ENV_RADIUS_A = 4.0
#: Network minima closer than this to a reference site use the reference position, A.
LABEL_RADIUS_A = 1.0


class UnlinkedSitesError(NasiconSimError):
    """Two sites that no link of the migration network joins."""


@dataclass(frozen=True)
class Hop:
    """One elementary hop i -> j (site j in cell ``translation``).

    Attributes
    ----------
    site_i, site_j : int
        Network site indices (``sites`` of ``nasicon-sim bvse --json``).
    translation : tuple of 3 ints
        Cell of site j's image, relative to site i.
    labels : tuple of 2 str
    env_key : str
    frac_i, frac_j : tuple of 3 floats
        End positions in the cell (site j without the translation): the reference (parent) Na
        position when the network minimum lies within 1 A of it, else the minimum.
    saddle_frac : tuple of 3 floats
        BVSE saddle (grid point) in the cell.
    bvse_saddle_eV : float
        Relative to the landscape's global minimum.
    bvse_barrier_forward_eV, bvse_barrier_backward_eV : float
        Saddle minus the energy of site i (resp. j), eV.
    link_index : int
        Position of the link in the network's ``links``.
    bottleneck_of : tuple of int
        Dimensions (1, 2, 3) whose percolating path has this link as bottleneck.
    """

    site_i: int
    site_j: int
    translation: tuple[int, int, int]
    labels: tuple[str, str]
    env_key: str
    frac_i: tuple[float, float, float]
    frac_j: tuple[float, float, float]
    saddle_frac: tuple[float, float, float]
    bvse_saddle_eV: float
    bvse_barrier_forward_eV: float
    bvse_barrier_backward_eV: float
    link_index: int
    bottleneck_of: tuple[int, ...] = ()

    @property
    def name(self) -> str:
        """e.g. ``"Na1-Na2"``."""
        return f"{self.labels[0]}-{self.labels[1]}"

    @property
    def hop_type(self) -> str:
        """``"<label_i>-<label_j>|<env key>"`` (directional)."""
        return f"{self.name}|{self.env_key}"

    @property
    def bvse_kra_eV(self) -> float:
        """BVSE kinetically resolved activation barrier: mean of the two directions, eV."""
        return 0.5 * (self.bvse_barrier_forward_eV + self.bvse_barrier_backward_eV)

    @property
    def tag(self) -> str:
        """File-name tag, e.g. ``hop_00-13_Na1-Na2``."""
        return f"hop_{self.site_i:02d}-{self.site_j:02d}_{self.name}"

    def reversed(self) -> Hop:
        """The same link walked from j to i."""
        return Hop(site_i=self.site_j, site_j=self.site_i,
                   translation=tuple(-t for t in self.translation),
                   labels=(self.labels[1], self.labels[0]), env_key=self.env_key,
                   frac_i=self.frac_j, frac_j=self.frac_i, saddle_frac=self.saddle_frac,
                   bvse_saddle_eV=self.bvse_saddle_eV,
                   bvse_barrier_forward_eV=self.bvse_barrier_backward_eV,
                   bvse_barrier_backward_eV=self.bvse_barrier_forward_eV,
                   link_index=self.link_index, bottleneck_of=self.bottleneck_of)

    def cart_path_A(self, lattice: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cartesian (start, saddle image nearest the midpoint, end image), Angstrom."""
        lattice = np.asarray(lattice, dtype=float)
        fi = np.array(self.frac_i)
        fj = np.array(self.frac_j) + np.array(self.translation)
        mid = 0.5 * (fi + fj)
        fs = np.array(self.saddle_frac)
        fs = fs + np.round(mid - fs)
        return fi @ lattice, fs @ lattice, fj @ lattice

    def as_dict(self) -> dict[str, Any]:
        """JSON-able (with ``name``, ``hop_type`` and ``bvse_kra_eV``)."""
        d = asdict(self)
        d.update(name=self.name, hop_type=self.hop_type, bvse_kra_eV=round(self.bvse_kra_eV, 6))
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Hop:
        """Inverse of :meth:`as_dict`."""
        keep = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for k in ("translation", "labels", "frac_i", "frac_j", "saddle_frac", "bottleneck_of"):
            if k in keep:
                keep[k] = tuple(keep[k])
        return cls(**keep)


def site_positions(network: MigrationNetwork, lattice: np.ndarray,
                   reference: ReferenceSites | None) -> np.ndarray:
    """Fractional position of every network site: its reference site when within 1 A."""
    pos = np.array([s.frac_coords for s in network.sites], dtype=float).reshape(-1, 3)
    if reference is None or not len(reference.labels):
        return pos
    from pymatgen.core import Lattice

    d = Lattice(lattice).get_all_distances(pos, reference.frac_coords)
    nearest = d.argmin(axis=1)
    for k, j in enumerate(nearest):
        if d[k, j] <= LABEL_RADIUS_A:
            ref = np.array(reference.frac_coords[j], dtype=float)
            pos[k] = ref - np.round(ref - pos[k])  # the image next to the minimum
    return pos


def environment_key(structure: Structure, saddle_cart_A: np.ndarray, mobile: str = "Na",
                    radius_A: float = ENV_RADIUS_A) -> str:
    """Framework cations within ``radius_A`` of a point, e.g. ``"M:Zr2|T:P1Si2"``.

    Parameters
    ----------
    structure : pymatgen Structure
        Ordered.
    saddle_cart_A : (3,) array
        Cartesian point (Angstrom).
    mobile : str
        Mobile element (left out).
    radius_A : float

    Returns
    -------
    str
    """
    props = structure.site_properties
    sub = props.get("sublattice")
    found = structure.get_sites_in_sphere(np.asarray(saddle_cart_A, float), radius_A)
    m: Counter = Counter()
    t: Counter = Counter()
    for site in found:
        el = site.specie.symbol
        if el in (mobile, "O", "F", "N") or (sub is not None and sub[site.index] in ("Na", "O")):
            continue
        is_t = (sub[site.index] == "T") if sub is not None else el in T_ELEMENTS
        (t if is_t else m)[el] += 1

    def fmt(c: Counter) -> str:
        return "".join(f"{el}{c[el]}" for el in sorted(c)) or "-"

    return f"M:{fmt(m)}|T:{fmt(t)}"


def hop_from_link(link: Link, index: int, network: MigrationNetwork, structure: Structure,
                  positions: np.ndarray, mobile: str = "Na",
                  env_radius_A: float = ENV_RADIUS_A) -> Hop:
    """A :class:`Hop` for a network link (walked from ``site_a`` to ``site_b``)."""
    lattice = structure.lattice.matrix
    labels = tuple(
        (f"site{s}" if lab is None else lab) + ("*" if network.sites[s].interstitial else "")
        for lab, s in zip(link.labels, (link.site_a, link.site_b)))
    bott = tuple(p.dimension for p in network.paths
                 if (p.bottleneck.site_a, p.bottleneck.site_b, p.bottleneck.translation)
                 == (link.site_a, link.site_b, link.translation)
                 and p.bottleneck.grid_index == link.grid_index)
    hop = Hop(site_i=link.site_a, site_j=link.site_b, translation=tuple(link.translation),
              labels=labels, env_key="",
              frac_i=tuple(float(x) for x in positions[link.site_a]),
              frac_j=tuple(float(x) for x in positions[link.site_b]),
              saddle_frac=tuple(float(x) for x in link.frac_coords),
              bvse_saddle_eV=float(link.saddle_eV),
              bvse_barrier_forward_eV=float(link.barrier_from_a_eV),
              bvse_barrier_backward_eV=float(link.barrier_from_b_eV),
              link_index=index, bottleneck_of=bott)
    _, saddle, _ = hop.cart_path_A(lattice)
    env = environment_key(structure, saddle, mobile, env_radius_A)
    from dataclasses import replace

    return replace(hop, env_key=env)


def find_hops(network: MigrationNetwork, structure: Structure,
              reference: ReferenceSites | None = None, mobile: str = "Na",
              env_radius_A: float = ENV_RADIUS_A, max_hops: int | None = None) -> list[Hop]:
    """Distinct elementary hops of a network, bottleneck links first.

    One hop per undirected type (sorted label pair + environment key), represented by its
    lowest-saddle link, walked from the lower-energy end. Order: the bottlenecks of the
    1D, 2D, 3D percolating paths, then one hop per label pair not yet listed, then the rest,
    each group by saddle energy; within each group hops between parent sites come before hops
    touching an interstitial minimum (label ending in ``*``).

    Parameters
    ----------
    network : MigrationNetwork
    structure : pymatgen Structure
        The structure the landscape was computed for (same cell).
    reference : ReferenceSites, optional
        Parent Na sites (positions of the hop ends).
    mobile : str
    env_radius_A : float
    max_hops : int, optional
        Keep the first ``max_hops``.

    Returns
    -------
    list of Hop
    """
    lattice = structure.lattice.matrix
    positions = site_positions(network, lattice, reference)
    by_type: dict[tuple, Hop] = {}
    for index, link in enumerate(network.links):  # sorted by saddle energy
        hop = hop_from_link(link, index, network, structure, positions, mobile, env_radius_A)
        if hop.bvse_barrier_forward_eV < hop.bvse_barrier_backward_eV:
            hop = hop.reversed()
        key = (tuple(sorted(hop.labels)), hop.env_key)
        if key not in by_type:
            by_type[key] = hop
        elif hop.bottleneck_of and not by_type[key].bottleneck_of:
            by_type[key] = hop
    hops = sorted(by_type.values(), key=lambda h: h.bvse_saddle_eV)
    first = sorted([h for h in hops if h.bottleneck_of], key=lambda h: min(h.bottleneck_of))
    seen_pairs = {tuple(sorted(h.labels)) for h in first}
    second = []
    for h in hops:
        pair = tuple(sorted(h.labels))
        if h not in first and pair not in seen_pairs:
            second.append(h)
            seen_pairs.add(pair)
    rest = [h for h in hops if h not in first and h not in second]
    def regular_first(group: list[Hop]) -> list[Hop]:
        return sorted(group, key=lambda h: any(lab.endswith("*") for lab in h.labels))

    ordered = regular_first(first) + regular_first(second) + regular_first(rest)
    return ordered if max_hops is None else ordered[:max_hops]


def hop_between(network: MigrationNetwork, structure: Structure, spec: str,
                reference: ReferenceSites | None = None, mobile: str = "Na",
                env_radius_A: float = ENV_RADIUS_A) -> Hop:
    """The hop a user names: ``"i,j"`` (network site indices, lowest-saddle link between them)
    or ``"link:K"`` (the K-th link of the network, walked from its ``site_a``).

    Raises
    ------
    UnlinkedSitesError
        No link joins the two sites below the network's energy cap.
    NasiconSimError
        A malformed spec or an index out of range.
    """
    spec = str(spec).strip()
    lattice = structure.lattice.matrix
    positions = site_positions(network, lattice, reference)
    n_sites, n_links = len(network.sites), len(network.links)
    if spec.lower().startswith("link:"):
        try:
            k = int(spec[5:])
        except ValueError:
            raise NasiconSimError(f"--hop {spec!r}: write link:K with an integer K") from None
        if not 0 <= k < n_links:
            raise NasiconSimError(f"--hop {spec}: the network has links 0..{n_links - 1}")
        return hop_from_link(network.links[k], k, network, structure, positions, mobile,
                             env_radius_A)
    try:
        i, j = (int(x) for x in spec.split(","))
    except ValueError:
        raise NasiconSimError(
            f"--hop {spec!r}: give two site indices 'i,j', 'link:K' or 'auto'") from None
    for s in (i, j):
        if not 0 <= s < n_sites:
            raise NasiconSimError(f"--hop {spec}: the network has sites 0..{n_sites - 1}")
    for k, link in enumerate(network.links):  # sorted by saddle: the first is the lowest
        if {link.site_a, link.site_b} == {i, j}:
            hop = hop_from_link(link, k, network, structure, positions, mobile, env_radius_A)
            return hop if hop.site_i == i else hop.reversed()
    partners = sorted({(lk.site_b if lk.site_a == i else lk.site_a) for lk in network.links
                       if i in (lk.site_a, lk.site_b)})
    raise UnlinkedSitesError(
        f"--hop {spec}: sites {i} and {j} are not linked in the BVSE network (below "
        f"{network.cap_eV:.2f} eV); site {i} links to {partners or 'nothing'}")
