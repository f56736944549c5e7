"""Optional Vegard scaling of the parent cell from the mean M-site radius (off by default).

Rule: all parent lattice vectors are multiplied by

    s = (r_M + r_O) / (r_Zr + r_O),

where r_M = sum_i x_i r_i is the mean six-fold Shannon radius of the M-site cations (fractions
x_i), r_Zr = 0.72 A is that of Zr4+ (the parent's M cation) and r_O = 1.40 A that of six-fold
O2- (R. D. Shannon, Acta Cryst. A 32 (1976) 751, via pymatgen). Basis: the NASICON framework
is built of corner-sharing MO6 octahedra and TO4 tetrahedra; the cell edges are taken to
scale like the mean M-O bond length r_M + r_O (bond-length additivity of Shannon's radii),
linearly in composition (L. Vegard, Z. Phys. 5 (1921) 17). Fractional coordinates are kept.

Limits, stated plainly: the rule is isotropic (the real C2/c cell does not expand equally
along a, b and c), ignores the rigid TO4 tetrahedra (which expand far less than the
octahedra), the Na content, and Si/P substitution. Compare with a refined cell before relying
on it: for ME1 the rule gives a, b, c within 0.4 % of the refined cell of Zuo et al. (2026)
(``nasicon-sim build ... --vegard`` prints the comparison; see the README).
"""

from __future__ import annotations

from nasicon_sim.composition import NasiconComposition
from nasicon_sim.descriptors import shannon_radius_pm
from nasicon_sim.units import PM_PER_A

__all__ = [
    "ME1_REFINED_CELL_A",
    "OXYGEN_RADIUS_A",
    "PARENT_M_RADIUS_A",
    "mean_m_radius_A",
    "vegard_scale",
]

#: Shannon (1976) radius of six-fold O2-, Angstrom.
OXYGEN_RADIUS_A: float = 1.40
#: Shannon (1976) radius of six-fold Zr4+, the parent's M cation, Angstrom.
PARENT_M_RADIUS_A: float = 0.72
#: Refined C2/c cell of ME1, Na3.5Zr1.0Ti0.5Lu0.5Si2PO12 (a, b, c in Angstrom); Zuo et al.,
#: Energy Environ. Sci. 19 (2026) 860 (shared/paper/FACTS.md, section 1).
ME1_REFINED_CELL_A: tuple[float, float, float] = (15.61382, 9.04419, 9.19836)


def mean_m_radius_A(composition: NasiconComposition) -> float:
    """Mean six-fold Shannon radius of the M site, Angstrom.

    Parameters
    ----------
    composition : NasiconComposition

    Returns
    -------
    float
        sum_i x_i r_i over the M-site fractions.
    """
    states = composition.oxidation_states
    return sum(
        x * shannon_radius_pm(el, states[el]) / PM_PER_A
        for el, x in composition.m_fractions.items()
    )


def vegard_scale(composition: NasiconComposition) -> float:
    """Isotropic lattice factor (r_M + r_O) / (r_Zr + r_O) of a composition.

    Parameters
    ----------
    composition : NasiconComposition

    Returns
    -------
    float
        1 for an all-Zr4+ M site.

    Examples
    --------
    >>> from nasicon_sim.composition import parse_nasicon
    >>> round(vegard_scale(parse_nasicon("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12")), 5)
    1.00307
    """
    return (mean_m_radius_A(composition) + OXYGEN_RADIUS_A) / (PARENT_M_RADIUS_A + OXYGEN_RADIUS_A)
