"""The result of one hop (CHGNet/ASE or a finished VASP run) and its files.

Files per hop (``<tag>`` = ``hop_<i>-<j>_<labels>``), each written atomically:
``<tag>.json`` (:meth:`NEBResult.as_dict`), ``<tag>.extxyz`` (images, energy per image),
``<tag>.png`` (energy profile against the path length).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasicon_sim.neb.hops import Hop

__all__ = ["RESULT_VERSION", "STATUSES", "NEBResult", "read_result"]

RESULT_VERSION = 1
#: ``converged``: band converged; ``not-converged``: steps ran out (barrier given, flagged);
#: ``end-point-left-site``: an end point relaxed into another site (no band, no barrier).
STATUSES = ("converged", "not-converged", "end-point-left-site")


def _r(x: float | None, nd: int = 6) -> float | None:
    return None if x is None else round(float(x), nd)


@dataclass(frozen=True)
class NEBResult:
    """One hop's barrier.

    Attributes
    ----------
    hop : Hop
    status : str
        One of :data:`STATUSES`.
    energies_eV : tuple of float
        Energy of every image (end points included), eV; empty without a band.
    path_A : tuple of float
        Cumulative distance along the band (all atoms), A.
    converged : bool
    n_steps : int
    max_force_eV_A : float or None
    saddle_image : int or None
    saddle_cart_A : tuple or None
        Position of the moving ion in the highest image, A.
    mover : int or None
    calculator : str
    settings : dict
    notes : tuple of str
        Ions moved/removed to make the end points; end-point relaxation records.
    message : str or None
        Why there is no barrier (status ``end-point-left-site``).
    seconds : float
    source : str
        The structure (path or formula) the hop was computed in.
    images : tuple of Atoms
    """

    hop: Hop
    status: str
    energies_eV: tuple[float, ...] = ()
    path_A: tuple[float, ...] = ()
    converged: bool = False
    n_steps: int = 0
    max_force_eV_A: float | None = None
    saddle_image: int | None = None
    saddle_cart_A: tuple[float, float, float] | None = None
    mover: int | None = None
    calculator: str = ""
    settings: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    message: str | None = None
    seconds: float = 0.0
    source: str = ""
    images: tuple = field(default=(), repr=False, compare=False)

    @property
    def labels(self) -> tuple[str, str]:
        return self.hop.labels

    @property
    def initial_energy_eV(self) -> float | None:
        return float(self.energies_eV[0]) if self.energies_eV else None

    @property
    def final_energy_eV(self) -> float | None:
        return float(self.energies_eV[-1]) if self.energies_eV else None

    @property
    def barrier_forward_eV(self) -> float | None:
        """Highest image minus the initial state, eV."""
        return float(max(self.energies_eV) - self.energies_eV[0]) if self.energies_eV else None

    @property
    def barrier_backward_eV(self) -> float | None:
        """Highest image minus the final state, eV."""
        return float(max(self.energies_eV) - self.energies_eV[-1]) if self.energies_eV else None

    @property
    def has_saddle(self) -> bool:
        """Whether the highest image lies between the end points (a band whose highest image
        is an end point found no barrier: the other end point is not a minimum of the path)."""
        if len(self.energies_eV) < 3:
            return False
        top = int(np.argmax(self.energies_eV))
        return 0 < top < len(self.energies_eV) - 1

    @property
    def kra_eV(self) -> float | None:
        """Kinetically resolved activation barrier: mean of both directions, eV."""
        f, b = self.barrier_forward_eV, self.barrier_backward_eV
        return None if f is None else 0.5 * (f + b)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able record (the ``--json`` object of ``nasicon-sim neb``)."""
        return {
            "nasicon_sim_neb": RESULT_VERSION,
            "labels": list(self.labels),
            "hop_type": self.hop.hop_type,
            "sites": [self.hop.site_i, self.hop.site_j],
            "status": self.status,
            "barrier_forward_eV": _r(self.barrier_forward_eV),
            "barrier_backward_eV": _r(self.barrier_backward_eV),
            "kra_eV": _r(self.kra_eV),
            "has_saddle": self.has_saddle,
            "initial_energy_eV": _r(self.initial_energy_eV),
            "final_energy_eV": _r(self.final_energy_eV),
            "bvse_kra_eV": _r(self.hop.bvse_kra_eV),
            "bvse_barrier_forward_eV": _r(self.hop.bvse_barrier_forward_eV),
            "bvse_barrier_backward_eV": _r(self.hop.bvse_barrier_backward_eV),
            "bvse_saddle_frac": list(self.hop.saddle_frac),
            "converged": bool(self.converged),
            "n_steps": int(self.n_steps),
            "max_force_eV_A": _r(self.max_force_eV_A),
            "energies_eV": [_r(e) for e in self.energies_eV],
            "path_A": [_r(x, 4) for x in self.path_A],
            "saddle_image": self.saddle_image,
            "saddle_cart_A": None if self.saddle_cart_A is None
            else [_r(x, 4) for x in self.saddle_cart_A],
            "mover": self.mover,
            "calculator": self.calculator,
            "settings": self.settings,
            "notes": list(self.notes),
            "message": self.message,
            "seconds": round(float(self.seconds), 2),
            "source": self.source,
            "hop": self.hop.as_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], images: tuple = ()) -> NEBResult:
        """Inverse of :meth:`as_dict` (images are read separately)."""
        return cls(hop=Hop.from_dict(d["hop"]), status=d["status"],
                   energies_eV=tuple(d["energies_eV"]), path_A=tuple(d["path_A"]),
                   converged=bool(d["converged"]), n_steps=int(d["n_steps"]),
                   max_force_eV_A=d["max_force_eV_A"], saddle_image=d["saddle_image"],
                   saddle_cart_A=None if d["saddle_cart_A"] is None
                   else tuple(d["saddle_cart_A"]),
                   mover=d["mover"], calculator=d["calculator"], settings=d["settings"],
                   notes=tuple(d["notes"]), message=d["message"], seconds=d["seconds"],
                   source=d.get("source", ""), images=images)

    # ------------------------------------------------------------------ files

    def profile_png(self) -> bytes:
        """The energy profile as PNG bytes (matplotlib, Agg)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(4.5, 3.2), dpi=110)
        if self.energies_eV:
            e = np.array(self.energies_eV) - self.energies_eV[0]
            x = np.array(self.path_A) if self.path_A else np.arange(len(e))
            ax.plot(x, e, "o-", color="C0", label="NEB images")
            ax.axhline(self.hop.bvse_barrier_forward_eV, color="C1", ls="--",
                       label=f"BVSE barrier from i ({self.hop.bvse_barrier_forward_eV:.2f} eV)")
            ax.set_xlabel("path length (A)")
            ax.set_ylabel("E - E(initial) (eV)")
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, self.message or self.status, ha="center", va="center",
                    wrap=True, fontsize=8, transform=ax.transAxes)
        state = self.status
        ax.set_title(f"{self.hop.name} ({self.hop.env_key}): {state}", fontsize=8)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        return buf.getvalue()

    def write(self, directory: str | Path, png: bool = True) -> Path:
        """Write ``<tag>.json``, ``<tag>.extxyz`` and ``<tag>.png`` into ``directory``.

        The JSON is written last, so its presence marks a finished hop (``--resume``).
        """
        from nasicon_sim.io.atomic import atomic_write_bytes, atomic_write_text

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tag = self.hop.tag
        if self.images:
            from ase.io import write

            buf = io.StringIO()
            frames = []
            for k, image in enumerate(self.images):
                a = image.copy()
                a.calc = None
                a.info = {"image": k}
                if k < len(self.energies_eV):
                    a.info["energy_eV"] = float(self.energies_eV[k])
                frames.append(a)
            write(buf, frames, format="extxyz")
            atomic_write_text(directory / f"{tag}.extxyz", buf.getvalue())
        if png:
            atomic_write_bytes(directory / f"{tag}.png", self.profile_png())
        path = directory / f"{tag}.json"
        atomic_write_text(path, json.dumps(self.as_dict(), indent=1) + "\n")
        return path


def read_result(path: str | Path, with_images: bool = False) -> NEBResult:
    """Read a ``<tag>.json`` written by :meth:`NEBResult.write` (and its extxyz images)."""
    from nasicon_sim.errors import NasiconSimError

    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise NasiconSimError(f"cannot read the NEB result {path}: {exc}") from None
    if not isinstance(d, dict) or d.get("nasicon_sim_neb") != RESULT_VERSION:
        raise NasiconSimError(f"{path} is not a nasicon-sim NEB result (version {RESULT_VERSION})")
    images: tuple = ()
    xyz = path.with_suffix(".extxyz")
    if with_images and xyz.is_file():
        from ase.io import read

        images = tuple(read(str(xyz), index=":"))
    return NEBResult.from_dict(d, images)
