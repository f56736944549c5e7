"""Relaxation of ordered supercells with a universal interatomic potential through ASE.

The study analysed DFT-optimised supercells because local distortions around the substituting
cations are what change the Na channels (Zuo et al., Energy Environ. Sci. 2026); an unrelaxed
supercell only swaps charges on fixed positions. This module relaxes a structure with any ASE
calculator, by default CHGNet (B. Deng et al., "CHGNet as a pretrained universal neural
network potential for charge-informed atomistic modelling", Nat. Mach. Intell. 5 (2023) 1031,
doi:10.1038/s42256-023-00716-3; its weights ship in the ``chgnet`` wheel, so it runs offline).

* Optimisers are ASE's: FIRE (Bitzek et al., Phys. Rev. Lett. 97 (2006) 170201), BFGS,
  LBFGS, BFGSLineSearch, and the preconditioned PreconLBFGS / PreconFIRE with the ``Exp``
  preconditioner (Packwood et al., J. Chem. Phys. 144 (2016) 164109,
  doi:10.1063/1.4947024); the default is the one measured fastest on the study's cells
  (``benchmarks/bench_optimizers.py``, ``docs/guide/relax.md``). With ``cell=True`` the cell
  relaxes too through ASE's ``FrechetCellFilter`` (cell degrees of freedom in the log of the
  deformation gradient, zero external pressure).
* :func:`relax_batch` relaxes many structures together: one batched CHGNet call per step for
  all members still running, each member with its own ASE optimiser state, leaving the batch
  when it converges (or reaches ``steps``, or fails) and making room for the next.
* Convergence is ASE's: the largest force (and, with the cell filter, the largest scaled
  stress component) below ``fmax_eV_A``; at most ``steps`` optimiser steps.
* The relaxed :class:`pymatgen.core.Structure` keeps the input's species (with oxidation
  states), site order, site properties (the site map of ``docs/design.md``) and
  ``properties["nasicon_sim"]`` metadata, plus a ``relaxation`` record in that metadata.
* Energies and largest forces of every step are kept; the trajectory (ASE ``.traj``, one
  frame per step, written as it goes) when a path is given.

:func:`relax_structure` is the one call (safe in worker processes: it builds its own
calculator unless given one); :func:`calculator_from_spec` turns ``"chgnet"`` or
``"module:factory"`` into an ASE calculator.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import io
import logging
import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasicon_sim.errors import NasiconSimError, OptionalDependencyError, StructureError

if TYPE_CHECKING:
    from ase import Atoms
    from ase.calculators.calculator import BaseCalculator
    from pymatgen.core import Structure

__all__ = [
    "INSTALL_HINT",
    "OPTIMIZERS",
    "RelaxResult",
    "RelaxSettings",
    "BatchRelaxResult",
    "calculator_from_spec",
    "chgnet_available",
    "relax_batch",
    "relax_structure",
]

logger = logging.getLogger(__name__)

#: ASE optimisers that can be chosen by name (case-insensitive).
OPTIMIZERS: tuple[str, ...] = ("FIRE", "BFGS", "LBFGS", "BFGSLineSearch", "PreconLBFGS",
                               "PreconFIRE")
#: The default optimiser: fewest CHGNet calls to fmax 0.05 eV/A (cell relaxed too) on the
#: study's 1-cell NZSP and ME1 in benchmarks/results/bench_optimizers_*_1cell.txt (tied with
#: BFGS, whose dense Hessian costs O(N^3) per step on 400-atom cells; FIRE needs 1.7-2.1x the
#: calls). See docs/guide/relax.md.
DEFAULT_OPTIMIZER = "LBFGS"
#: How to install the default calculator (printed by the CLI when it is missing).
INSTALL_HINT = (
    'CHGNet is not installed: pip install -e ".[relax]" (on Linux x86_64 without the local '
    "CPU wheel of torch, first: pip install torch==2.13.0 --index-url "
    "https://download.pytorch.org/whl/cpu); or give another ASE calculator as module:factory"
)
_EV_A3_TO_GPA = 160.21766208  # 1 eV/A^3 in GPa (ase.units.GPa = 1/160.2...)


def canonical_optimizer(name: str) -> str:
    """The spelling of :data:`OPTIMIZERS` for an optimiser name given in any case.

    >>> canonical_optimizer("preconlbfgs")
    'PreconLBFGS'
    """
    by_upper = {o.upper(): o for o in OPTIMIZERS}
    try:
        return by_upper[str(name).upper()]
    except KeyError:
        raise NasiconSimError(
            f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}") from None


def make_optimizer(name: str, target: Any) -> Any:
    """An ASE optimiser by name on ``target`` (Atoms or a cell filter), logging nothing.

    The preconditioned ones use the ``Exp`` preconditioner always (ASE's ``"auto"`` drops it
    below 100 atoms) and need the calculator to give ``free_energy`` (CHGNet's does, through
    :func:`calculator_from_spec`).
    """
    from ase.optimize import BFGS, FIRE, LBFGS, BFGSLineSearch
    from ase.optimize.precon import Exp, PreconFIRE, PreconLBFGS

    name = canonical_optimizer(name)
    if name == "PreconLBFGS":
        return PreconLBFGS(target, precon=Exp(), logfile=None)
    if name == "PreconFIRE":  # takes only a Precon instance, not a name
        return PreconFIRE(target, precon=Exp(), logfile=None)
    cls = {"FIRE": FIRE, "BFGS": BFGS, "LBFGS": LBFGS, "BFGSLineSearch": BFGSLineSearch}[name]
    return cls(target, logfile=None)


def chgnet_available() -> bool:
    """Whether the ``[relax]`` extra (chgnet and torch) is importable."""
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "chgnet"))


@dataclass(frozen=True)
class RelaxSettings:
    """How to relax a structure.

    Attributes
    ----------
    calculator : str
        ``"chgnet"`` (default) or ``"module:factory"``: a callable in an importable module
        returning an ASE calculator (e.g. ``"ase.calculators.emt:EMT"``).
    fmax_eV_A : float
        Convergence threshold on the largest force, eV/A (default 0.05).
    steps : int
        Largest number of optimiser steps (default 500).
    cell : bool
        Relax the cell too (``FrechetCellFilter``), not only positions.
    optimizer : str
        ASE optimiser, one of :data:`OPTIMIZERS` (default :data:`DEFAULT_OPTIMIZER`).
    device : str or None
        Torch device of CHGNet (``"cpu"``, ``"cuda"``, ...); None: CUDA when present, else CPU.
    threads : int or None
        Torch intra-op threads (process-wide); None leaves torch's default. Use 1 in worker
        processes that share cores.
    """

    calculator: str = "chgnet"
    fmax_eV_A: float = 0.05
    steps: int = 500
    cell: bool = False
    optimizer: str = DEFAULT_OPTIMIZER
    device: str | None = None
    threads: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.calculator, str) or not self.calculator.strip():
            raise NasiconSimError("the calculator must be 'chgnet' or 'module:factory'")
        if not (isinstance(self.fmax_eV_A, (int, float)) and math.isfinite(self.fmax_eV_A)
                and self.fmax_eV_A > 0):
            raise NasiconSimError(f"fmax must be a positive number of eV/A, got {self.fmax_eV_A!r}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, (int, np.integer)) \
                or self.steps < 0:
            raise NasiconSimError(f"steps must be a non-negative integer, got {self.steps!r}")
        object.__setattr__(self, "optimizer", canonical_optimizer(self.optimizer))
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise NasiconSimError(f"threads must be a positive integer, got {self.threads!r}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-able settings (:meth:`from_dict` inverts it)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RelaxSettings:
        """Settings from :meth:`as_dict` (unknown keys are an error)."""
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise NasiconSimError(f"unknown relaxation setting(s): {', '.join(unknown)}")
        return cls(**dict(d))

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], **overrides: Any) -> RelaxSettings:
        """Settings from a study's ``[relax]`` table (``RelaxSpec``: ``method``, ``fmax_eV_A``,
        ``steps``, ``cell``; optional ``optimizer``, ``device``, ``threads``).

        Keys of the table that are not relaxation settings (the runner's own options) are
        left out; ``overrides`` (e.g. ``threads=1`` in pool workers) win. ``method = "none"``
        is not a relaxation: the caller skips it.

        >>> RelaxSettings.from_spec({"method": "chgnet", "fmax_eV_A": 0.1, "steps": 50,
        ...                          "cell": True}).as_dict()["calculator"]
        'chgnet'
        """
        d = dict(spec)
        method = d.pop("method", "chgnet")
        if method in (None, "none"):
            raise NasiconSimError("relaxation method 'none' is not a relaxation")
        d = {k: v for k, v in d.items() if k in cls.__dataclass_fields__ and k != "calculator"}
        d.update(overrides)
        return cls.from_dict({"calculator": method, **d})


@dataclass(frozen=True)
class RelaxResult:
    """A finished relaxation.

    Attributes
    ----------
    structure : pymatgen Structure
        Relaxed; same species, order, site properties and metadata as the input, plus
        ``properties["nasicon_sim"]["relaxation"]`` (= :meth:`record`).
    settings : RelaxSettings
    energies_eV : (k + 1,) float array
        Potential energy of the start and of every step, eV (whole cell).
    max_forces_eV_A : (k + 1,) float array
        Largest atomic force norm at the start and after every step, eV/A.
    converged : bool
        ASE's verdict (forces, and the stress with ``cell``, below ``fmax_eV_A``).
    n_steps : int
        Optimiser steps taken (k).
    max_stress_GPa : float or None
        Largest absolute stress component at the end (None when the calculator gives none).
    calculator : str
        What computed the energies (e.g. ``chgnet 0.4.2 (model 0.3.0) on cpu``).
    seconds : float
        Wall time of the optimisation (calculator set-up excluded).
    trajectory : Path or None
        ASE trajectory file, if one was written.
    initial_lattice_abc_A, initial_lattice_angles_deg : tuple of float
        Cell before the relaxation.
    n_calls : int or None
        Energy/force evaluations of the calculator (line searches make more than one per
        step); None when not counted.
    """

    structure: Structure = field(repr=False)
    settings: RelaxSettings
    energies_eV: np.ndarray = field(repr=False)
    max_forces_eV_A: np.ndarray = field(repr=False)
    converged: bool
    n_steps: int
    max_stress_GPa: float | None
    calculator: str
    seconds: float
    trajectory: Path | None
    initial_lattice_abc_A: tuple[float, float, float]
    initial_lattice_angles_deg: tuple[float, float, float]
    n_calls: int | None = None

    @property
    def initial_energy_eV(self) -> float:
        """Energy before the first step, eV."""
        return float(self.energies_eV[0])

    @property
    def final_energy_eV(self) -> float:
        """Energy of the relaxed structure, eV."""
        return float(self.energies_eV[-1])

    @property
    def final_max_force_eV_A(self) -> float:
        """Largest atomic force of the relaxed structure, eV/A."""
        return float(self.max_forces_eV_A[-1])

    def record(self) -> dict[str, Any]:
        """JSON-able summary (stored in the relaxed structure's metadata)."""
        n = len(self.structure)
        lat = self.structure.lattice
        return {
            "calculator": self.calculator,
            "settings": self.settings.as_dict(),
            "converged": bool(self.converged),
            "n_steps": int(self.n_steps),
            "energy_initial_eV": round(self.initial_energy_eV, 6),
            "energy_final_eV": round(self.final_energy_eV, 6),
            "energy_change_per_atom_eV": round((self.final_energy_eV - self.initial_energy_eV) / n, 6),
            "max_force_initial_eV_A": round(float(self.max_forces_eV_A[0]), 6),
            "max_force_final_eV_A": round(self.final_max_force_eV_A, 6),
            "max_stress_final_GPa": (None if self.max_stress_GPa is None
                                     else round(self.max_stress_GPa, 4)),
            "cell_abc_initial_A": [round(x, 6) for x in self.initial_lattice_abc_A],
            "cell_angles_initial_deg": [round(x, 4) for x in self.initial_lattice_angles_deg],
            "cell_abc_final_A": [round(float(x), 6) for x in lat.abc],
            "cell_angles_final_deg": [round(float(x), 4) for x in lat.angles],
            "seconds": round(self.seconds, 3),
            "n_calls": self.n_calls,
            "trajectory": None if self.trajectory is None else str(self.trajectory),
        }

    def as_dict(self) -> dict[str, Any]:
        """:meth:`record` plus the per-step energies and forces (JSON-able)."""
        d = self.record()
        d["energies_eV"] = [round(float(x), 6) for x in self.energies_eV]
        d["max_forces_eV_A"] = [round(float(x), 6) for x in self.max_forces_eV_A]
        return d


def _quiet(fn, *args, **kwargs):
    """Call ``fn`` with its standard output captured (CHGNet prints on loading) and logged."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        out = fn(*args, **kwargs)
    for line in buffer.getvalue().splitlines():
        if line.strip():
            logger.info("%s", line.strip())
    return out


def calculator_from_spec(spec: str = "chgnet", device: str | None = None) -> BaseCalculator:
    """An ASE calculator from a name.

    Parameters
    ----------
    spec : str
        ``"chgnet"`` (needs the ``[relax]`` extra), or ``"module:factory"`` naming a callable
        that takes no argument and returns an ASE calculator.
    device : str, optional
        Torch device for CHGNet; None picks CUDA when present, else CPU.

    Returns
    -------
    ase.calculators.calculator.BaseCalculator

    Raises
    ------
    OptionalDependencyError
        ``chgnet`` without the extra installed (the message says how to install it).
    NasiconSimError
        A malformed spec, a module or factory that cannot be found, or a factory that does
        not return an ASE calculator.
    """
    from ase.calculators.calculator import BaseCalculator

    spec = str(spec).strip()
    if spec.lower() == "chgnet":
        if not chgnet_available():
            raise OptionalDependencyError(INSTALL_HINT)
        from chgnet.model.dynamics import CHGNetCalculator

        calc = _quiet(CHGNetCalculator, use_device=device)
        # CHGNet 0.4.2 computes free_energy (= energy) but does not declare it, so ASE refuses
        # force_consistent energies, which the preconditioned optimisers' line searches ask for
        if "free_energy" not in calc.implemented_properties:
            calc.implemented_properties = (*calc.implemented_properties, "free_energy")
        return calc
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise NasiconSimError(
            f"calculator {spec!r}: use 'chgnet' or 'module:factory' (e.g. ase.calculators.emt:EMT)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise NasiconSimError(f"calculator {spec!r}: cannot import {module_name} ({exc})") from None
    factory = module
    for part in attr.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise NasiconSimError(f"calculator {spec!r}: {module_name} has no {attr}")
    if not callable(factory):
        raise NasiconSimError(f"calculator {spec!r}: {attr} is not callable")
    calc = _quiet(factory)
    if not isinstance(calc, BaseCalculator):
        raise NasiconSimError(
            f"calculator {spec!r} returned {type(calc).__name__}, not an ASE calculator")
    return calc


@functools.lru_cache(maxsize=4)
def _cached_chgnet(device: str | None) -> BaseCalculator:
    return calculator_from_spec("chgnet", device)


def _describe_calculator(calc: BaseCalculator, spec: str) -> str:
    name = type(calc).__name__
    if name == "CHGNetCalculator":
        from importlib.metadata import version

        model = getattr(getattr(calc, "model", None), "version", None)
        device = getattr(calc, "device", None)
        return (f"chgnet {version('chgnet')}" + (f" (model {model})" if model else "")
                + (f" on {device}" if device else ""))
    return f"{spec} ({name})" if spec and spec.lower() != "chgnet" else name


def _to_atoms(structure: Structure) -> Atoms:
    from ase import Atoms

    if not structure.is_ordered:
        raise StructureError(
            "relaxation needs an ordered structure (one species per site): order a "
            "disordered composition with nasicon-sim build")
    return Atoms(
        symbols=[site.specie.symbol for site in structure],
        scaled_positions=structure.frac_coords,
        cell=structure.lattice.matrix,
        pbc=True,
    )


def _relaxed_structure(structure: Structure, atoms: Atoms) -> Structure:
    from pymatgen.core import Lattice
    from pymatgen.core import Structure as _Structure

    frac = atoms.get_scaled_positions(wrap=False) % 1.0
    frac[np.isclose(frac, 1.0, atol=1e-12)] = 0.0
    props = {k: list(v) for k, v in structure.site_properties.items()}
    return _Structure(
        Lattice(np.array(atoms.cell.array)), [site.species for site in structure], frac,
        site_properties=props or None,
        properties={k: v for k, v in structure.properties.items() if k != "nasicon_sim"},
    )


@contextlib.contextmanager
def _count_calls(calc: Any):
    """Count ``calc.calculate`` calls inside the block (yields a one-element list)."""
    count = [0]
    original = calc.calculate
    had_own = "calculate" in vars(calc)

    def counted(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return original(*args, **kwargs)

    calc.calculate = counted
    try:
        yield count
    finally:
        if had_own:
            calc.calculate = original
        else:
            del calc.calculate  # back to the class's method


def _set_threads(threads: int | None) -> None:
    if threads is None or importlib.util.find_spec("torch") is None:
        return
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def relax_structure(
    structure: Structure,
    settings: RelaxSettings | None = None,
    calculator: BaseCalculator | None = None,
    trajectory: str | Path | None = None,
) -> RelaxResult:
    """Relax an ordered structure with an ASE calculator.

    Parameters
    ----------
    structure : pymatgen Structure
        Ordered (e.g. a :class:`~nasicon_sim.structure.ensemble.Configuration`'s structure).
        Not modified.
    settings : RelaxSettings, optional
        Defaults: CHGNet, LBFGS, fmax 0.05 eV/A, 500 steps, positions only.
    calculator : ASE calculator, optional
        Used instead of building ``settings.calculator`` (reuse one across structures).
        CHGNet built from the settings is cached per process and device, so a worker that
        relaxes many structures loads the model once.
    trajectory : str or Path, optional
        ASE ``.traj`` file to write, one frame (positions, cell, energy, forces) per step;
        frames already written survive an interruption.

    Returns
    -------
    RelaxResult

    Raises
    ------
    StructureError
        A disordered structure.
    OptionalDependencyError
        CHGNet requested but not installed.
    NasiconSimError
        Bad settings or calculator spec.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> s = Structure(Lattice.cubic(3.7), ["Cu"] * 4,
    ...               [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.52, 0.5]])
    >>> r = relax_structure(s, RelaxSettings("ase.calculators.emt:EMT", fmax_eV_A=0.01))
    >>> r.converged, r.final_energy_eV < r.initial_energy_eV, r.final_max_force_eV_A < 0.01
    (True, True, True)
    """
    from ase.filters import FrechetCellFilter
    from ase.io.trajectory import Trajectory

    settings = settings or RelaxSettings()
    atoms = _to_atoms(structure)
    _set_threads(settings.threads)
    if calculator is not None:
        calc = calculator
    elif settings.calculator.strip().lower() == "chgnet":
        calc = _cached_chgnet(settings.device)  # loading the model takes seconds: once per process
    else:
        calc = calculator_from_spec(settings.calculator, settings.device)
    atoms.calc = calc
    if settings.cell and "stress" not in getattr(calc, "implemented_properties", ("stress",)):
        raise NasiconSimError(
            f"the calculator {type(calc).__name__} gives no stress: it cannot relax the cell "
            "(relax positions only)")
    energies: list[float] = []
    fmaxes: list[float] = []

    def observe() -> None:
        energies.append(float(atoms.get_potential_energy()))
        fmaxes.append(float(np.linalg.norm(atoms.get_forces(), axis=1).max()))

    target = FrechetCellFilter(atoms) if settings.cell else atoms
    optimizer = make_optimizer(settings.optimizer, target)
    optimizer.attach(observe, interval=1)
    traj = None
    if trajectory is not None:
        trajectory = Path(trajectory)
        traj = Trajectory(str(trajectory), "w", atoms)
        optimizer.attach(traj.write, interval=1)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(), _count_calls(calc) as calls:
            # CHGNet 0.4.2 converts a tensor that requires grad to a float: harmless, per step
            warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
            converged = bool(_quiet(optimizer.run, fmax=settings.fmax_eV_A, steps=settings.steps))
    finally:
        if traj is not None:
            traj.close()
    seconds = time.perf_counter() - t0
    if not energies:  # steps = 0 on an ASE that calls no observer
        observe()
    return _finish(structure, atoms, settings, energies, fmaxes, converged,
                   int(optimizer.nsteps), _describe_calculator(calc, settings.calculator),
                   seconds, trajectory, calls[0])


def _finish(structure: Structure, atoms: Atoms, settings: RelaxSettings, energies: list[float],
            fmaxes: list[float], converged: bool, n_steps: int, calculator: str,
            seconds: float, trajectory: Path | None, n_calls: int | None) -> RelaxResult:
    """The :class:`RelaxResult` of a finished optimisation of ``atoms`` (from ``structure``)."""
    stress = None
    with contextlib.suppress(Exception):  # calculators without stress (e.g. some EMTs)
        stress = float(np.abs(atoms.get_stress(voigt=True)).max() * _EV_A3_TO_GPA)
    relaxed = _relaxed_structure(structure, atoms)
    result = RelaxResult(
        structure=relaxed, settings=settings, energies_eV=np.array(energies),
        max_forces_eV_A=np.array(fmaxes), converged=bool(converged), n_steps=int(n_steps),
        max_stress_GPa=stress, calculator=calculator, seconds=seconds, trajectory=trajectory,
        initial_lattice_abc_A=tuple(float(x) for x in structure.lattice.abc),
        initial_lattice_angles_deg=tuple(float(x) for x in structure.lattice.angles),
        n_calls=n_calls,
    )
    meta = dict(structure.properties.get("nasicon_sim", {}))
    meta["relaxation"] = result.record()
    relaxed.properties["nasicon_sim"] = meta
    log = logger.info if converged else logger.warning
    log("relaxation %s after %d steps: E %.4f -> %.4f eV, max force %.4f eV/A (%s)",
        "converged" if converged else "NOT converged", result.n_steps, result.initial_energy_eV,
        result.final_energy_eV, result.final_max_force_eV_A, result.calculator)
    return result


# --------------------------------------------------------------------------------------------
# Batched relaxation: many structures, one model call per step for all members still running.


@dataclass(frozen=True)
class BatchRelaxResult:
    """A finished batched relaxation (:func:`relax_batch`).

    Attributes
    ----------
    results : tuple of (RelaxResult or None)
        One per input structure, in input order; None where the member failed.
    errors : tuple of (str or None)
        Why a member failed (an exception of the calculator or the optimiser, or non-finite
        energies/forces), else None.
    seconds : float
        Wall time of the whole batch (model set-up excluded).
    n_batched_calls : int
        Batched model calls (one per step of the batch, for all members that needed one).
    n_single_calls : int
        Evaluations outside a batched call (the trial points of line searches, and the
        members of a failed batched call evaluated one by one to find the failing one).
    batch_size : int
        Largest number of members relaxed together.
    """

    results: tuple[RelaxResult | None, ...]
    errors: tuple[str | None, ...]
    seconds: float
    n_batched_calls: int
    n_single_calls: int
    batch_size: int

    @property
    def not_converged(self) -> tuple[int, ...]:
        """Indices of the members that failed or did not converge within ``steps``."""
        return tuple(i for i, r in enumerate(self.results) if r is None or not r.converged)

    def summary(self) -> dict[str, Any]:
        """JSON-able summary (no structures)."""
        return {"n": len(self.results), "batch_size": self.batch_size,
                "seconds": round(self.seconds, 3), "n_batched_calls": self.n_batched_calls,
                "n_single_calls": self.n_single_calls,
                "not_converged": list(self.not_converged),
                "errors": {str(i): e for i, e in enumerate(self.errors) if e}}


def _is_chgnet(calc: Any) -> bool:
    return (type(calc).__name__ == "CHGNetCalculator" or any(
        c.__name__ == "CHGNetCalculator" for c in type(calc).__mro__)) and hasattr(calc, "model")


class _Evaluator:
    """Energies, forces (and stresses) of several Atoms: one batched CHGNet pass when the
    calculator is CHGNet's, else one calculator call per structure."""

    def __init__(self, calc: Any, with_stress: bool) -> None:
        self.calc = calc
        self.with_stress = with_stress
        self.chgnet = _is_chgnet(calc)

    def _single(self, atoms: Atoms) -> dict[str, Any]:
        calc = self.calc
        energy = float(calc.get_property("energy", atoms))
        out: dict[str, Any] = {"energy": energy, "free_energy": energy,
                               "forces": np.array(calc.get_property("forces", atoms))}
        if self.with_stress:
            out["stress"] = np.array(calc.get_property("stress", atoms))
        return out

    def _chgnet(self, atoms_list: list[Atoms]) -> list[dict[str, Any]]:
        from ase.stress import full_3x3_to_voigt_6_stress
        from pymatgen.io.ase import AseAtomsAdaptor

        calc = self.calc
        model = calc.model
        # a copy without calculator: pymatgen's adaptor reads the energy of an Atoms that has
        # one, which would make the member's batch slot evaluate it alone first
        graphs = [model.graph_converter(AseAtomsAdaptor.get_structure(a.copy()))
                  for a in atoms_list]
        preds = model.predict_graph(graphs, task="efs", batch_size=len(graphs))
        if isinstance(preds, dict):
            preds = [preds]
        out = []
        for a, p in zip(atoms_list, preds):  # as CHGNetCalculator.calculate does for one
            factor = len(a) if model.is_intensive else 1
            energy = float(np.asarray(p["e"]) * factor)
            out.append({"energy": energy, "free_energy": energy,
                        "forces": np.array(p["f"], dtype=float),
                        "stress": full_3x3_to_voigt_6_stress(
                            np.array(p["s"], dtype=float) * calc.stress_weight)})
        return out

    def __call__(self, atoms_list: list[Atoms]) -> tuple[list[dict[str, Any] | Exception], int]:
        """Results per structure (an exception where it failed) and the number of single
        (unbatched) evaluations made."""
        if self.chgnet and len(atoms_list) > 1:
            try:
                return list(self._chgnet(atoms_list)), 0
            except Exception as exc:  # find which member fails: one by one
                logger.warning("batched CHGNet call failed (%s); evaluating one by one", exc)
        out: list[dict[str, Any] | Exception] = []
        for a in atoms_list:
            try:
                out.append(self._chgnet([a])[0] if self.chgnet else self._single(a))
            except Exception as exc:
                out.append(exc)
        return out, len(atoms_list) if len(atoms_list) > 1 or not self.chgnet else 0


def _slot_class():
    from ase.calculators.calculator import Calculator, all_changes

    class _Slot(Calculator):
        """Holds a member's results from the batched call; evaluates alone (counted) only
        where the optimiser asks for a point the batch did not compute (line searches)."""

        implemented_properties = ("energy", "free_energy", "forces", "stress")

        def __init__(self, evaluator: _Evaluator) -> None:
            super().__init__()
            self.evaluator = evaluator
            self.n_single = 0
            self.n_calls = 0

        def needs(self, atoms: Atoms) -> bool:
            return self.atoms is None or bool(self.check_state(atoms)) \
                or "forces" not in self.results

        def preload(self, atoms: Atoms, results: Mapping[str, Any]) -> None:
            self.atoms = atoms.copy()
            self.results = dict(results)
            self.n_calls += 1

        def calculate(self, atoms=None, properties=None, system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            # the member's own Atoms (stateful calculators may key on the object)
            (out,), _ = self.evaluator([atoms if atoms is not None else self.atoms])
            if isinstance(out, Exception):
                raise out
            self.results = dict(out)
            self.n_single += 1
            self.n_calls += 1

    return _Slot


def _finite(out: Mapping[str, Any]) -> bool:
    return bool(np.isfinite(out["energy"]) and np.all(np.isfinite(out["forces"]))
                and np.all(np.isfinite(out.get("stress", 0.0))))


def relax_batch(
    structures: list[Structure],
    settings: RelaxSettings | None = None,
    calculator: BaseCalculator | None = None,
    trajectories: list[str | Path | None] | None = None,
    batch_size: int | None = None,
    on_done: Any = None,
) -> BatchRelaxResult:
    """Relax many ordered structures together, one batched model call per step.

    Every member has its own ASE optimiser (``settings.optimizer``) and takes exactly the
    steps it would take alone (:func:`relax_structure`): the loop is ASE's ``irun`` (evaluate,
    observe, test convergence, step), with the evaluations of all running members gathered
    into one CHGNet call (``CHGNet.predict_graph`` on the list of graphs; other ASE
    calculators are called once per member). A member leaves the batch when it converges,
    reaches ``settings.steps`` or fails, and the next waiting structure takes its place.
    Points that a line search asks for inside a step are evaluated alone.

    Parameters
    ----------
    structures : list of pymatgen Structure
        Ordered structures (not modified).
    settings : RelaxSettings, optional
        As for :func:`relax_structure` (the same for every member).
    calculator : ASE calculator, optional
        Used instead of building ``settings.calculator``.
    trajectories : list of (str, Path or None), optional
        ASE ``.traj`` file per member.
    batch_size : int, optional
        Largest number of members relaxed together (default: all).
    on_done : callable, optional
        ``on_done(index, result_or_None, error_or_None)`` called as soon as a member leaves
        the batch (e.g. to save it, so an interruption loses no finished member).

    Returns
    -------
    BatchRelaxResult
        Per member a :class:`RelaxResult` (``seconds`` is the member's wall time in the
        batch) or an error; :attr:`BatchRelaxResult.not_converged` names the members that
        failed or did not converge.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> s = [Structure(Lattice.cubic(3.7), ["Cu"] * 4,
    ...                [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5 + d, 0.5]])
    ...      for d in (0.01, 0.02, 0.03)]
    >>> b = relax_batch(s, RelaxSettings("ase.calculators.emt:EMT", fmax_eV_A=0.01), batch_size=2)
    >>> [r.converged for r in b.results], b.not_converged
    ([True, True, True], ())
    """
    from collections import deque

    from ase.filters import FrechetCellFilter
    from ase.io.trajectory import Trajectory

    settings = settings or RelaxSettings()
    structures = list(structures)
    n = len(structures)
    if trajectories is not None and len(trajectories) != n:
        raise NasiconSimError(f"{len(trajectories)} trajectory paths for {n} structures")
    if batch_size is None:
        batch_size = max(1, n)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise NasiconSimError(f"batch size must be a positive integer, got {batch_size!r}")
    atoms_all = [_to_atoms(s) for s in structures]  # refuse a disordered one before any work
    _set_threads(settings.threads)
    if calculator is not None:
        calc = calculator
    elif settings.calculator.strip().lower() == "chgnet":
        calc = _cached_chgnet(settings.device)
    else:
        calc = calculator_from_spec(settings.calculator, settings.device)
    if settings.cell and "stress" not in getattr(calc, "implemented_properties", ("stress",)):
        raise NasiconSimError(
            f"the calculator {type(calc).__name__} gives no stress: it cannot relax the cell "
            "(relax positions only)")
    description = _describe_calculator(calc, settings.calculator)
    with_stress = settings.cell or "stress" in getattr(calc, "implemented_properties", ())
    evaluator = _Evaluator(calc, with_stress=with_stress)
    batched = evaluator.chgnet
    # other calculators are called once per member anyway; built from a spec, every member
    # gets its own instance (ASE calculators may keep state about the structure they saw)
    per_member = not batched and calculator is None
    slot_class = _slot_class()
    results: list[RelaxResult | None] = [None] * n
    errors: list[str | None] = [None] * n
    queue = deque(range(n))
    active: list[dict[str, Any]] = []
    n_batched = n_single = 0
    t_start = time.perf_counter()

    def leave(m: dict[str, Any], converged: bool | None, error: str | None = None) -> None:
        nonlocal n_single
        if m["traj"] is not None:
            m["traj"].close()
        n_single += m["slot"].n_single
        i = m["index"]
        if error is None:
            results[i] = _finish(structures[i], m["atoms"], settings, m["energies"],
                                 m["fmaxes"], bool(converged), int(m["opt"].nsteps), description,
                                 time.perf_counter() - m["t0"], m["traj_path"],
                                 m["slot"].n_calls)
        else:
            errors[i] = error
            logger.warning("relaxation of batch member %d failed: %s", i, error)
        if on_done is not None:
            on_done(i, results[i], errors[i])

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
        try:
            while queue or active:
                while queue and len(active) < batch_size:
                    i = queue.popleft()
                    atoms = atoms_all[i]
                    own = evaluator if not per_member else _Evaluator(
                        calc if not active and i == 0 else
                        calculator_from_spec(settings.calculator, settings.device), with_stress)
                    slot = slot_class(own)
                    atoms.calc = slot
                    target = FrechetCellFilter(atoms) if settings.cell else atoms
                    opt = make_optimizer(settings.optimizer, target)
                    opt.fmax = settings.fmax_eV_A  # what irun / Precon*.run set
                    opt.smax = settings.fmax_eV_A
                    opt.max_steps = settings.steps
                    path = None if trajectories is None or trajectories[i] is None \
                        else Path(trajectories[i])
                    traj = None if path is None else Trajectory(str(path), "w", atoms)
                    active.append({"index": i, "atoms": atoms, "slot": slot, "opt": opt,
                                   "energies": [], "fmaxes": [], "traj": traj,
                                   "traj_path": path, "t0": time.perf_counter()})
                pending = [m for m in active if m["slot"].needs(m["atoms"])]
                if pending and batched:
                    outs, singles = evaluator([m["atoms"] for m in pending])
                    n_batched += 1
                    n_single += singles
                elif pending:
                    outs = [m["slot"].evaluator([m["atoms"]])[0][0] for m in pending]
                    n_single += len(pending)
                for m, out in zip(pending, outs if pending else []):
                    if isinstance(out, Exception):
                        m["error"] = f"{type(out).__name__}: {out}"
                    elif not _finite(out):
                        m["error"] = "non-finite energy, forces or stress"
                    else:
                        m["slot"].preload(m["atoms"], out)
                still = []
                for m in active:
                    if "error" in m:
                        leave(m, None, m["error"])
                        continue
                    atoms, opt = m["atoms"], m["opt"]
                    try:
                        # ASE's irun: observe, test convergence, step
                        m["energies"].append(float(atoms.get_potential_energy()))
                        m["fmaxes"].append(float(np.linalg.norm(atoms.get_forces(),
                                                                axis=1).max()))
                        if m["traj"] is not None:
                            m["traj"].write()
                        gradient = opt.optimizable.get_gradient()
                        converged = bool(opt.gradient_converged(gradient))
                        if converged or opt.nsteps >= settings.steps:
                            leave(m, converged)
                            continue
                        _quiet(opt.step)
                        opt.nsteps += 1
                    except Exception as exc:  # one member's failure does not stop the others
                        leave(m, None, f"{type(exc).__name__}: {exc}")
                        continue
                    still.append(m)
                active = still
        finally:
            for m in active:  # interrupted: close the files of the members in flight
                if m["traj"] is not None:
                    m["traj"].close()
    batch = BatchRelaxResult(results=tuple(results), errors=tuple(errors),
                             seconds=time.perf_counter() - t_start, n_batched_calls=n_batched,
                             n_single_calls=n_single, batch_size=min(batch_size, max(n, 1)))
    if batch.not_converged:
        logger.warning("batch relaxation: %d of %d members did not converge or failed: %s",
                       len(batch.not_converged), n, list(batch.not_converged))
    return batch
