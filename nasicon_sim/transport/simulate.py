"""Run kMC on a lattice at several temperatures: observables, errors, Arrhenius fit.

Observables (Deng et al., Nat. Commun. 13 (2022) 4470; kmcpy), from each production block of
``hops_per_block`` hops with duration t_b, N mobile ions, displacements dr_k of ion k:

* tracer diffusivity ``D* = sum_k |dr_k|^2 / (6 N t_b)``;
* jump (charge) diffusivity ``D_sigma = |sum_k dr_k|^2 / (6 N t_b)`` (centre of mass);
* Haven ratio ``H_R = D* / D_sigma``; correlation factor ``f = sum_k |dr_k|^2 / sum_hops a^2``;
* conductivity ``sigma = n q^2 D_sigma / (k_B T)``, ``n = N / V`` with V the determinant of the
  supercell (right for monoclinic cells);
* time-averaged site occupancy per parent label.

Each value is the mean over all blocks of all independent runs; its error is the standard error
of that mean (blocks are long compared to the back-hop correlation; ratios by jackknife over
blocks). Runs start from independent canonical Metropolis equilibrations at the temperature.
The Arrhenius fit ``sigma T = A exp(-Ea / k_B T)`` is a weighted least-squares line through
ln(sigma T) against 1/(k_B T) (:func:`scipy.optimize.curve_fit`, absolute errors), giving Ea,
ln A and sigma(25 C) with errors from the fit covariance.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from nasicon_sim.errors import NasiconSimError
from nasicon_sim.transport import kernel
from nasicon_sim.transport.lattice import KMCLattice
from nasicon_sim.units import BOLTZMANN_EV_K

__all__ = [
    "ArrheniusFit",
    "KMCSettings",
    "TemperaturePoint",
    "TransportResult",
    "arrhenius_fit",
    "simulate",
]

logger = logging.getLogger(__name__)

#: Elementary charge (C), CODATA 2018 (exact).
ELEMENTARY_CHARGE_C = 1.602176634e-19
#: Boltzmann constant (J/K), CODATA 2018 (exact).
BOLTZMANN_J_K = 1.380649e-23
#: 25 C in K.
ROOM_TEMPERATURE_K = 298.15
#: Default attempt frequency (Hz): Deng et al., Nat. Commun. 13 (2022) 4470 (Methods).
ATTEMPT_FREQUENCY_HZ = 5e12
#: A temperature point counts as converged when the ions' mean squared displacement per
#: block is at least this many mean squared hop lengths (each ion has on average left its
#: starting site for good); below it the blocks hold mostly back-and-forth hops and D is not
#: measured (more passes are needed).
CONVERGED_MSD_HOPS = 2.0


@dataclass(frozen=True)
class KMCSettings:
    """Everything that decides a kMC result besides the lattice.

    Attributes
    ----------
    temperatures_K : tuple of float
    passes : int
        Production passes per run; one pass = N hops (each ion hops once on average).
    equilibration_passes : int
        Metropolis attempts per ion before production.
    runs : int
        Independent runs per temperature.
    blocks : int
        Production blocks per run (statistics are over blocks).
    seed : int
    attempt_frequency_Hz : float
        nu0 (default 5e12 Hz, Deng 2022).
    interaction_scale : float
        Multiplies the BVSE Na-Na screened-Coulomb repulsion (0: none).
    blocking_distance_A : float
        Sites closer than this exclude each other (default 2.5 A,
        :data:`nasicon_sim.structure.na_contacts.NA_MIN_DISTANCE_A`).
    tail_tolerance_eV : float
        Bound on the neglected tail of the interaction field.
    min_length_A : float
        The kMC supercell is the smallest repetition of the structure's cell with all
        face-to-face widths at least this (and at least twice the interaction reach).
    supercell : tuple of 3 ints or None
        Explicit repetition instead of ``min_length_A``.
    barrier_table : tuple of (str, float) or None
        E_KRA (eV) per hop type replacing the BVSE values, e.g. (("Na1-Na3", 0.3),).
    kra_floor_eV : float
        Raise every E_KRA below this to it (0: off). An acceleration for stiff networks,
        where ions rattle over low barriers while long-range motion needs higher ones: E_KRA
        is symmetric, so site occupancies at equilibrium do not change, and sigma does not
        as long as the raised hops stay much faster than the rate-limiting ones (the error
        falls as exp(-(E_limiting - floor) / k_B T)). It is an approximation to be checked:
        sigma must not move when the floor is lowered (rate-constant scaling of fast
        reversible events: Chatterjee & Voter, J. Chem. Phys. 132 (2010) 194101; Dybeck,
        Plaisance & Neurock, J. Chem. Theory Comput. 13 (2017) 1525).
    workers : int
        Processes for the independent runs (1: in this process).
    """

    temperatures_K: tuple[float, ...] = (373.0, 473.0, 573.0)
    passes: int = 1000
    equilibration_passes: int = 200
    runs: int = 4
    blocks: int = 25
    seed: int = 0
    attempt_frequency_Hz: float = ATTEMPT_FREQUENCY_HZ
    interaction_scale: float = 1.0
    blocking_distance_A: float = 2.5
    tail_tolerance_eV: float = 1e-3
    min_length_A: float = 20.0
    supercell: tuple[int, int, int] | None = None
    barrier_table: tuple[tuple[str, float], ...] | None = None
    kra_floor_eV: float = 0.0
    workers: int = field(default=1, compare=False)

    def __post_init__(self) -> None:
        temps = tuple(float(t) for t in self.temperatures_K)
        if not temps or any(not (math.isfinite(t) and t > 0) for t in temps):
            raise NasiconSimError(f"--temperatures must be positive kelvin values, got {temps}")
        object.__setattr__(self, "temperatures_K", temps)
        for name in ("passes", "runs", "blocks", "workers"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise NasiconSimError(f"--{name} must be a positive integer, got {v!r}")
        if not isinstance(self.equilibration_passes, (int, np.integer)) \
                or self.equilibration_passes < 0:
            raise NasiconSimError("--equilibration-passes must be >= 0, got "
                                  f"{self.equilibration_passes!r}")
        if self.passes < self.blocks:
            raise NasiconSimError(f"--passes ({self.passes}) must be at least the number of "
                                  f"blocks ({self.blocks})")
        flags = {"attempt_frequency_Hz": "--attempt-frequency", "min_length_A": "--min-length",
                 "tail_tolerance_eV": "tail_tolerance_eV",
                 "interaction_scale": "--interaction-scale",
                 "blocking_distance_A": "--blocking-distance", "kra_floor_eV": "--kra-floor"}
        for name in ("attempt_frequency_Hz", "min_length_A", "tail_tolerance_eV"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise NasiconSimError(f"{flags[name]} must be a positive number, got {v!r}")
        for name in ("interaction_scale", "blocking_distance_A", "kra_floor_eV"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise NasiconSimError(f"{flags[name]} must be a non-negative number, got {v!r}")
        if self.supercell is not None:
            sc = tuple(int(x) for x in self.supercell)
            if len(sc) != 3 or min(sc) < 1:
                raise NasiconSimError(f"--supercell must be three positive integers, got {sc}")
            object.__setattr__(self, "supercell", sc)
        if self.barrier_table is not None:
            bt = self.barrier_table
            items = bt.items() if isinstance(bt, dict) else bt
            object.__setattr__(self, "barrier_table",
                               tuple(sorted((str(k), float(v)) for k, v in items)))

    #: Fields that do not change results.
    NON_PHYSICAL_FIELDS = ("workers",)

    def as_dict(self, physical_only: bool = False) -> dict:
        """JSON-able dict (``physical_only`` drops :attr:`NON_PHYSICAL_FIELDS`)."""
        d = asdict(self)
        d["temperatures_K"] = list(self.temperatures_K)
        d["supercell"] = None if self.supercell is None else list(self.supercell)
        d["barrier_table"] = None if self.barrier_table is None else dict(self.barrier_table)
        if physical_only:
            for k in self.NON_PHYSICAL_FIELDS:
                d.pop(k)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> KMCSettings:
        """Inverse of :meth:`as_dict`; unknown keys are an error naming them."""
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise NasiconSimError(f"unknown kmc settings: {', '.join(unknown)}")
        d = dict(data)
        if d.get("temperatures_K") is not None:
            d["temperatures_K"] = tuple(d["temperatures_K"])
        if d.get("supercell") is not None:
            d["supercell"] = tuple(d["supercell"])
        return cls(**d)


@dataclass(frozen=True)
class TemperaturePoint:
    """Observables at one temperature (errors: standard errors of the mean).

    Diffusivities in cm^2/s, conductivity in S/cm, times in s. ``occupancy`` maps a parent
    label to (mean fraction of its sites occupied, error). ``D_sigma_xyz_cm2_s`` are the
    Cartesian diagonal components <(sum dx)^2> / (2 N t) (their mean is D_sigma).
    ``msd_per_block_hops`` is the ions' mean squared displacement per block in units of the
    mean squared hop length; ``converged`` is False below :data:`CONVERGED_MSD_HOPS` (the
    point is then left out of the Arrhenius fit).
    """

    temperature_K: float
    D_tracer_cm2_s: float
    D_tracer_err_cm2_s: float
    D_sigma_cm2_s: float
    D_sigma_err_cm2_s: float
    haven_ratio: float | None
    haven_ratio_err: float | None
    correlation_factor: float | None
    correlation_factor_err: float | None
    sigma_S_cm: float
    sigma_err_S_cm: float
    occupancy: dict
    n_hops: int
    n_blocks: int
    simulated_time_s: float
    wall_s: float
    D_sigma_xyz_cm2_s: tuple[float, float, float] = (0.0, 0.0, 0.0)
    D_sigma_xyz_err_cm2_s: tuple[float, float, float] = (0.0, 0.0, 0.0)
    msd_per_block_hops: float | None = None
    converged: bool = True

    def as_dict(self) -> dict:
        """JSON-able dict."""
        d = asdict(self)
        d["occupancy"] = {k: list(v) for k, v in self.occupancy.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TemperaturePoint:
        """Inverse of :meth:`as_dict`."""
        d = dict(d)
        d["occupancy"] = {k: tuple(v) for k, v in d["occupancy"].items()}
        for k in ("D_sigma_xyz_cm2_s", "D_sigma_xyz_err_cm2_s"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


@dataclass(frozen=True)
class ArrheniusFit:
    """``sigma T = A exp(-Ea / k_B T)`` fitted to the temperature points.

    Attributes
    ----------
    Ea_eV, Ea_err_eV : float
    ln_prefactor, ln_prefactor_err : float
        ln(A / (S K / cm)).
    sigma_25C_S_cm, sigma_25C_err_S_cm : float
        Extrapolated to 298.15 K (linear error propagation).
    log10_sigma_25C, log10_sigma_25C_err : float
    chi2 : float
        Weighted residual sum of squares (``dof`` degrees of freedom).
    dof : int
    """

    Ea_eV: float
    Ea_err_eV: float
    ln_prefactor: float
    ln_prefactor_err: float
    sigma_25C_S_cm: float
    sigma_25C_err_S_cm: float
    log10_sigma_25C: float
    log10_sigma_25C_err: float
    chi2: float
    dof: int


def arrhenius_fit(temperatures_K, sigma, sigma_err) -> ArrheniusFit | None:
    """Weighted fit of ln(sigma T) against 1/(k_B T); None with fewer than 2 usable points.

    >>> T = np.array([373.0, 473.0, 573.0])
    >>> s = 1e5 / T * np.exp(-0.4 / (BOLTZMANN_EV_K * T))
    >>> round(arrhenius_fit(T, s, 0.05 * s).Ea_eV, 6)
    0.4
    """
    from scipy.optimize import curve_fit

    t = np.asarray(temperatures_K, float)
    s = np.asarray(sigma, float)
    se = np.asarray(sigma_err, float)
    ok = (s > 0) & np.isfinite(s) & (se > 0)
    if ok.sum() < 2:
        return None
    x = 1.0 / (BOLTZMANN_EV_K * t[ok])
    y = np.log(s[ok] * t[ok])
    ye = se[ok] / s[ok]

    def line(xx, ln_a, ea):
        return ln_a - ea * xx

    p0 = np.polyfit(x, y, 1)
    popt, pcov = curve_fit(line, x, y, p0=(p0[1], -p0[0]), sigma=ye, absolute_sigma=True)
    ln_a, ea = (float(v) for v in popt)
    if ok.sum() == 2:  # exact line: covariance from the two points' errors
        jac = np.array([[1.0, -x[0]], [1.0, -x[1]]])
        inv = np.linalg.inv(jac)
        pcov = inv @ np.diag(ye**2) @ inv.T
    chi2 = float(np.sum(((y - line(x, ln_a, ea)) / ye) ** 2))
    x25 = 1.0 / (BOLTZMANN_EV_K * ROOM_TEMPERATURE_K)
    y25 = ln_a - ea * x25
    g = np.array([1.0, -x25])
    var25 = float(g @ pcov @ g)
    s25 = math.exp(y25) / ROOM_TEMPERATURE_K
    sd = math.sqrt(max(var25, 0.0))
    return ArrheniusFit(
        Ea_eV=ea, Ea_err_eV=math.sqrt(max(pcov[1, 1], 0.0)), ln_prefactor=ln_a,
        ln_prefactor_err=math.sqrt(max(pcov[0, 0], 0.0)), sigma_25C_S_cm=s25,
        sigma_25C_err_S_cm=s25 * sd, log10_sigma_25C=math.log10(s25),
        log10_sigma_25C_err=sd / math.log(10.0), chi2=chi2, dof=int(ok.sum()) - 2)


@dataclass(frozen=True)
class TransportResult:
    """kMC transport of one structure: per-temperature observables and the Arrhenius fit.

    Attributes
    ----------
    settings : KMCSettings
    n_mobile, n_sites : int
        Ions and sites in the kMC supercell.
    supercell : tuple of 3 ints
        Repetition of the structure's cell.
    volume_A3 : float
        kMC supercell volume.
    points : tuple of TemperaturePoint
    arrhenius : ArrheniusFit or None
    reason : str or None
        Why sigma = 0, when it is (a full lattice, no hops): not an error.
    hops_per_second : float
        kMC hops per wall-clock second of the production loops.
    hop_types : dict
        E_KRA (eV) and number of links per hop type.
    interaction : dict
        The Na-Na pair model in use.
    notes : tuple of str
        Caveats (temperatures that did not converge and were left out of the fit).
    """

    settings: KMCSettings
    n_mobile: int
    n_sites: int
    supercell: tuple[int, int, int]
    volume_A3: float
    points: tuple[TemperaturePoint, ...]
    arrhenius: ArrheniusFit | None
    reason: str | None
    hops_per_second: float
    hop_types: dict
    interaction: dict
    metadata: dict = field(default_factory=dict, compare=False)
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        """JSON-able dict with per-temperature lists and the fit."""
        pts = self.points
        a = self.arrhenius

        def col(name):
            return [getattr(p, name) for p in pts]

        return {
            "temperatures_K": col("temperature_K"),
            "sigma_S_cm": col("sigma_S_cm"), "sigma_err_S_cm": col("sigma_err_S_cm"),
            "D_tracer_cm2_s": col("D_tracer_cm2_s"),
            "D_tracer_err_cm2_s": col("D_tracer_err_cm2_s"),
            "D_sigma_cm2_s": col("D_sigma_cm2_s"), "D_sigma_err_cm2_s": col("D_sigma_err_cm2_s"),
            "haven_ratio": col("haven_ratio"), "haven_ratio_err": col("haven_ratio_err"),
            "correlation_factor": col("correlation_factor"),
            "correlation_factor_err": col("correlation_factor_err"),
            "occupancy": [p.occupancy for p in pts],
            "Ea_eV": None if a is None else a.Ea_eV,
            "Ea_err_eV": None if a is None else a.Ea_err_eV,
            "sigma_25C_S_cm": None if a is None else a.sigma_25C_S_cm,
            "sigma_25C_err_S_cm": None if a is None else a.sigma_25C_err_S_cm,
            "log10_sigma_25C": None if a is None else a.log10_sigma_25C,
            "log10_sigma_25C_err": None if a is None else a.log10_sigma_25C_err,
            "arrhenius": None if a is None else asdict(a),
            "n_mobile": self.n_mobile, "n_sites": self.n_sites,
            "supercell": list(self.supercell), "volume_A3": self.volume_A3,
            "hops_per_second": self.hops_per_second, "reason": self.reason,
            "converged": [p.converged for p in pts], "notes": list(self.notes),
            "hop_types": self.hop_types, "interaction": self.interaction,
            "points": [p.as_dict() for p in pts],
            "settings": self.settings.as_dict(), "metadata": self.metadata,
        }


# --------------------------------------------------------------------------- arrays


@dataclass(frozen=True)
class _Arrays:
    eps: np.ndarray
    nb_start: np.ndarray
    nb_j: np.ndarray
    nb_v: np.ndarray
    nb_blk: np.ndarray
    out_start: np.ndarray
    out_e: np.ndarray
    in_start: np.ndarray
    in_e: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    vec: np.ndarray
    kra: np.ndarray
    v_hop: np.ndarray
    b_hop: np.ndarray


def _csr(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    start = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=start[1:])
    return start, order.astype(np.int64)


def _arrays(lat: KMCLattice, kra_floor_eV: float = 0.0) -> _Arrays:
    n = lat.n_sites
    nb_start, order = _csr(lat.pair_i, n)
    nb_j = lat.pair_j[order].astype(np.int64)
    nb_v = lat.pair_v_eV[order].astype(float)
    nb_blk = lat.pair_blocked[order].astype(np.int64)
    out_start, out_e = _csr(lat.hop_src, n)
    in_start, in_e = _csr(lat.hop_dst, n)
    pair_lookup = {(int(i), int(j)): (float(v), int(b)) for i, j, v, b in
                   zip(lat.pair_i, lat.pair_j, lat.pair_v_eV, lat.pair_blocked)}
    vb = [pair_lookup.get((int(i), int(j)), (0.0, 0)) for i, j in zip(lat.hop_src, lat.hop_dst)]
    v_hop = np.array([x[0] for x in vb], float)
    b_hop = np.array([x[1] for x in vb], np.int64)
    return _Arrays(np.ascontiguousarray(lat.site_energy_eV, float), nb_start, nb_j, nb_v, nb_blk,
                   out_start, out_e, in_start, in_e, lat.hop_src.astype(np.int64),
                   lat.hop_dst.astype(np.int64), np.ascontiguousarray(lat.hop_vec_A, float),
                   np.maximum(lat.hop_kra_eV.astype(float), float(kra_floor_eV)), v_hop, b_hop)


def _initial_occupation(lat: KMCLattice, arr: _Arrays, rng: np.random.Generator) -> np.ndarray:
    """A starting arrangement that respects blocking: the structure's own, else random."""
    n = lat.n_sites
    blocked_nb = [arr.nb_j[arr.nb_start[s]:arr.nb_start[s + 1]][
        arr.nb_blk[arr.nb_start[s]:arr.nb_start[s + 1]] == 1] for s in range(n)]
    occ = np.zeros(n, np.int8)
    if lat.occupied is not None and len(lat.occupied) == lat.n_mobile:
        occ[lat.occupied] = 1
        if all(not occ[blocked_nb[s]].any() for s in lat.occupied):
            return occ
        occ[:] = 0
    for _attempt in range(20):
        occ[:] = 0
        placed = 0
        for s in rng.permutation(n):
            if placed == lat.n_mobile:
                break
            if not occ[blocked_nb[s]].any():
                occ[s] = 1
                placed += 1
        if placed == lat.n_mobile:
            return occ
    raise NasiconSimError(
        f"could not place {lat.n_mobile} ions on {n} sites with no two closer than the "
        f"blocking distance {lat.interaction.get('blocking_distance_A')} A; lower "
        "--blocking-distance")


@dataclass(frozen=True)
class _Task:
    lattice: KMCLattice
    temperature_K: float
    seed: int
    settings: KMCSettings


def _run_task(task: _Task) -> dict:
    """One independent run at one temperature (module level: picklable for worker pools)."""
    lat, s = task.lattice, task.settings
    arr = _arrays(lat, s.kra_floor_eV)
    rng = np.random.default_rng(task.seed)
    occ = _initial_occupation(lat, arr, rng)
    n = lat.n_sites
    ion_site = np.flatnonzero(occ).astype(np.int64)
    vac = np.flatnonzero(occ == 0).astype(np.int64)
    ion_at = np.full(n, -1, np.int64)
    ion_at[ion_site] = np.arange(len(ion_site))
    slot = np.zeros(n, np.int64)
    slot[ion_site] = np.arange(len(ion_site))
    slot[vac] = np.arange(len(vac))
    phi = np.zeros(n)
    nblk = np.zeros(n, np.int64)
    kernel.initial_fields(occ, arr.nb_start, arr.nb_j, arr.nb_v, arr.nb_blk, phi, nblk)
    beta = 1.0 / (BOLTZMANN_EV_K * task.temperature_K)
    seeds = rng.integers(0, 2**31 - 1, size=2)
    t0 = time.perf_counter()
    kernel.equilibrate(int(s.equilibration_passes * len(ion_site)), beta, int(seeds[0]),
                       arr.eps, occ, ion_at, ion_site, vac, slot, arr.nb_start, arr.nb_j,
                       arr.nb_v, arr.nb_blk, phi, nblk)
    t1 = time.perf_counter()
    hops_per_block = max(1, (s.passes * len(ion_site)) // s.blocks)
    bt = np.zeros(s.blocks)
    btr = np.zeros(s.blocks)
    bco = np.zeros(s.blocks)
    bh2 = np.zeros(s.blocks)
    bxyz = np.zeros((s.blocks, 3))
    occ_time = np.zeros(n)
    disp = np.zeros((len(ion_site), 3))
    done = kernel.run_blocks(s.blocks, hops_per_block, beta, s.attempt_frequency_Hz,
                             int(seeds[1]), arr.eps, occ, ion_at, ion_site, vac, slot,
                             arr.nb_start, arr.nb_j, arr.nb_v, arr.nb_blk, phi, nblk,
                             arr.out_start, arr.out_e, arr.in_start, arr.in_e, arr.src, arr.dst,
                             arr.vec, arr.kra, arr.v_hop, arr.b_hop, disp, occ_time, bt, btr,
                             bco, bh2, bxyz)
    t2 = time.perf_counter()
    return {"blocks_done": int(done), "time": bt, "tracer": btr, "coll": bco, "hop2": bh2,
            "coll_xyz": bxyz,
            "occ_time": occ_time, "total_time": float(bt.sum()), "n_hops": int(done) * hops_per_block,
            "wall_equil": t1 - t0, "wall_kmc": t2 - t1}


# --------------------------------------------------------------------------- statistics


def _mean_sem(x: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, float)
    if len(x) < 2:
        return float(x.mean()) if len(x) else 0.0, float("nan")
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))


def _jackknife_ratio(num: np.ndarray, den: np.ndarray) -> tuple[float | None, float | None]:
    """Ratio of sums and its jackknife standard error (None when the denominator is 0)."""
    sn, sd = float(num.sum()), float(den.sum())
    if sd <= 0:
        return None, None
    n = len(num)
    if n < 2:
        return sn / sd, None
    loo = (sn - num) / np.where(sd - den > 0, sd - den, np.nan)
    err = math.sqrt((n - 1) / n * float(np.nansum((loo - np.nanmean(loo)) ** 2)))
    return sn / sd, err


def _point(lat: KMCLattice, temp: float, runs: list[dict], wall: float) -> TemperaturePoint:
    n_ion = lat.n_mobile
    t = np.concatenate([r["time"][: r["blocks_done"]] for r in runs])
    tr = np.concatenate([r["tracer"][: r["blocks_done"]] for r in runs])
    co = np.concatenate([r["coll"][: r["blocks_done"]] for r in runs])
    h2 = np.concatenate([r["hop2"][: r["blocks_done"]] for r in runs])
    cxyz = np.concatenate([r["coll_xyz"][: r["blocks_done"]] for r in runs])
    a2s_to_cm2s = 1e-16
    good = t > 0
    d_tr = np.where(good, tr / (6.0 * n_ion * np.where(good, t, 1.0)), 0.0) * a2s_to_cm2s
    d_co = np.where(good, co / (6.0 * n_ion * np.where(good, t, 1.0)), 0.0) * a2s_to_cm2s
    d_xyz = np.where(good[:, None], cxyz / (2.0 * n_ion * np.where(good, t, 1.0)[:, None]),
                     0.0) * a2s_to_cm2s
    dxyz = tuple(_mean_sem(d_xyz[:, c]) for c in range(3)) if len(t) else ((0.0, 0.0),) * 3
    dt, dte = _mean_sem(d_tr) if len(t) else (0.0, 0.0)
    ds, dse = _mean_sem(d_co) if len(t) else (0.0, 0.0)
    haven, haven_err = _jackknife_ratio(d_tr, d_co) if len(t) else (None, None)
    corr, corr_err = _jackknife_ratio(tr, h2) if len(t) else (None, None)
    a2 = float(h2.sum() / max(1, sum(r["n_hops"] for r in runs)))  # mean squared hop length
    msd_hops = float(tr.mean() / n_ion / a2) if len(t) and a2 > 0 else None
    n_cm3 = n_ion / (lat.volume_A3 * 1e-24)
    factor = n_cm3 * ELEMENTARY_CHARGE_C**2 / (BOLTZMANN_J_K * temp)
    labels = np.array(lat.labels)
    occ: dict[str, tuple[float, float]] = {}
    for name in lat.label_names:
        mask = labels == name
        vals = [r["occ_time"][mask].mean() / r["total_time"] for r in runs if r["total_time"] > 0]
        m, e = _mean_sem(np.array(vals)) if vals else (float("nan"), float("nan"))
        occ[name] = (m, e)

    def fin(x):
        return None if x is None or not math.isfinite(x) else float(x)

    return TemperaturePoint(
        temperature_K=float(temp), D_tracer_cm2_s=dt, D_tracer_err_cm2_s=dte,
        D_sigma_cm2_s=ds, D_sigma_err_cm2_s=dse, haven_ratio=fin(haven),
        haven_ratio_err=fin(haven_err), correlation_factor=fin(corr),
        correlation_factor_err=fin(corr_err), sigma_S_cm=factor * ds,
        sigma_err_S_cm=factor * dse, occupancy=occ,
        D_sigma_xyz_cm2_s=tuple(x[0] for x in dxyz),
        D_sigma_xyz_err_cm2_s=tuple(x[1] for x in dxyz),
        msd_per_block_hops=msd_hops,
        converged=bool(msd_hops is not None and msd_hops >= CONVERGED_MSD_HOPS),
        n_hops=int(sum(r["n_hops"] for r in runs)), n_blocks=int(len(t)),
        simulated_time_s=float(sum(r["total_time"] for r in runs)), wall_s=float(wall))


def _zero_point(lat: KMCLattice, temp: float) -> TemperaturePoint:
    occ = {name: (lat.n_mobile / lat.n_sites if lat.n_sites else 0.0, 0.0)
           for name in lat.label_names}
    return TemperaturePoint(float(temp), 0.0, 0.0, 0.0, 0.0, None, None, None, None, 0.0, 0.0,
                            occ, 0, 0, 0.0, 0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))


def _static_reason(lat: KMCLattice) -> str | None:
    if lat.n_mobile == 0:
        return "no mobile ions in the structure"
    if lat.n_mobile == lat.n_sites:
        return (f"every site is occupied ({lat.n_mobile} ions on {lat.n_sites} sites): no hop "
                "is possible")
    if len(lat.hop_src) == 0:
        return "the migration network has no links below its energy cap: no hop is possible"
    return None


def lattice_key(lat: KMCLattice, settings: KMCSettings) -> str:
    """Content hash of a lattice and the physical settings (for checkpoints)."""
    h = hashlib.sha256()
    for a in (lat.lattice, lat.frac, lat.site_energy_eV, lat.hop_src, lat.hop_dst, lat.hop_kra_eV,
              lat.pair_i, lat.pair_j, lat.pair_v_eV, lat.pair_blocked):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(str(lat.n_mobile).encode())
    h.update(json.dumps(settings.as_dict(physical_only=True), sort_keys=True).encode())
    return h.hexdigest()[:20]


def _load_checkpoint(path: Path, key: str) -> dict[float, TemperaturePoint]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if data.get("key") != key:
        return {}
    return {float(p["temperature_K"]): TemperaturePoint.from_dict(p) for p in data["points"]}


def simulate(
    lattice: KMCLattice,
    settings: KMCSettings | None = None,
    checkpoint: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> TransportResult:
    """kMC at every temperature of the settings: observables with errors and the Arrhenius fit.

    Parameters
    ----------
    lattice : KMCLattice
    settings : KMCSettings, optional
    checkpoint : path, optional
        JSON file keeping finished temperatures (written atomically after each); a rerun with
        the same lattice and settings reuses them.
    progress : callable, optional
        Called with a short line after each run.

    Returns
    -------
    TransportResult
        sigma = 0 with ``reason`` set when no hop is possible (not an error).
    """
    from nasicon_sim.executors import run_tasks
    from nasicon_sim.io.atomic import atomic_write_text

    s = settings or KMCSettings()
    key = lattice_key(lattice, s)
    cp = Path(checkpoint) if checkpoint else None
    done: dict[float, TemperaturePoint] = _load_checkpoint(cp, key) if cp else {}
    reason = _static_reason(lattice)
    points: list[TemperaturePoint] = []
    hops = 0
    wall_kmc = 0.0
    seq = np.random.SeedSequence(s.seed)
    temp_seeds = seq.spawn(len(s.temperatures_K))
    for ti, temp in enumerate(s.temperatures_K):
        if reason is not None:
            points.append(_zero_point(lattice, temp))
            continue
        if temp in done:
            points.append(done[temp])
            if progress:
                progress(f"T = {temp:g} K: from checkpoint")
            continue
        run_seeds = [int(x.generate_state(1)[0]) for x in temp_seeds[ti].spawn(s.runs)]
        tasks = [_Task(lattice, temp, rs, s) for rs in run_seeds]
        t0 = time.perf_counter()
        results: dict[int, dict] = {}
        for task, res in run_tasks(_run_task, tasks, workers=min(s.workers, s.runs)):
            if isinstance(res, BaseException):
                raise res
            results[task.seed] = res
            if progress:
                progress(f"T = {temp:g} K: run {len(results)}/{s.runs} done "
                         f"({res['n_hops'] / max(res['wall_kmc'], 1e-9):,.0f} hops/s)")
        runs = [results[rs] for rs in run_seeds]
        hops += sum(r["n_hops"] for r in runs)
        wall_kmc += sum(r["wall_kmc"] for r in runs)
        if all(r["blocks_done"] == 0 for r in runs):
            reason = "no hop is possible in the equilibrated arrangement (every ion is blocked)"
            points.append(_zero_point(lattice, temp))
            continue
        pt = _point(lattice, temp, runs, time.perf_counter() - t0)
        points.append(pt)
        done[temp] = pt
        if cp:
            atomic_write_text(cp, json.dumps({"key": key, "points": [
                p.as_dict() for p in done.values()]}))
    fit = None
    notes = []
    if reason is None:
        good = [p for p in points if p.converged]
        bad = [p for p in points if not p.converged]
        if bad:
            notes.append(
                "not converged at " + ", ".join(f"{p.temperature_K:g} K" for p in bad)
                + " (ions moved less than sqrt(2) hops per block: mostly back-and-forth hops; "
                "raise --passes); left out of the Arrhenius fit")
        fit = arrhenius_fit([p.temperature_K for p in good], [p.sigma_S_cm for p in good],
                            [p.sigma_err_S_cm for p in good])
        if fit is None:
            notes.append("fewer than two converged temperatures: no Arrhenius fit")
        if s.kra_floor_eV > 0:
            raised = int(np.sum(lattice.hop_kra_eV < s.kra_floor_eV))
            notes.append(
                f"E_KRA floor {s.kra_floor_eV:g} eV: {raised} of {len(lattice.hop_kra_eV)} "
                "directed hops raised to it (an acceleration; check that sigma does not change "
                "with a lower --kra-floor)")
    hop_types: dict[str, dict] = {}
    for ti, name in enumerate(lattice.hop_names):
        sel = lattice.hop_type == ti
        kr = lattice.hop_kra_eV[sel]
        hop_types[name] = {"n_hops": int(sel.sum()), "E_KRA_eV_mean": float(kr.mean()),
                           "E_KRA_eV_min": float(kr.min()), "E_KRA_eV_max": float(kr.max())}
    return TransportResult(
        settings=s, n_mobile=lattice.n_mobile, n_sites=lattice.n_sites,
        supercell=lattice.supercell, volume_A3=lattice.volume_A3, points=tuple(points),
        arrhenius=fit, reason=reason,
        hops_per_second=float(hops / wall_kmc) if wall_kmc > 0 else 0.0,
        hop_types=hop_types, interaction=dict(lattice.interaction),
        metadata={"key": key}, notes=tuple(notes))


def with_temperatures(settings: KMCSettings, temps) -> KMCSettings:
    """A copy of the settings at other temperatures."""
    return replace(settings, temperatures_K=tuple(temps))
