"""Local distortion of (relaxed) configurations: M-O bond distortion, bond-valence sums, Na shifts.

The study explains HE1's weaker Na channels by Ga3+-driven local distortion (Zuo et al.,
Energy Environ. Sci. 2026); these numbers let a user test that next to the BVSE barriers.

* **Distortion index** of each M-site octahedron (W. H. Baur, Acta Cryst. B 30 (1974) 1195):
  ``D = (1/n) sum_i |l_i - l_av| / l_av`` over the n M-O bonds, the O neighbours of the M atom
  within ``bond_cutoff_A`` (default 3.0 A: M-O bonds in NASICON are 1.9-2.3 A, the next O
  lies beyond 3.5 A; the coordination number is reported so a cutoff that misses or adds
  bonds shows).
* **Bond-valence sums** ``V_i = sum_j exp((R0_ij - r_ij) / b_ij)`` over all counter-ions j
  within ``bvs_cutoff_A`` (default 6 A, the softBV cut-off, where the sums have converged to
  about 0.01 valence units), and the **global instability index**
  ``GII = sqrt(mean_i (V_i - |q_i|)^2)`` over all atoms (A. Salinas-Sanchez, J. L.
  Garcia-Munoz, J. Rodriguez-Carvajal, R. Saez-Puche, J. L. Martinez, J. Solid State Chem.
  100 (1992) 201). R0 and b are the softBV bond-valence parameters (Chen & Adams, IUCrJ 4
  (2017) 614; :mod:`nasicon_sim.bvse.params`), the table the BVSE energies use; with the same
  cut-off the sums equal bvlain's ``Lain.mismatch`` (checked in the tests). pymatgen's
  ``calculate_bv_sum`` is not used: it estimates R0 from element parameters with b = 0.31 A
  (O'Keeffe & Brese, J. Am. Chem. Soc. 113 (1991) 3226) for oxidation-state guessing, and
  gives Si and P sums of 5.6 and 6.2 in NZSP.
* **Displacements** of every atom, Na in particular, from its parent site: the parent
  position (``parent_index`` of the site map, mapped into the supercell by its matrix) or the
  same atom of a given reference structure, as a minimum-image vector in the fractional
  coordinates of the analysed cell, so a homogeneous strain of the cell is not counted.

Kernels (:func:`distortion_index`, :func:`bond_valence_sums`,
:func:`global_instability_index`) are pure functions on arrays; :func:`analyse_distortion` is
the adapter from a pymatgen Structure.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nasicon_sim.errors import NasiconSimError, StructureError

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "DistortionResult",
    "DistortionSettings",
    "MSite",
    "analyse_distortion",
    "bond_valence_sums",
    "displacements_A",
    "distortion_index",
    "global_instability_index",
    "parent_positions",
]

logger = logging.getLogger(__name__)


def distortion_index(lengths_A: Sequence[float] | np.ndarray) -> float:
    """Baur's distortion index of one coordination polyhedron.

    Parameters
    ----------
    lengths_A : (n,) array
        Bond lengths, Angstrom (n >= 1).

    Returns
    -------
    float
        ``mean(|l - mean(l)|) / mean(l)`` (dimensionless; 0 for equal bonds).

    Examples
    --------
    >>> distortion_index([2.0] * 6)
    0.0
    >>> round(distortion_index([1.9, 1.9, 1.9, 2.1, 2.1, 2.1]), 6)  # |0.1| / 2.0
    0.05
    """
    lengths = np.asarray(lengths_A, dtype=float)
    if lengths.ndim != 1 or lengths.size == 0:
        raise NasiconSimError("a distortion index needs at least one bond length")
    mean = lengths.mean()
    return float(np.abs(lengths - mean).mean() / mean)


def bond_valence_sums(
    n_atoms: int,
    centers: np.ndarray,
    distances_A: np.ndarray,
    r0_A: np.ndarray,
    b_A: np.ndarray,
) -> np.ndarray:
    """Bond-valence sums from a list of bonds.

    Parameters
    ----------
    n_atoms : int
    centers : (m,) int array
        Atom each bond is counted for (a bond i-j appears once with center i and once with
        center j when both sums are wanted).
    distances_A, r0_A, b_A : (m,) float arrays
        Bond length, bond-valence R0 and b of each bond, Angstrom.

    Returns
    -------
    (n_atoms,) float array
        ``V_i = sum_j exp((R0_ij - r_ij) / b_ij)``, valence units.

    Examples
    --------
    >>> v = bond_valence_sums(2, np.array([0, 0, 1]), np.array([2.0, 2.0, 2.0]),
    ...                       np.array([2.0, 2.0, 2.0]), np.array([0.37, 0.37, 0.37]))
    >>> v.tolist()
    [2.0, 1.0]
    """
    valences = np.exp((np.asarray(r0_A, float) - np.asarray(distances_A, float))
                      / np.asarray(b_A, float))
    return np.bincount(np.asarray(centers, dtype=int), weights=valences, minlength=n_atoms)


def global_instability_index(bvs: np.ndarray, formal_valences: np.ndarray) -> float:
    """Global instability index, valence units (Salinas-Sanchez et al. 1992).

    Parameters
    ----------
    bvs : (n,) array
        Bond-valence sums (positive).
    formal_valences : (n,) array
        Oxidation states (their magnitudes are used).

    Returns
    -------
    float
        ``sqrt(mean((bvs - |q|)^2))``.

    Examples
    --------
    >>> global_instability_index(np.array([1.1, 1.9]), np.array([1, -2]))
    0.1
    """
    d = np.asarray(bvs, float) - np.abs(np.asarray(formal_valences, float))
    return float(round(math.sqrt(float(np.mean(d ** 2))), 12))


@dataclass(frozen=True)
class DistortionSettings:
    """Cut-offs of the distortion analysis.

    Attributes
    ----------
    bond_cutoff_A : float
        M-O bonds of the distortion index: O within this distance (default 3.0 A).
    bvs_cutoff_A : float
        Counter-ions summed in the bond-valence sums (default 6.0 A).
    m_sublattice_elements : tuple of str or None
        Elements treated as M-site cations when the structure has no site map (default:
        every cation that is not Na, Si, P or S).
    """

    bond_cutoff_A: float = 3.0
    bvs_cutoff_A: float = 6.0
    m_sublattice_elements: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("bond_cutoff_A", "bvs_cutoff_A"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise NasiconSimError(f"{name} must be a positive distance, got {value!r}")


@dataclass(frozen=True)
class MSite:
    """One octahedral (M) site.

    Attributes
    ----------
    index : int
        Atom index in the structure.
    element : str
    parent_label : str or None
    n_bonds : int
        O neighbours within the bond cut-off (6 for an octahedron).
    mean_bond_A, min_bond_A, max_bond_A : float
    distortion_index : float
        Baur's D of its M-O bonds.
    bvs : float
        Bond-valence sum, valence units.
    """

    index: int
    element: str
    parent_label: str | None
    n_bonds: int
    mean_bond_A: float
    min_bond_A: float
    max_bond_A: float
    distortion_index: float
    bvs: float


@dataclass(frozen=True)
class DistortionResult:
    """Distortion metrics of one structure.

    Attributes
    ----------
    formula : str
    settings : DistortionSettings
    m_sites : tuple of MSite
    bvs : (n,) float array
        Bond-valence sum of every atom.
    formal_valences : (n,) float array
    elements : tuple of str
    gii : float
        Global instability index, valence units.
    displacements_A : (n,) float array or None
        Distance of every atom from its reference (parent site or reference structure);
        None when neither is known.
    displacement_reference : str or None
        ``"parent"`` or ``"structure"``.
    sublattices : tuple of str or None
        ``Na``/``M``/``T``/``O`` per atom (site map), if known.
    parent_labels : tuple of str or None
    """

    formula: str
    settings: DistortionSettings
    m_sites: tuple[MSite, ...]
    bvs: np.ndarray = field(repr=False)
    formal_valences: np.ndarray = field(repr=False)
    elements: tuple[str, ...] = field(repr=False)
    gii: float
    displacements_A: np.ndarray | None = field(repr=False)
    displacement_reference: str | None
    sublattices: tuple[str, ...] | None = field(repr=False)
    parent_labels: tuple[str, ...] | None = field(repr=False)

    def by_element(self) -> dict[str, dict[str, float]]:
        """Per element: mean BVS, mean and RMS deviation from |q|, and for M cations the
        mean distortion index and mean M-O bond length."""
        out: dict[str, dict[str, float]] = {}
        elements = np.array(self.elements)
        dev = self.bvs - np.abs(self.formal_valences)
        for el in dict.fromkeys(self.elements):
            mask = elements == el
            out[el] = {"n": int(mask.sum()), "bvs_mean": float(self.bvs[mask].mean()),
                       "bvs_deviation_mean": float(dev[mask].mean()),
                       "bvs_deviation_rms": float(np.sqrt(np.mean(dev[mask] ** 2)))}
        groups: dict[str, list[MSite]] = defaultdict(list)
        for m in self.m_sites:
            groups[m.element].append(m)
        for el, sites in groups.items():
            out[el]["distortion_index_mean"] = float(np.mean([m.distortion_index for m in sites]))
            out[el]["distortion_index_max"] = float(np.max([m.distortion_index for m in sites]))
            out[el]["mean_bond_A"] = float(np.mean([m.mean_bond_A for m in sites]))
        return out

    def na_displacements_A(self) -> np.ndarray | None:
        """Displacements of the Na atoms (None when unknown)."""
        if self.displacements_A is None:
            return None
        mask = np.array(self.elements) == "Na"
        return self.displacements_A[mask]

    def summary(self) -> dict[str, Any]:
        """The headline numbers (JSON-able): GII, M-site distortion, Na displacement."""
        d_m = [m.distortion_index for m in self.m_sites]
        out: dict[str, Any] = {
            "formula": self.formula,
            "gii_vu": round(self.gii, 5),
            "n_m_sites": len(self.m_sites),
            "m_distortion_index_mean": round(float(np.mean(d_m)), 6) if d_m else None,
            "m_distortion_index_max": round(float(np.max(d_m)), 6) if d_m else None,
        }
        na = self.na_displacements_A()
        if na is not None and na.size:
            out.update({"na_displacement_mean_A": round(float(na.mean()), 5),
                        "na_displacement_max_A": round(float(na.max()), 5),
                        "na_displacement_rms_A": round(float(np.sqrt(np.mean(na ** 2))), 5),
                        "displacement_reference": self.displacement_reference})
            if self.parent_labels is not None:
                labels = np.array(self.parent_labels)[np.array(self.elements) == "Na"]
                out["na_displacement_mean_by_site_A"] = {
                    lab: round(float(na[labels == lab].mean()), 5)
                    for lab in sorted(set(labels))}
        else:
            out["na_displacement_mean_A"] = None
        return out

    def as_dict(self) -> dict[str, Any]:
        """Everything, JSON-able."""
        d = self.summary()
        d["settings"] = asdict(self.settings)
        d["by_element"] = {el: {k: (round(v, 6) if isinstance(v, float) else v)
                                for k, v in row.items()}
                           for el, row in self.by_element().items()}
        d["m_sites"] = [{k: (round(v, 6) if isinstance(v, float) else v)
                         for k, v in asdict(m).items()} for m in self.m_sites]
        if self.displacements_A is not None:
            na = np.flatnonzero(np.array(self.elements) == "Na")
            d["na_sites"] = [{"index": int(i),
                              "parent_label": (self.parent_labels[i] if self.parent_labels
                                               else None),
                              "displacement_A": round(float(self.displacements_A[i]), 5),
                              "bvs": round(float(self.bvs[i]), 5)} for i in na]
        return d


# ----------------------------------------------------------------------------- adapters


def _valences(structure: Structure) -> np.ndarray:
    out = []
    for site in structure:
        q = getattr(site.specie, "oxi_state", None)
        if q is None or q == 0:
            raise StructureError(
                "the distortion analysis needs oxidation states on every atom (read the "
                "structure with nasicon_sim.io.read.read_structure)")
        out.append(float(q))
    return np.array(out)


def parent_positions(structure: Structure) -> np.ndarray | None:
    """Ideal parent position of every atom, fractional in the structure's cell.

    Uses the site map (``parent_index``) and ``properties["nasicon_sim"]["supercell_matrix"]``
    (``parent_index`` indexes the parent named in that metadata, ``NZSP_C2c`` by default); of the
    images of an atom's parent site in the supercell, the nearest one. None without a site map.

    Returns
    -------
    (n, 3) float array or None
    """
    from nasicon_sim.structure.parent import PARENT_NAME, load_reference
    from nasicon_sim.structure.supercell import supercell_positions

    meta = structure.properties.get("nasicon_sim") or {}
    matrix = meta.get("supercell_matrix")
    index = structure.site_properties.get("parent_index")
    if matrix is None or index is None:
        return None
    parent = load_reference(meta.get("parent", PARENT_NAME))  # C2/c or R-3c
    index = np.asarray(index, dtype=int)
    if index.min() < 0 or index.max() >= len(parent):
        raise StructureError("parent_index outside the parent cell: not a builder site map")
    images, rows = supercell_positions(parent.frac_coords, np.asarray(matrix))
    frac = structure.frac_coords
    metric = structure.lattice.matrix
    out = np.empty_like(frac)
    for k in np.unique(index):
        atoms = np.flatnonzero(index == k)
        cand = images[rows == k]
        diff = frac[atoms, None, :] - cand[None, :, :]
        diff -= np.round(diff)
        dist = np.linalg.norm(diff @ metric, axis=-1)
        out[atoms] = cand[np.argmin(dist, axis=1)]
    return out


def displacements_A(structure: Structure, reference_frac: np.ndarray) -> np.ndarray:
    """Minimum-image distance of every atom from a reference position, Angstrom.

    Parameters
    ----------
    structure : pymatgen Structure
    reference_frac : (n, 3) array
        Reference positions in the structure's fractional coordinates (same atom order).

    Returns
    -------
    (n,) float array
    """
    ref = np.asarray(reference_frac, dtype=float)
    if ref.shape != structure.frac_coords.shape:
        raise StructureError(
            f"reference has {len(ref)} positions for {len(structure)} atoms")
    diff = structure.frac_coords - ref
    diff -= np.round(diff)
    return np.linalg.norm(diff @ structure.lattice.matrix, axis=1)


def _m_mask(structure: Structure, settings: DistortionSettings, valences: np.ndarray) -> np.ndarray:
    subl = structure.site_properties.get("sublattice")
    if subl is not None and settings.m_sublattice_elements is None:
        return np.array([s == "M" for s in subl])
    elements = [site.specie.symbol for site in structure]
    if settings.m_sublattice_elements is not None:
        wanted = set(settings.m_sublattice_elements)
        return np.array([el in wanted for el in elements])
    return np.array([q > 0 and el not in ("Na", "Si", "P", "S")
                     for el, q in zip(elements, valences)])


def analyse_distortion(
    structure: Structure,
    settings: DistortionSettings | None = None,
    reference: Structure | None = None,
) -> DistortionResult:
    """M-site distortion indices, bond-valence sums, GII and displacements of a structure.

    Parameters
    ----------
    structure : pymatgen Structure
        Ordered, oxidation-state decorated (``read_structure`` does it); with the site map
        when it comes from the builder, a relaxation or a VASP run with its sidecar.
    settings : DistortionSettings, optional
    reference : pymatgen Structure, optional
        The same configuration before relaxation (same atom order and elements); its
        fractional positions are the displacement reference instead of the parent sites.

    Returns
    -------
    DistortionResult

    Raises
    ------
    StructureError
        Disordered structure, missing oxidation states, or a reference that does not match.
    ParameterError
        A cation-anion pair missing from the bond-valence table.

    Examples
    --------
    >>> from nasicon_sim.structure import build_ensemble
    >>> s = build_ensemble("Na3Zr2Si2PO12", n=1, seed=0)[0].structure
    >>> r = analyse_distortion(s)
    >>> len(r.m_sites), {m.n_bonds for m in r.m_sites}, float(r.na_displacements_A().max())
    (8, {6}, 0.0)
    """
    from nasicon_sim.bvse.params import morse_pair

    settings = settings or DistortionSettings()
    if not structure.is_ordered:
        raise StructureError("the distortion analysis needs an ordered structure")
    valences = _valences(structure)
    elements = tuple(site.specie.symbol for site in structure)
    n = len(structure)
    centers, neighbours, _, distances = structure.get_neighbor_list(settings.bvs_cutoff_A)
    opposite = valences[centers] * valences[neighbours] < 0
    centers, neighbours, distances = centers[opposite], neighbours[opposite], distances[opposite]
    pair_params: dict[tuple[str, float, str, float], tuple[float, float]] = {}
    r0 = np.empty(len(centers))
    b = np.empty(len(centers))
    for k, (i, j) in enumerate(zip(centers, neighbours)):
        key = (elements[i], valences[i], elements[j], valences[j])
        if key not in pair_params:
            p = morse_pair(*key)
            pair_params[key] = (p.r0_A, 1.0 / p.alpha_per_A)
        r0[k], b[k] = pair_params[key]
    bvs = bond_valence_sums(n, centers, distances, r0, b)
    gii = global_instability_index(bvs, valences)

    m_mask = _m_mask(structure, settings, valences)
    labels = structure.site_properties.get("parent_label")
    is_oxygen = np.array([el == "O" for el in elements])
    bond = (distances <= settings.bond_cutoff_A) & is_oxygen[neighbours]
    m_sites = []
    for i in np.flatnonzero(m_mask):
        lengths = distances[(centers == i) & bond]
        if lengths.size == 0:
            raise StructureError(
                f"M atom {i} ({elements[i]}) has no O within {settings.bond_cutoff_A} A")
        m_sites.append(MSite(
            index=int(i), element=elements[i],
            parent_label=None if labels is None else str(labels[i]), n_bonds=int(lengths.size),
            mean_bond_A=float(lengths.mean()), min_bond_A=float(lengths.min()),
            max_bond_A=float(lengths.max()), distortion_index=distortion_index(lengths),
            bvs=float(bvs[i])))
    odd = [m for m in m_sites if m.n_bonds != 6]
    if odd:
        logger.warning("%d M site(s) do not have 6 O within %.2f A (e.g. atom %d: %d)",
                       len(odd), settings.bond_cutoff_A, odd[0].index, odd[0].n_bonds)

    disp, disp_ref = None, None
    if reference is not None:
        if [s.specie.symbol for s in reference] != list(elements):
            raise StructureError("the reference structure has other elements or another order")
        disp, disp_ref = displacements_A(structure, reference.frac_coords), "structure"
    else:
        ideal = parent_positions(structure)
        if ideal is not None:
            disp, disp_ref = displacements_A(structure, ideal), "parent"
    subl = structure.site_properties.get("sublattice")
    return DistortionResult(
        formula=structure.composition.formula.replace(" ", ""), settings=settings,
        m_sites=tuple(m_sites), bvs=bvs, formal_valences=valences, elements=elements, gii=gii,
        displacements_A=disp, displacement_reference=disp_ref,
        sublattices=None if subl is None else tuple(str(x) for x in subl),
        parent_labels=None if labels is None else tuple(str(x) for x in labels),
    )
