"""Cross-section images (PNG) of a landscape, drawn with matplotlib's Agg canvas (no pyplot state).

A section is the lattice plane at fractional coordinate ``position`` along one lattice vector
(``axis``); it is drawn in true Cartesian proportions (the two in-plane lattice vectors, skew
included), coloured by the site energy relative to the global minimum and clipped at
``clip_eV``. Optional contour lines mark percolation levels; optional sites within
``site_distance_A`` of the plane are marked and labelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nasicon_sim.errors import NasiconSimError
from nasicon_sim.io.atomic import atomic_savefig

if TYPE_CHECKING:
    from nasicon_sim.bvse.landscape import Landscape

__all__ = ["section", "write_slice_png"]


def section(landscape: Landscape, axis: int = 2, position: float = 0.5
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A lattice-plane section of the landscape.

    Returns
    -------
    x, y : numpy.ndarray (m + 1, n + 1)
        In-plane Cartesian coordinates (Angstrom) of the section's grid, periodically closed.
    values : numpy.ndarray (m + 1, n + 1)
        Energies relative to the global minimum (eV).
    plane_frac : float
        Fractional coordinate of the grid plane actually shown (nearest to ``position``).
    """
    if axis not in (0, 1, 2):
        raise NasiconSimError(f"axis must be 0, 1 or 2, got {axis!r}")
    e = np.asarray(landscape.energies_eV)
    n_ax = e.shape[axis]
    k = int(round((position % 1.0) * n_ax)) % n_ax
    plane = np.take(e, k, axis=axis) - e.min()
    plane = np.concatenate([plane, plane[:1]], axis=0)
    plane = np.concatenate([plane, plane[:, :1]], axis=1)
    u, v = [i for i in range(3) if i != axis]
    lat = np.asarray(landscape.lattice)
    au, av = lat[u], lat[v]
    e1 = au / np.linalg.norm(au)
    e2 = av - (av @ e1) * e1
    e2 /= np.linalg.norm(e2)
    fu = np.arange(e.shape[u] + 1) / e.shape[u]
    fv = np.arange(e.shape[v] + 1) / e.shape[v]
    fu_g, fv_g = np.meshgrid(fu, fv, indexing="ij")
    cart = fu_g[..., None] * au + fv_g[..., None] * av
    return cart @ e1, cart @ e2, plane, k / n_ax


def write_slice_png(
    path: str | Path,
    landscape: Landscape,
    axis: int = 2,
    position: float = 0.5,
    clip_eV: float | None = None,
    levels_eV: Sequence[float] = (),
    sites: Sequence[tuple[str, Sequence[float]]] = (),
    site_distance_A: float = 0.6,
    title: str | None = None,
    dpi: int = 150,
) -> Path:
    """Draw a cross-section of the landscape into a PNG file.

    Parameters
    ----------
    path : str or Path
    landscape : Landscape
    axis : {0, 1, 2}
        Lattice vector normal-ish to the section (the section holds the other two).
    position : float
        Fractional coordinate of the section along ``axis``.
    clip_eV : float, optional
        Upper end of the colour scale (relative energy); default 2 eV.
    levels_eV : sequence of float
        Relative energies to draw as contour lines (e.g. E_1D, E_3D).
    sites : sequence of (label, frac_coords)
        Points to mark when within ``site_distance_A`` of the plane.
    title : str, optional
    dpi : int
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    x, y, values, plane_frac = section(landscape, axis, position)
    clip = 2.0 if clip_eV is None else float(clip_eV)
    if not clip > 0:
        raise NasiconSimError("clip_eV must be positive")
    fig = Figure(figsize=(6.4, 5.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    mesh = ax.pcolormesh(x, y, np.clip(values, 0.0, clip), shading="gouraud", cmap="viridis",
                         vmin=0.0, vmax=clip)
    levels = sorted({float(v) for v in levels_eV if 0.0 < v < clip})
    if levels:
        ax.contour(x, y, values, levels=levels, colors="white", linewidths=0.8)
    lat = np.asarray(landscape.lattice)
    u, v = [i for i in range(3) if i != axis]
    e1 = lat[u] / np.linalg.norm(lat[u])
    e2 = lat[v] - (lat[v] @ e1) * e1
    e2 /= np.linalg.norm(e2)
    normal = np.cross(lat[u], lat[v])
    normal /= np.linalg.norm(normal)
    for label, frac in sites:
        f = np.asarray(frac, dtype=float) % 1.0
        df = f[axis] - plane_frac
        df -= round(df)
        if abs(df * (lat[axis] @ normal)) > site_distance_A:
            continue
        f_in = f.copy()
        f_in[axis] = plane_frac
        c = f_in @ lat - plane_frac * lat[axis]
        ax.plot(c @ e1, c @ e2, "o", ms=4, mfc="none", mec="red")
        ax.annotate(label, (c @ e1, c @ e2), xytext=(3, 3), textcoords="offset points",
                    color="red", fontsize=7)
    ax.set_aspect("equal")
    names = "abc"
    ax.set_xlabel(f"along {names[u]} (Angstrom)")
    ax.set_ylabel(f"in the {names[u]}{names[v]} plane (Angstrom)")
    ax.set_title(title or f"BVSE section {names[axis]} = {plane_frac:.3f}")
    fig.colorbar(mesh, ax=ax, label="E - E_min (eV)")
    atomic_savefig(fig, path, dpi=dpi)
    return path
