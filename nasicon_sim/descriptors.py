"""M-site descriptors of a NASICON composition, as defined by Zuo et al. (2026).

Zuo et al., Energy Environ. Sci. 19 (2026) 860, doi:10.1039/d5ee06594a, describe each
composition by four averages over the octahedral M site (fractions x_i, sum 1):

* mean ionic radius  r = sum x_i r_i, Shannon radii for six-fold coordination, in pm
  (R. D. Shannon, Acta Cryst. A 32 (1976) 751, as tabulated in pymatgen's periodic table);
* mean electronegativity  chi = sum x_i chi_i, Pauling scale (pymatgen ``Element.X``);
* mean valence  v = sum x_i v_i (oxidation states from :mod:`nasicon_sim.composition`);
* configurational entropy  dS_mix / R = -sum x_i ln x_i.

Two more are used by later models: the radius mismatch delta = sqrt(sum x_i (r_i - r)^2) / r
(the size-mismatch parameter of high-entropy materials, Yeh et al., Adv. Eng. Mater. 6 (2004)
299) and the Na content per formula unit.

Where Shannon lists high- and low-spin radii (Mn, Fe, Co, Ni, Cr), the high-spin value is used,
as usual for weak-field oxide frameworks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cache

from nasicon_sim.composition import NasiconComposition
from nasicon_sim.errors import ParameterError
from nasicon_sim.units import PM_PER_A

__all__ = [
    "DESCRIPTOR_NAMES",
    "MSiteDescriptors",
    "configurational_entropy",
    "describe",
    "pauling_electronegativity",
    "shannon_radius_pm",
]

#: Names of the descriptor fields, in the order the study lists them, then the extras.
DESCRIPTOR_NAMES: tuple[str, ...] = (
    "radius_pm",
    "electronegativity",
    "valence",
    "entropy_R",
    "delta_radius",
    "na",
)


@cache
def shannon_radius_pm(element: str, oxidation_state: int, coordination: str = "VI") -> float:
    """Shannon (1976) effective ionic radius in pm.

    Parameters
    ----------
    element : str
        Element symbol.
    oxidation_state : int
        Formal charge.
    coordination : str, default "VI"
        Coordination number in Roman numerals, as Shannon tabulates it.

    Returns
    -------
    float
        Radius in pm (high-spin where both spin states are tabulated).

    Raises
    ------
    ParameterError
        If Shannon's table has no entry for this ion and coordination.
    """
    from pymatgen.core.periodic_table import Species

    try:
        species = Species(element, oxidation_state)
    except ValueError as exc:
        raise ParameterError(f"not an ion: {element}{oxidation_state:+d} ({exc})") from None
    for spin in ("", "High Spin"):
        try:
            return float(species.get_shannon_radius(cn=coordination, spin=spin)) * PM_PER_A
        except KeyError:
            continue
    raise ParameterError(
        f"no Shannon radius for {element}{oxidation_state:+d} in {coordination}-fold "
        "coordination (Shannon 1976, via pymatgen)"
    )


@cache
def pauling_electronegativity(element: str) -> float:
    """Pauling electronegativity of an element (pymatgen ``Element.X``)."""
    from pymatgen.core.periodic_table import Element

    value = float(Element(element).X)
    if not math.isfinite(value):
        raise ParameterError(f"no Pauling electronegativity tabulated for {element}")
    return value


def configurational_entropy(fractions: list[float] | tuple[float, ...]) -> float:
    """Ideal configurational entropy of mixing per site, in units of R.

    Parameters
    ----------
    fractions : sequence of float
        Site fractions (any positive scale; normalised here).

    Returns
    -------
    float
        -sum x_i ln x_i with x_i = f_i / sum f.

    Examples
    --------
    >>> round(configurational_entropy([1.0, 0.5, 0.5]), 3)
    1.04
    """
    total = float(sum(fractions))
    return 0.0 - float(sum((f / total) * math.log(f / total) for f in fractions if f > 0))


@dataclass(frozen=True)
class MSiteDescriptors:
    """The study's M-site descriptors of one composition.

    Attributes
    ----------
    formula : str
        Canonical formula (:attr:`NasiconComposition.formula`).
    na : float
        Na per formula unit.
    m_site : dict
        M-site cations per formula unit.
    radius_pm : float
        Mean six-fold Shannon radius, pm.
    electronegativity : float
        Mean Pauling electronegativity.
    valence : float
        Mean oxidation state of the M site.
    entropy_R : float
        Configurational entropy dS_mix / R.
    delta_radius : float
        Radius mismatch, standard deviation of radii over their mean (dimensionless).
    """

    formula: str
    na: float
    m_site: dict[str, float]
    radius_pm: float
    electronegativity: float
    valence: float
    entropy_R: float
    delta_radius: float

    def as_dict(self) -> dict:
        """Plain-dict view (for JSON)."""
        return asdict(self)


def describe(composition: NasiconComposition) -> MSiteDescriptors:
    """Compute the M-site descriptors of a composition.

    Parameters
    ----------
    composition : NasiconComposition

    Returns
    -------
    MSiteDescriptors

    Examples
    --------
    >>> from nasicon_sim.composition import parse_nasicon
    >>> round(describe(parse_nasicon("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12")).entropy_R, 2)
    1.04
    """
    fractions = composition.m_fractions
    states = composition.oxidation_states
    radii = {el: shannon_radius_pm(el, states[el]) for el in fractions}
    mean_r = sum(x * radii[el] for el, x in fractions.items())
    var_r = sum(x * (radii[el] - mean_r) ** 2 for el, x in fractions.items())
    return MSiteDescriptors(
        formula=composition.formula,
        na=composition.na,
        m_site=dict(composition.m_site),
        radius_pm=mean_r,
        electronegativity=sum(x * pauling_electronegativity(el) for el, x in fractions.items()),
        valence=sum(x * states[el] for el, x in fractions.items()),
        entropy_R=configurational_entropy(list(fractions.values())),
        delta_radius=math.sqrt(var_r) / mean_r,
    )
