"""Formula-only features of NASICON compositions, computed on arrays.

The study's four M-site descriptors (Zuo et al., Energy Environ. Sci. 19 (2026) 860,
doi:10.1039/d5ee06594a) are fraction-weighted means over the octahedral site of the six-fold
Shannon radius, the Pauling electronegativity and the valence, and the configurational
entropy -sum x_i ln x_i; they are defined once, in :mod:`nasicon_sim.descriptors`, and the
kernel here reproduces them on arrays (a test checks the two agree).

The extra features need nothing but the formula (no structure, no DFT):

* spreads and extremes of the same M-site quantities (standard deviation = the
  fraction-weighted root-mean-square deviation, as for ``delta_radius``);
* the polyanion site: fractions of SiO4, PO4, SO4 (of the 3 tetrahedra), the mean and
  spread of the polyanion charge |q(TO4)| = 8 - v(T) (SiO4 4-, PO4 3-, SO4 2-, AsO4 3-), and
  its mixing entropy;
* the Na site: Na per formula unit and the ideal mixing entropy of Na and vacancies over the
  4 Na positions (binary entropy of the occupancy Na/4);
* the ideal configurational entropy per atom, (2 S_M + 3 S_T + 4 S_Na) / N_atoms in units of
  k_B: Ouyang et al. (Nat. Commun. 12 (2021) 5752) subtract T * S_ideal from the DFT energy
  above the hull, so this quantity enters their stability labels;
* ratios to Na+: mean M radius over r(Na+, VI) and electronegativity difference to Na,
  after the ``RRatioNaLst`` and ``XWithNaLst`` inputs of Ouyang et al. (2021);
* ``ouyang_x1`` = cbrt(N_Na) + std(q_anion)^2, the formula-only half of Ouyang's 2D
  descriptor (the other half needs a DFT-relaxed Ewald energy).

Compositions enter the kernel as :class:`CompositionArrays` (one column per M-site species,
i.e. element and oxidation state), so that screening can build tens of thousands of
candidates without writing or parsing a formula per candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.special import entr

from nasicon_sim.composition import (
    M_SITE_PER_FU,
    NA_SITES_PER_FU,
    OXYGEN_PER_FU,
    T_SITE_PER_FU,
    NasiconComposition,
    oxidation_state_table,
    parse_nasicon,
)
from nasicon_sim.descriptors import pauling_electronegativity, shannon_radius_pm
from nasicon_sim.errors import FeatureError

__all__ = [
    "FEATURE_DESCRIPTIONS",
    "FEATURE_SETS",
    "STUDY_FEATURES",
    "T_ELEMENTS",
    "CompositionArrays",
    "NasiconFeaturizer",
    "compute_features",
    "resolve_features",
]

#: Tetrahedral-site elements, in the column order of :attr:`CompositionArrays.t_amounts`.
T_ELEMENTS: tuple[str, ...] = ("Si", "P", "S", "As")

#: The study's four descriptors (Zuo et al. 2026), in the order the paper lists them.
STUDY_FEATURES: tuple[str, ...] = ("radius_pm", "electronegativity", "valence", "entropy_R")

#: Every feature the kernel computes, with its meaning and unit.
FEATURE_DESCRIPTIONS: dict[str, str] = {
    "radius_pm": "M-site mean Shannon VI radius, pm",
    "electronegativity": "M-site mean Pauling electronegativity",
    "valence": "M-site mean oxidation state",
    "entropy_R": "M-site configurational entropy -sum x ln x, units of R",
    "delta_radius": "M-site radius mismatch std(r)/mean(r), dimensionless",
    "na": "Na per formula unit (12 O)",
    "radius_std_pm": "M-site std of Shannon VI radii, pm",
    "radius_min_pm": "smallest M-site Shannon VI radius, pm",
    "radius_max_pm": "largest M-site Shannon VI radius, pm",
    "electronegativity_std": "M-site std of Pauling electronegativity",
    "valence_std": "M-site std of oxidation states",
    "n_m_cations": "number of distinct M-site cations",
    "si_fraction": "SiO4 share of the 3 tetrahedra",
    "p_fraction": "PO4 share of the 3 tetrahedra",
    "s_fraction": "SO4 share of the 3 tetrahedra",
    "polyanion_charge": "mean |charge| of the TO4 groups (8 - v(T)), e",
    "polyanion_charge_std": "std of the TO4 charges, e",
    "t_entropy_R": "tetrahedral-site mixing entropy -sum x ln x, units of R",
    "na_site_entropy_R": "Na/vacancy mixing entropy per Na position (occupancy Na/4), units of R",
    "config_entropy_per_atom_kB": "(2 S_M + 3 S_T + 4 S_Na) / atoms per formula unit, units of k_B",
    "radius_ratio_na": "M-site mean radius / Shannon VI radius of Na+",
    "electronegativity_diff_na": "M-site mean electronegativity minus that of Na",
    "ouyang_x1": "cbrt(Na) + polyanion_charge_std^2 (Ouyang et al. 2021)",
}

#: Named feature sets; ``study+`` adds the radius mismatch and the Na content to the study's four.
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "study": STUDY_FEATURES,
    "study+": (*STUDY_FEATURES, "delta_radius", "na"),
    "study+si": (*STUDY_FEATURES, "delta_radius", "na", "si_fraction"),
    "formula": tuple(FEATURE_DESCRIPTIONS),
}


def resolve_features(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Turn a feature-set name or a list / comma-separated string of names into a tuple.

    Parameters
    ----------
    spec : str or sequence of str
        A key of :data:`FEATURE_SETS` (``"study"``), ``"radius_pm,valence"``, or a list.

    Returns
    -------
    tuple of str

    Raises
    ------
    FeatureError
        For an unknown name, a repeated name, or an empty list.
    """
    if isinstance(spec, str):
        if spec in FEATURE_SETS:
            return FEATURE_SETS[spec]
        names = [s.strip() for s in spec.split(",") if s.strip()]
    else:
        names = [str(s) for s in spec]
    if not names:
        raise FeatureError("no features given")
    unknown = [n for n in names if n not in FEATURE_DESCRIPTIONS]
    if unknown:
        raise FeatureError(
            f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURE_DESCRIPTIONS)}"
            f"; sets: {', '.join(FEATURE_SETS)}"
        )
    if len(set(names)) != len(names):
        raise FeatureError(f"feature repeated in {names}")
    return tuple(names)


@dataclass(frozen=True)
class CompositionArrays:
    """Compositions as arrays, the input of :func:`compute_features`.

    Attributes
    ----------
    species : tuple of (str, int)
        M-site species (element, oxidation state), one per column of ``m_amounts``.
    m_amounts : numpy.ndarray, shape (n, k), float
        M-site amounts per formula unit (rows sum to 2).
    t_amounts : numpy.ndarray, shape (n, 4), float
        Si, P, S, As per formula unit (rows sum to 3), columns as :data:`T_ELEMENTS`.
    na : numpy.ndarray, shape (n,), float
        Na per formula unit.
    """

    species: tuple[tuple[str, int], ...]
    m_amounts: np.ndarray
    t_amounts: np.ndarray
    na: np.ndarray

    def __post_init__(self) -> None:
        m = np.asarray(self.m_amounts, dtype=float)
        t = np.asarray(self.t_amounts, dtype=float)
        na = np.asarray(self.na, dtype=float)
        n = na.shape[0] if na.ndim == 1 else -1
        if m.ndim != 2 or m.shape != (n, len(self.species)):
            raise FeatureError(
                f"m_amounts must have shape (n, {len(self.species)}), got {m.shape} for n = {n}"
            )
        if t.shape != (n, len(T_ELEMENTS)):
            raise FeatureError(f"t_amounts must have shape ({n}, {len(T_ELEMENTS)}), got {t.shape}")
        if n and (np.any(m < 0) or np.any(t < 0) or np.any(na < 0)):
            raise FeatureError("amounts must be >= 0")
        if n and np.any(m.sum(axis=1) <= 0):
            raise FeatureError("every composition needs an M-site cation")
        for name, value in (("m_amounts", m), ("t_amounts", t), ("na", na)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return int(self.na.shape[0])

    @classmethod
    def from_compositions(
        cls, compositions: Iterable[NasiconComposition | str]
    ) -> CompositionArrays:
        """Arrays of parsed compositions (formula strings are parsed with ``parse_nasicon``)."""
        comps = [c if isinstance(c, NasiconComposition) else parse_nasicon(c) for c in compositions]
        species: dict[tuple[str, int], int] = {}
        for c in comps:
            for el in c.m_site:
                species.setdefault((el, int(c.oxidation_states[el])), len(species))
        m = np.zeros((len(comps), len(species)))
        t = np.zeros((len(comps), len(T_ELEMENTS)))
        na = np.zeros(len(comps))
        for i, c in enumerate(comps):
            for el, amount in c.m_site.items():
                m[i, species[(el, int(c.oxidation_states[el]))]] = amount
            for el, amount in c.t_site.items():
                t[i, T_ELEMENTS.index(el)] = amount
            na[i] = c.na
        return cls(tuple(species), m, t, na)


@cache
def _species_properties(element: str, state: int) -> tuple[float, float]:
    return shannon_radius_pm(element, state), pauling_electronegativity(element)


def _polyanion_charge(element: str) -> int:
    # |q| of a TO4 group: 4 O2- (-8) plus the T cation's oxidation state
    return int(2 * 4 - oxidation_state_table()[element][0])


def _weighted_std(x: np.ndarray, values: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum((x * (values[None, :] - mean[:, None]) ** 2).sum(axis=1), 0.0))


def compute_features(arrays: CompositionArrays, names: Sequence[str]) -> np.ndarray:
    """Feature matrix of compositions, one column per requested feature.

    Parameters
    ----------
    arrays : CompositionArrays
        The compositions.
    names : sequence of str
        Feature names (keys of :data:`FEATURE_DESCRIPTIONS`), in the wanted column order.

    Returns
    -------
    numpy.ndarray, shape (n, len(names)), float

    Raises
    ------
    FeatureError
        For an unknown feature name.
    ParameterError
        When a species has no tabulated Shannon radius or electronegativity.
    """
    names = resolve_features(list(names))
    n = len(arrays)
    props = np.array([_species_properties(el, q) for el, q in arrays.species]).reshape(-1, 2)
    radius, chi = props[:, 0], props[:, 1]
    valence = np.array([q for _, q in arrays.species], dtype=float)
    x = arrays.m_amounts / arrays.m_amounts.sum(axis=1, keepdims=True) if n else arrays.m_amounts
    present = x > 0
    r_mean = x @ radius
    chi_mean = x @ chi
    v_mean = x @ valence
    s_m = entr(x).sum(axis=1)
    r_std = _weighted_std(x, radius, r_mean)
    t_x = arrays.t_amounts / T_SITE_PER_FU
    q_t = np.array([_polyanion_charge(el) for el in T_ELEMENTS], dtype=float)
    q_mean = t_x @ q_t
    q_std = _weighted_std(t_x, q_t, q_mean)
    s_t = entr(t_x).sum(axis=1)
    occupancy = np.clip(arrays.na / NA_SITES_PER_FU, 0.0, 1.0)
    s_na = entr(occupancy) + entr(1.0 - occupancy)
    atoms = arrays.na + M_SITE_PER_FU + T_SITE_PER_FU + OXYGEN_PER_FU
    r_na, chi_na = _species_properties("Na", 1)
    big = np.inf
    columns = {
        "radius_pm": lambda: r_mean,
        "electronegativity": lambda: chi_mean,
        "valence": lambda: v_mean,
        "entropy_R": lambda: s_m,
        "delta_radius": lambda: r_std / r_mean,
        "na": lambda: arrays.na,
        "radius_std_pm": lambda: r_std,
        "radius_min_pm": lambda: np.where(present, radius[None, :], big).min(axis=1, initial=big),
        "radius_max_pm": lambda: np.where(present, radius[None, :], -big).max(axis=1, initial=-big),
        "electronegativity_std": lambda: _weighted_std(x, chi, chi_mean),
        "valence_std": lambda: _weighted_std(x, valence, v_mean),
        "n_m_cations": lambda: present.sum(axis=1).astype(float),
        "si_fraction": lambda: t_x[:, 0],
        "p_fraction": lambda: t_x[:, 1],
        "s_fraction": lambda: t_x[:, 2],
        "polyanion_charge": lambda: q_mean,
        "polyanion_charge_std": lambda: q_std,
        "t_entropy_R": lambda: s_t,
        "na_site_entropy_R": lambda: s_na,
        "config_entropy_per_atom_kB": lambda: (
            M_SITE_PER_FU * s_m + T_SITE_PER_FU * s_t + NA_SITES_PER_FU * s_na
        ) / atoms,
        "radius_ratio_na": lambda: r_mean / r_na,
        "electronegativity_diff_na": lambda: chi_mean - chi_na,
        "ouyang_x1": lambda: np.cbrt(arrays.na) + q_std**2,
    }
    out = np.empty((n, len(names)))
    for j, name in enumerate(names):
        out[:, j] = columns[name]()
    return out


class NasiconFeaturizer:
    """Formula-only features of NASICON compositions (matminer's featurizer contract).

    Parameters
    ----------
    features : str or sequence of str, default "study"
        A feature-set name of :data:`FEATURE_SETS` or a list of feature names.

    Examples
    --------
    >>> f = NasiconFeaturizer("study")
    >>> [round(v, 3) for v in f.featurize("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12")]
    [72.65, 1.368, 3.75, 1.04]
    >>> f.feature_labels()
    ['radius_pm', 'electronegativity', 'valence', 'entropy_R']
    """

    def __init__(self, features: str | Sequence[str] = "study") -> None:
        self.features = resolve_features(features)

    def featurize(self, composition: NasiconComposition | str) -> list[float]:
        """Features of one composition (a formula string is parsed first)."""
        return self.featurize_many([composition])[0].tolist()

    def featurize_many(self, compositions: Iterable[NasiconComposition | str]) -> np.ndarray:
        """Feature matrix, shape (n, n_features), of many compositions."""
        return compute_features(CompositionArrays.from_compositions(compositions), self.features)

    def feature_labels(self) -> list[str]:
        """Column names, in order."""
        return list(self.features)

    def citations(self) -> list[str]:
        """Where the descriptors and the tables behind them come from."""
        return [
            "D. Zuo et al., Energy Environ. Sci. 19 (2026) 860, doi:10.1039/d5ee06594a",
            "R. D. Shannon, Acta Cryst. A 32 (1976) 751",
            "B. Ouyang et al., Nat. Commun. 12 (2021) 5752, doi:10.1038/s41467-021-26006-3",
        ]

    def implementors(self) -> list[str]:
        """Who wrote this featurizer."""
        return ["nasicon-sim developers"]
