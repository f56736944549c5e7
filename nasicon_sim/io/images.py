"""Cross-section images (PNG) of a landscape, drawn with matplotlib's Agg canvas (no pyplot state).

A section is the lattice plane at fractional coordinate ``position`` along one lattice vector
(``axis``); it is drawn in true Cartesian proportions (the two in-plane lattice vectors, skew
included), coloured by the site energy relative to the global minimum and clipped at
``clip_eV`` (energies above it share the top colour, so the colour scale resolves the
channels rather than the framework). Optional contour lines mark percolation levels and are
labelled with their names (E_1D, E_2D, E_3D); an optional marker shows the bottleneck; sites
within ``site_distance_A`` of the plane are marked and labelled; the in-plane axes can be named
after the parent cell (``a``, ``2b``, ``a+2c``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nasicon_sim.errors import NasiconSimError
from nasicon_sim.io.atomic import atomic_savefig

if TYPE_CHECKING:
    from nasicon_sim.bvse.landscape import Landscape

__all__ = ["contour_levels", "parent_axis_names", "section", "write_slice_png"]


def parent_axis_names(matrix: Sequence[Sequence[int]] | None) -> tuple[str, str, str]:
    """Names of a supercell's lattice vectors in terms of the parent cell's a, b, c.

    Parameters
    ----------
    matrix : 3x3 integers or None
        Rows are the supercell vectors as integer combinations of the parent vectors (the
        builder's ``supercell_matrix``). None gives the plain ``a``, ``b``, ``c``.

    Examples
    --------
    >>> parent_axis_names([[1, 0, 0], [0, 2, 0], [1, 0, 2]])
    ('a', '2b', 'a+2c')
    >>> parent_axis_names([[1, 0, -1], [0, 1, 0], [0, 0, 1]])
    ('a-c', 'b', 'c')
    """
    if matrix is None:
        return ("a", "b", "c")
    names = []
    for row in matrix:
        parts = []
        for coeff, axis in zip(row, "abc"):
            coeff = int(coeff)
            if coeff == 0:
                continue
            sign = "-" if coeff < 0 else ("+" if parts else "")
            mag = "" if abs(coeff) == 1 else str(abs(coeff))
            parts.append(f"{sign}{mag}{axis}")
        names.append("".join(parts) or "0")
    return tuple(names)  # type: ignore[return-value]


def contour_levels(levels_eV: Sequence[float] | Mapping[str, float], clip_eV: float
                   ) -> list[tuple[float, list[str]]]:
    """Contour levels inside (0, clip_eV), with the names that share each (within 1 meV).

    Unnamed levels (a plain sequence) get hidden names ``_0``, ``_1`` ...: drawn, not in
    the legend.

    Examples
    --------
    >>> contour_levels({"E_1D": 0.6001, "E_2D": 0.6005, "E_3D": 0.64}, 0.8)
    [(0.6001, ['E_1D', 'E_2D']), (0.64, ['E_3D'])]
    >>> contour_levels([0.5, 1.2], 1.0)
    [(0.5, ['_0'])]
    """
    named = (dict(levels_eV) if isinstance(levels_eV, Mapping)
             else {f"_{i}": float(v) for i, v in enumerate(levels_eV)})
    merged: dict[float, list[str]] = {}
    for name, value in sorted(named.items(), key=lambda kv: kv[1]):
        if not 0.0 < value < clip_eV:
            continue
        key = next((k for k in merged if abs(k - value) < 1e-3), round(float(value), 6))
        merged.setdefault(key, []).append(name)
    return sorted(merged.items())


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
    levels_eV: Sequence[float] | Mapping[str, float] = (),
    sites: Sequence[tuple[str, Sequence[float]]] = (),
    site_distance_A: float = 0.6,
    title: str | None = None,
    dpi: int = 150,
    bottleneck: tuple[str, Sequence[float]] | None = None,
    axis_names: Sequence[str] | None = None,
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
    levels_eV : sequence of float, or mapping name -> float
        Relative energies (eV) to draw as contour lines; with names (``{"E_1D": 0.60, ...}``)
        each line is labelled (levels closer than 1 meV share a line: ``E_1D = E_2D``).
    sites : sequence of (label, frac_coords)
        Points to mark when within ``site_distance_A`` of the plane.
    title : str, optional
    dpi : int
    bottleneck : (label, frac_coords), optional
        A point to mark with a star and its label (e.g. the 3D bottleneck saddle), drawn at
        its projection on the plane.
    axis_names : 3 str, optional
        Names of the landscape's lattice vectors for the axis labels (e.g. from
        :func:`parent_axis_names`); default ``a``, ``b``, ``c`` of the landscape's cell.
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
    import matplotlib

    # the framework (above the clip) in one neutral colour, the channels across the colour scale
    cmap = matplotlib.colormaps["viridis"].with_extremes(over="#d4d4d4")
    mesh = ax.pcolormesh(x, y, np.maximum(values, 0.0), shading="gouraud", cmap=cmap,
                         vmin=0.0, vmax=clip)
    merged = contour_levels(levels_eV, clip)
    # E_1D dotted blue, E_2D dashed orange, E_3D solid red (the highest name of a shared line)
    styles = {"E_1D": ("#1f77b4", ":"), "E_2D": ("#ff7f0e", "--"), "E_3D": ("#d62728", "-")}
    handles = []
    for level, names_at in merged:
        color, style = styles.get(max(names_at), ("white", "-"))
        ax.contour(x, y, values, levels=[level], colors=[color], linewidths=1.2,
                   linestyles=[style])
        shown = [n for n in names_at if not n.startswith("_")]
        if shown:
            from matplotlib.lines import Line2D

            handles.append(Line2D([], [], color=color, ls=style, lw=1.2,
                                  label=f"{' = '.join(shown)} = {level:.3f} eV"))
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
        ax.plot(c @ e1, c @ e2, "o", ms=4, mfc="none", mec="black", mew=0.8)
        ax.annotate(label, (c @ e1, c @ e2), xytext=(3, 3), textcoords="offset points",
                    color="black", fontsize=7)
    if bottleneck is not None:
        b_label, b_frac = bottleneck
        f_in = np.asarray(b_frac, dtype=float) % 1.0
        f_in[axis] = plane_frac
        c = f_in @ lat - plane_frac * lat[axis]
        from matplotlib.lines import Line2D

        ax.plot(c @ e1, c @ e2, marker="*", ms=14, mfc="gold", mec="black", mew=0.8, ls="none")
        handles.append(Line2D([], [], marker="*", ms=10, mfc="gold", mec="black", ls="none",
                              label=b_label))
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper left", framealpha=0.9)
    ax.set_aspect("equal")
    names = tuple(axis_names) if axis_names is not None else ("a", "b", "c")
    ax.set_xlabel(f"along {names[u]} (Å)")
    ax.set_ylabel(f"perpendicular to {names[u]}, in the ({names[u]}, {names[v]}) plane (Å)")
    import textwrap

    text = title or f"BVSE section {names[axis]} = {plane_frac:.3f}"
    ax.set_title("\n".join(textwrap.wrap(text, 72)), fontsize=9)  # long titles stay inside
    fig.colorbar(mesh, ax=ax, extend="max",
                 label=f"E - E_min (eV); grey: {clip:.2f} eV and above")
    atomic_savefig(fig, path, dpi=dpi)
    return path
