"""softBV bond-valence parameters: Morse pairs, principal quantum numbers, covalent radii.

The BVSE energy (Chen & Adams, IUCrJ 4 (2017) 614; Chen, Wong & Adams, Acta Cryst. B 75 (2019)
18) needs, for a mobile ion A:

* for every counter-ion X of opposite sign, the Morse parameters of the A-X pair
  (``r_min_A``, ``alpha_per_A`` = 1/b, ``d0_eV``; ``r0_A`` is the bond-valence R0);
* for every framework ion B of the same sign, its principal quantum number n (effective
  charge V / sqrt(n)) and its covalent radius (screening length f (r_A + r_B)).

The tables are plain text in ``nasicon_sim/bvse/data/`` with their source, version and the
checksums of the files they were converted from (``tools/convert_bvlain_tables.py``). They are
read once, by :func:`load_tables`. Covalent radii come either from the softBV table (per element
and valence) or from ASE (``ase.data.covalent_radii``, Cordero et al., Dalton Trans. (2008) 2832),
which is bvlain's default. A missing combination raises :class:`~nasicon_sim.errors.ParameterError`
naming it.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from nasicon_sim.errors import ParameterError

__all__ = [
    "RADII_SOURCES",
    "MorsePair",
    "ParameterTables",
    "covalent_radius",
    "format_ion",
    "load_tables",
    "morse_pair",
    "principal_quantum_number",
]

#: Accepted values of the ``radii`` option: ``"ase"`` (bvlain's default) or ``"softbv"``.
RADII_SOURCES: tuple[str, ...] = ("ase", "softbv")

_DATA_FILES = ("softbv_pairs.csv", "principal_quantum_numbers.csv", "softbv_covalent_radii.csv")


def format_ion(element: str, valence: float) -> str:
    """Human-readable ion name, e.g. ``format_ion("O", -2) == "O2-"``.

    >>> format_ion("Na", 1), format_ion("O", -2), format_ion("Ce", 3.5)
    ('Na+', 'O2-', 'Ce3.5+')
    """
    sign = "+" if valence >= 0 else "-"
    mag = abs(valence)
    mag_s = "" if mag == 1 else (f"{int(mag)}" if float(mag).is_integer() else f"{mag:g}")
    return f"{element}{mag_s}{sign}"


@dataclass(frozen=True)
class MorsePair:
    """Morse parameters of one cation-anion pair of the softBV table.

    Attributes
    ----------
    cation, anion : str
        Element symbols.
    cation_valence, anion_valence : int
        Formal oxidation states (cation > 0, anion < 0).
    r0_A : float
        Bond-valence parameter R0 (Angstrom).
    r_min_A : float
        Distance of the Morse minimum (Angstrom).
    alpha_per_A : float
        Morse steepness alpha = 1/b (1/Angstrom).
    d0_eV : float
        Morse well depth D0 (eV).
    """

    cation: str
    cation_valence: int
    anion: str
    anion_valence: int
    r0_A: float
    r_min_A: float
    alpha_per_A: float
    d0_eV: float


@dataclass(frozen=True)
class ParameterTables:
    """The parameter tables as loaded from ``nasicon_sim/bvse/data``.

    Attributes
    ----------
    pairs : Mapping[tuple[str, int, str, int], MorsePair]
        Keyed by (cation, cation valence, anion, anion valence).
    quantum_numbers : Mapping[str, int]
        Principal quantum number per element.
    softbv_radii : Mapping[tuple[str, int], float]
        softBV covalent radius (Angstrom) per (element, valence).
    versions : Mapping[str, str]
        Data file name -> its ``# version:`` line (recorded in results).
    suspicious : frozenset of tuple
        Pairs transcribed with a non-positive parameter; :func:`morse_pair` refuses them.
    """

    pairs: Mapping[tuple[str, int, str, int], MorsePair]
    quantum_numbers: Mapping[str, int]
    softbv_radii: Mapping[tuple[str, int], float]
    versions: Mapping[str, str]
    suspicious: frozenset


def _read_table(name: str) -> tuple[list[dict[str, str]], str]:
    text = resources.files("nasicon_sim.bvse").joinpath(f"data/{name}").read_text()
    version = ""
    for line in text.splitlines():
        if line.startswith("# version:"):
            version = line.split(":", 1)[1].strip()
            break
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    return rows, version


@lru_cache(maxsize=1)
def load_tables() -> ParameterTables:
    """Read the softBV parameter tables (once per process).

    Returns
    -------
    ParameterTables

    Examples
    --------
    >>> p = load_tables().pairs[("Na", 1, "O", -2)]
    >>> p.r_min_A, p.alpha_per_A, p.d0_eV
    (2.374335, 2.074689, 0.575227)
    """
    pair_rows, v_pairs = _read_table(_DATA_FILES[0])
    pairs = {}
    suspicious = set()
    for r in pair_rows:
        key = (r["cation"], int(r["cation_valence"]), r["anion"], int(r["anion_valence"]))
        pair = MorsePair(key[0], key[1], key[2], key[3], float(r["r0_A"]), float(r["r_min_A"]),
                         float(r["alpha_per_A"]), float(r["d0_eV"]))
        if min(pair.r_min_A, pair.alpha_per_A, pair.d0_eV) <= 0:
            suspicious.add(key)
        pairs[key] = pair
    qn_rows, v_qn = _read_table(_DATA_FILES[1])
    rad_rows, v_rad = _read_table(_DATA_FILES[2])
    return ParameterTables(
        pairs=MappingProxyType(pairs),
        quantum_numbers=MappingProxyType({r["element"]: int(r["n"]) for r in qn_rows}),
        softbv_radii=MappingProxyType(
            {(r["element"], int(r["valence"])): float(r["radius_A"]) for r in rad_rows}),
        versions=MappingProxyType(dict(zip(_DATA_FILES, (v_pairs, v_qn, v_rad)))),
        suspicious=frozenset(suspicious),
    )


def _integer_valence(element: str, valence: float) -> int:
    if not float(valence).is_integer():
        raise ParameterError(
            f"the softBV tables need integer oxidation states; {element} has {valence:g}"
        )
    return int(valence)


def morse_pair(ion: str, valence: float, counter: str, counter_valence: float) -> MorsePair:
    """Morse parameters of the pair (ion, counter-ion), in either order of cation and anion.

    Parameters
    ----------
    ion, counter : str
        Element symbols, e.g. ``"Na"`` and ``"O"``.
    valence, counter_valence : int
        Oxidation states; they must have opposite signs.

    Returns
    -------
    MorsePair

    Raises
    ------
    ParameterError
        The pair is not in the softBV table (the message names it), its valences are not
        integers of opposite sign, or its tabulated parameters are not usable.

    Examples
    --------
    >>> morse_pair("O", -2, "Na", 1).d0_eV
    0.575227
    """
    v1 = _integer_valence(ion, valence)
    v2 = _integer_valence(counter, counter_valence)
    if v1 * v2 >= 0:
        raise ParameterError(
            f"no Morse pair between {format_ion(ion, v1)} and {format_ion(counter, v2)}: "
            "the valences must have opposite signs"
        )
    key = (ion, v1, counter, v2) if v1 > 0 else (counter, v2, ion, v1)
    tables = load_tables()
    try:
        pair = tables.pairs[key]
    except KeyError:
        raise ParameterError(
            f"no softBV bond-valence parameters for the pair {format_ion(key[0], key[1])} - "
            f"{format_ion(key[2], key[3])} (check the oxidation states, or use --oxi)"
        ) from None
    if key in tables.suspicious:
        raise ParameterError(
            f"the softBV table entry for {format_ion(key[0], key[1])} - "
            f"{format_ion(key[2], key[3])} has a non-positive parameter and is not used"
        )
    return pair


def principal_quantum_number(element: str) -> int:
    """Principal quantum number n of an element (softBV effective charge V / sqrt(n)).

    Raises
    ------
    ParameterError
        The element is not in the table.

    >>> principal_quantum_number("Zr")
    5
    """
    try:
        return load_tables().quantum_numbers[element]
    except KeyError:
        raise ParameterError(f"no principal quantum number tabulated for {element}") from None


def covalent_radius(element: str, valence: float, source: str = "ase") -> float:
    """Covalent radius (Angstrom) used in the Coulomb screening length.

    Parameters
    ----------
    element : str
        Element symbol.
    valence : int
        Oxidation state (used by the softBV table only).
    source : {"ase", "softbv"}
        ``"ase"``: Cordero et al. (2008) via :data:`ase.data.covalent_radii`, bvlain's default;
        ``"softbv"``: the softBV table per element and valence (Chen, Wong & Adams 2019).

    Raises
    ------
    ParameterError
        Unknown source, element or (element, valence).

    >>> covalent_radius("Zr", 4, "ase"), covalent_radius("Zr", 4, "softbv")
    (1.75, 1.41)
    """
    if source == "ase":
        from ase.data import atomic_numbers, covalent_radii

        z = atomic_numbers.get(element)
        r = float(covalent_radii[z]) if z is not None else math.nan
        if not math.isfinite(r) or r <= 0:
            raise ParameterError(f"ASE has no covalent radius for {element}")
        return r
    if source == "softbv":
        v = _integer_valence(element, valence)
        try:
            return load_tables().softbv_radii[(element, v)]
        except KeyError:
            raise ParameterError(
                f"no softBV covalent radius for {format_ion(element, v)}"
            ) from None
    raise ParameterError(f"unknown covalent-radius source {source!r}; use one of {RADII_SOURCES}")
