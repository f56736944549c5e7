"""The band itself: settings, batched energy/force evaluation, IDPP interpolation, CI-NEB.

* Interpolation: linear between the relaxed end points, the moving ion routed through a
  *via* point (the BVSE saddle of the hop) on a two-segment path, then ASE's image-dependent
  pair potential (IDPP; Smidstrup et al., J. Chem. Phys. 140 (2014) 214106) relaxes the band.
* Band: ASE's :class:`ase.mep.NEB` with the improved tangent (Henkelman & Jonsson, J. Chem.
  Phys. 113 (2000) 9978) and a climbing image (Henkelman, Uberuaga & Jonsson, J. Chem. Phys.
  113 (2000) 9901) switched on after a first stage without it (at ``max(2 fmax, 0.1)`` eV/A).
* Batching: ASE evaluates interior images one by one. :class:`BatchedNEB` first evaluates all
  interior images in one call of a *batch evaluator* (CHGNet: one forward pass of the batched
  crystal graphs) and hands each image its result as a single-point calculator; ASE's NEB
  force projection then runs unchanged. A calculator is batch-capable when
  :func:`batch_evaluator` knows it (CHGNet) or it has a ``batch_energies_forces(images)``
  method returning ``(energies (n,), forces (n, natoms, 3))``.
"""

from __future__ import annotations

import contextlib
import io
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nasicon_sim.errors import NasiconSimError

if TYPE_CHECKING:
    from ase import Atoms
    from ase.calculators.calculator import BaseCalculator

__all__ = [
    "Band",
    "BatchedNEB",
    "NEBSettings",
    "batch_evaluator",
    "evaluate_images",
    "interpolate_band",
    "relax_atoms",
    "run_band",
]

BatchFn = Callable[[Sequence["Atoms"]], tuple[np.ndarray, np.ndarray]]
#: ASE NEB tangent methods that can be chosen by name.
METHODS: tuple[str, ...] = ("improvedtangent", "aseneb", "eb", "spline", "string")


@dataclass(frozen=True)
class NEBSettings:
    """How to compute one hop.

    Attributes
    ----------
    n_images : int
        Interior images between the end points (``--images``, default 5; 1..30).
    spring_eV_A2 : float
        Spring constant between images, eV/A^2 (``--spring``, default 0.1; ASE's default).
    fmax_eV_A : float
        Convergence of the band: largest NEB force, eV/A (``--fmax``, default 0.05).
    steps : int
        Largest number of band optimiser steps, both stages together (default 500).
    climb : bool
        Climbing image in the second stage (default True).
    method : str
        ASE NEB tangent method (default ``improvedtangent``).
    relax_fmax_eV_A : float
        Convergence of the end-point relaxations, eV/A (default: ``fmax_eV_A``).
    relax_steps : int
        Largest number of steps per end-point relaxation (default 500).
    calculator : str
        ``"chgnet"`` (default) or ``"module:factory"``.
    batch : bool
        Evaluate all interior images in one batch when the calculator can (default True).
    idpp : bool
        IDPP interpolation (default True); False: linear (through the via point).
    device : str or None
        Torch device of CHGNet.
    threads : int or None
        Torch intra-op threads (process-wide).
    """

    n_images: int = 5
    spring_eV_A2: float = 0.1
    fmax_eV_A: float = 0.05
    steps: int = 500
    climb: bool = True
    method: str = "improvedtangent"
    relax_fmax_eV_A: float | None = None
    relax_steps: int = 500
    calculator: str = "chgnet"
    batch: bool = True
    idpp: bool = True
    device: str | None = None
    threads: int | None = None

    def __post_init__(self) -> None:
        def positive(name: str, value: Any, flag: str) -> None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value <= 0:
                raise NasiconSimError(f"{name} must be a positive number, got {value!r} ({flag})")

        n = self.n_images
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 30:
            raise NasiconSimError(
                f"the number of NEB images must be an integer from 1 to 30, got {n!r} (--images)")
        positive("the spring constant (eV/A^2)", self.spring_eV_A2, "--spring")
        if self.spring_eV_A2 > 50:
            raise NasiconSimError(
                f"a spring constant of {self.spring_eV_A2} eV/A^2 is unphysically stiff "
                "(use 0.05-5; --spring)")
        positive("fmax (eV/A)", self.fmax_eV_A, "--fmax")
        if self.relax_fmax_eV_A is not None:
            positive("the end-point fmax (eV/A)", self.relax_fmax_eV_A, "--relax-fmax")
        for name, value, flag in (("steps", self.steps, "--steps"),
                                  ("end-point steps", self.relax_steps, "--relax-steps")):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise NasiconSimError(f"{name} must be a positive integer, got {value!r} ({flag})")
        if self.method not in METHODS:
            raise NasiconSimError(
                f"unknown NEB method {self.method!r}; choose from {', '.join(METHODS)}")
        if not isinstance(self.calculator, str) or not self.calculator.strip():
            raise NasiconSimError("the calculator must be 'chgnet' or 'module:factory'")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise NasiconSimError(f"threads must be a positive integer, got {self.threads!r}")

    @property
    def end_point_fmax_eV_A(self) -> float:
        """Convergence of the end-point relaxations, eV/A."""
        return self.fmax_eV_A if self.relax_fmax_eV_A is None else float(self.relax_fmax_eV_A)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able settings (:meth:`from_dict` inverts it)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NEBSettings:
        """Settings from :meth:`as_dict` (unknown keys are an error)."""
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise NasiconSimError(f"unknown NEB setting(s): {', '.join(unknown)}")
        return cls(**dict(d))


# --------------------------------------------------------------------------- evaluation


def _chgnet_batch(calc: BaseCalculator) -> BatchFn:
    from pymatgen.io.ase import AseAtomsAdaptor

    model = calc.model

    def evaluate(images: Sequence[Atoms]) -> tuple[np.ndarray, np.ndarray]:
        structures = [AseAtomsAdaptor.get_structure(a) for a in images]
        graphs = [model.graph_converter(s) for s in structures]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
            preds = model.predict_graph(graphs, task="ef", batch_size=len(graphs))
        if isinstance(preds, dict):
            preds = [preds]
        factor = [len(s) if model.is_intensive else 1 for s in structures]
        energies = np.array([float(p["e"]) * f for p, f in zip(preds, factor)])
        forces = np.stack([np.asarray(p["f"], dtype=float) for p in preds])
        return energies, forces

    return evaluate


def batch_evaluator(calc: BaseCalculator) -> BatchFn | None:
    """A function evaluating many images in one call, or None when the calculator cannot.

    Parameters
    ----------
    calc : ASE calculator
        CHGNet's ``CHGNetCalculator`` (batched crystal graphs, one forward pass), or any
        calculator with a ``batch_energies_forces(images)`` method.

    Returns
    -------
    callable or None
        ``f(images) -> (energies_eV (n,), forces_eV_A (n, natoms, 3))``.
    """
    if hasattr(calc, "batch_energies_forces"):
        return calc.batch_energies_forces
    if type(calc).__name__ == "CHGNetCalculator" and hasattr(calc, "model"):
        return _chgnet_batch(calc)
    return None


def evaluate_images(images: Sequence[Atoms], calc: BaseCalculator,
                    batch: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Energies (eV) and forces (eV/A) of images, in one batch when possible."""
    fn = batch_evaluator(calc) if batch else None
    if fn is not None:
        e, f = fn(list(images))
        return np.asarray(e, dtype=float), np.asarray(f, dtype=float)
    energies, forces = [], []
    for image in images:
        a = image.copy()
        a.calc = calc
        energies.append(float(a.get_potential_energy()))
        forces.append(np.array(a.get_forces()))
    return np.array(energies), np.stack(forces)


def _neb_classes():
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.mep import NEB

    class _BatchedNEB(NEB):
        """ASE's NEB whose interior images are evaluated in one batch before each step."""

        def __init__(self, images, evaluate: BatchFn, **kwargs):
            super().__init__(images, allow_shared_calculator=True, **kwargs)
            self._evaluate = evaluate
            self.n_batches = 0

        def get_forces(self):
            interior = self.images[1:-1]
            energies, forces = self._evaluate(interior)
            self.n_batches += 1
            for image, e, f in zip(interior, energies, forces):
                image.calc = SinglePointCalculator(image, energy=float(e), forces=np.array(f))
            return super().get_forces()

    return _BatchedNEB


def BatchedNEB(images, evaluate: BatchFn, **kwargs):  # noqa: N802 (a class factory)
    """An :class:`ase.mep.NEB` that evaluates its interior images with ``evaluate`` in one call.

    ``kwargs`` go to NEB (``k``, ``climb``, ``method``...). The class is made on first use
    so that importing this module does not import ASE's NEB machinery.
    """
    return _neb_classes()(images, evaluate, **kwargs)


# --------------------------------------------------------------------------- pieces


def _quiet(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def relax_atoms(atoms: Atoms, calc: BaseCalculator, fmax_eV_A: float, steps: int
                ) -> tuple[Atoms, float, bool, int, float]:
    """Relax positions with FIRE; the input is not modified.

    Returns
    -------
    (relaxed atoms (with a single-point calculator), energy eV, converged, steps, max force eV/A)
    """
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.optimize import FIRE

    a = atoms.copy()
    a.calc = calc
    opt = FIRE(a, logfile=None)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
        converged = bool(_quiet(opt.run, fmax=fmax_eV_A, steps=steps))
        e = float(a.get_potential_energy())
        f = np.array(a.get_forces())
    out = a.copy()
    out.calc = SinglePointCalculator(out, energy=e, forces=f)
    return out, e, converged, int(opt.nsteps), float(np.linalg.norm(f, axis=1).max())


def interpolate_band(initial: Atoms, final: Atoms, n_images: int, mover: int | None = None,
                     via_cart_A: np.ndarray | None = None, idpp: bool = True) -> list[Atoms]:
    """End points plus ``n_images`` interpolated images.

    Positions are interpolated without the minimum-image convention: ``final`` must hold
    unwrapped positions continuous with ``initial`` (the end-point builder makes them so).
    With ``mover`` and ``via_cart_A`` the moving atom follows initial -> via -> final at
    equal path-length fractions before IDPP relaxes the band.
    """
    from ase.mep import interpolate
    from ase.mep.neb import idpp_interpolate

    images = [initial.copy()] + [initial.copy() for _ in range(n_images)] + [final.copy()]
    interpolate(images, mic=False, apply_constraint=False)
    if mover is not None and via_cart_A is not None:
        p0 = initial.positions[mover]
        p1 = np.asarray(via_cart_A, dtype=float)
        p2 = final.positions[mover]
        l1, l2 = np.linalg.norm(p1 - p0), np.linalg.norm(p2 - p1)
        total = l1 + l2
        for k, image in enumerate(images[1:-1], start=1):
            s = total * k / (n_images + 1)
            pos = p0 + (p1 - p0) * (s / l1) if s <= l1 else p1 + (p2 - p1) * ((s - l1) / l2)
            image.positions[mover] = pos
    if idpp:
        with warnings.catch_warnings():  # ASE's idpp makes an NEB without naming its method
            warnings.filterwarnings("ignore", message="The default method has changed")
            _quiet(idpp_interpolate, images, traj=None, log=None, mic=False, fmax=0.1, steps=200)
    for image in images:
        image.calc = None
    return images


@dataclass(frozen=True)
class Band:
    """A relaxed band.

    Attributes
    ----------
    images : tuple of Atoms
        End points and interior images (positions; no calculator).
    energies_eV : (n + 2,) float array
    converged : bool
    n_steps : int
        Band optimiser steps (both stages).
    max_force_eV_A : float
        Largest NEB force (projected, with springs) at the end, eV/A.
    n_evaluations : int
        Force calls of the band (each evaluates all interior images).
    seconds : float
    batched : bool
        Whether interior images were evaluated in one batch.
    """

    images: tuple = field(repr=False)
    energies_eV: np.ndarray = field(repr=False)
    converged: bool
    n_steps: int
    max_force_eV_A: float
    n_evaluations: int
    seconds: float
    batched: bool

    @property
    def saddle_image(self) -> int:
        """Index of the highest image."""
        return int(np.argmax(self.energies_eV))

    @property
    def barrier_forward_eV(self) -> float:
        """Highest image minus the initial end point, eV."""
        return float(self.energies_eV.max() - self.energies_eV[0])

    @property
    def barrier_backward_eV(self) -> float:
        """Highest image minus the final end point, eV."""
        return float(self.energies_eV.max() - self.energies_eV[-1])

    def path_length_A(self) -> np.ndarray:
        """Cumulative distance along the band (all atoms), Angstrom."""
        d = [0.0]
        for a, b in zip(self.images[:-1], self.images[1:]):
            d.append(d[-1] + float(np.linalg.norm(b.positions - a.positions)))
        return np.array(d)


def run_band(images: Sequence[Atoms], e_initial_eV: float, e_final_eV: float,
             calc: BaseCalculator, settings: NEBSettings,
             on_step: Callable[[Any], None] | None = None) -> Band:
    """Climbing-image NEB of an interpolated band (ASE NEB + FIRE), batched when possible.

    Parameters
    ----------
    images : sequence of Atoms
        From :func:`interpolate_band` (end points first and last, relaxed).
    e_initial_eV, e_final_eV : float
        Energies of the relaxed end points (same calculator).
    calc : ASE calculator
    settings : NEBSettings
    on_step : callable, optional
        Called with the NEB object after every optimiser step (e.g. to save a checkpoint).

    Returns
    -------
    Band
    """
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.mep import NEB
    from ase.optimize import FIRE

    images = [a.copy() for a in images]
    for end, e in ((images[0], e_initial_eV), (images[-1], e_final_eV)):
        end.calc = SinglePointCalculator(end, energy=float(e),
                                         forces=np.zeros((len(end), 3)))
    fn = batch_evaluator(calc) if settings.batch else None
    kwargs = dict(k=settings.spring_eV_A2, climb=False, method=settings.method)
    if fn is not None:
        neb = BatchedNEB(images, fn, **kwargs)
    else:
        for image in images[1:-1]:
            image.calc = calc
        neb = NEB(images, allow_shared_calculator=True, **kwargs)
    counter = {"n": 0}
    original = neb.get_forces

    def counted():
        counter["n"] += 1
        return original()

    neb.get_forces = counted
    t0 = time.perf_counter()
    n_steps = 0
    converged = False
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
        stages = [(False, max(2 * settings.fmax_eV_A, 0.1))] if settings.climb else []
        stages.append((settings.climb, settings.fmax_eV_A))
        for climb, fmax in stages:
            neb.climb = climb
            budget = settings.steps - n_steps
            if budget <= 0:
                break
            opt = FIRE(neb, logfile=None)
            if on_step is not None:
                opt.attach(lambda: on_step(neb), interval=1)
            converged = bool(_quiet(opt.run, fmax=fmax, steps=budget))
            n_steps += int(opt.nsteps)
        forces = neb.get_forces()  # at the final positions
    seconds = time.perf_counter() - t0
    energies = np.array(neb.energies, dtype=float)
    fmax_now = float(np.linalg.norm(forces.reshape(-1, 3), axis=1).max())
    converged = converged and fmax_now <= settings.fmax_eV_A * (1 + 1e-9)
    out = []
    for a in images:
        b = a.copy()
        b.calc = None
        out.append(b)
    return Band(images=tuple(out), energies_eV=energies, converged=converged, n_steps=n_steps,
                max_force_eV_A=fmax_now, n_evaluations=counter["n"], seconds=seconds,
                batched=fn is not None)
