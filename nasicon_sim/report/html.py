"""Self-contained ``report.html``: tables plus an interactive 3D isosurface view per composition.

The isosurfaces are computed with marching cubes (scikit-image, Lewiner et al. 2003) on the
periodic landscape in grid-index space and mapped to Cartesian coordinates with the cell
matrix, so skewed (monoclinic) cells are drawn exactly; plotly's own isosurface trace needs a
rectilinear grid and cannot. plotly.js is embedded once, so the file opens offline.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["IsosurfaceView", "img_tag", "isosurface_mesh", "write_report_html"]


@dataclass(frozen=True)
class IsosurfaceView:
    """What the 3D view of one composition shows.

    Attributes
    ----------
    label : str
        Composition label (used as the element id and title).
    energies_eV : ndarray, shape (n1, n2, n3)
        Site-energy landscape on a periodic grid (point i at fractional i / n).
    lattice : ndarray, shape (3, 3)
        Cell matrix, rows = lattice vectors (Angstrom).
    levels_eV : mapping of str to float
        Named absolute energy levels to draw (e.g. ``{"E_min + E_3D": -0.3}``).
    sites_frac : ndarray, shape (m, 3), optional
        Fractional coordinates of Na sites (landscape minima) to mark.
    site_labels : sequence of str, optional
        Hover labels of those sites.
    title : str
        Caption.
    """

    label: str
    energies_eV: np.ndarray
    lattice: np.ndarray
    levels_eV: Mapping[str, float]
    sites_frac: np.ndarray | None = None
    site_labels: Sequence[str] | None = None
    title: str = ""


def isosurface_mesh(
    energies_eV: np.ndarray, lattice: np.ndarray, level_eV: float
) -> tuple[np.ndarray, np.ndarray]:
    """Triangulated isosurface of a periodic landscape in Cartesian coordinates.

    Parameters
    ----------
    energies_eV : ndarray, shape (n1, n2, n3)
        Periodic grid values, point (i, j, k) at fractional (i/n1, j/n2, k/n3).
    lattice : ndarray, shape (3, 3)
        Rows are the lattice vectors.
    level_eV : float
        Isovalue.

    Returns
    -------
    vertices : ndarray, shape (v, 3)
        Cartesian vertex positions (Angstrom) within the closed unit cell.
    faces : ndarray, shape (f, 3)
        Vertex indices of each triangle. Empty arrays if the level does not cross the data.
    """
    from skimage.measure import marching_cubes

    grid = np.asarray(energies_eV, dtype=float)
    if not (grid.min() < level_eV < grid.max()):
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=int)
    # close the periodic grid with its first plane so the surface reaches the cell faces
    closed = np.pad(grid, ((0, 1), (0, 1), (0, 1)), mode="wrap")
    verts, faces, _, _ = marching_cubes(closed, level=level_eV)
    frac = verts / np.asarray(grid.shape, dtype=float)
    return frac @ np.asarray(lattice, dtype=float), faces.astype(int)


def _cell_edges(lattice: np.ndarray) -> np.ndarray:
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], dtype=float)
    pairs = [(a, b) for a in range(8) for b in range(a + 1, 8)
             if np.sum(np.abs(corners[a] - corners[b])) == 1]
    pts = []
    for a, b in pairs:
        pts += [corners[a] @ lattice, corners[b] @ lattice, [np.nan] * 3]
    return np.array(pts)


def _figure_json(view: IsosurfaceView) -> dict:
    lattice = np.asarray(view.lattice, dtype=float)
    traces = []
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    for i, (name, level) in enumerate(view.levels_eV.items()):
        verts, faces = isosurface_mesh(view.energies_eV, lattice, level)
        if len(faces) == 0:
            continue
        traces.append({
            "type": "mesh3d", "name": name, "showlegend": True,
            "x": np.round(verts[:, 0], 2).tolist(), "y": np.round(verts[:, 1], 2).tolist(),
            "z": np.round(verts[:, 2], 2).tolist(),
            "i": faces[:, 0].tolist(), "j": faces[:, 1].tolist(), "k": faces[:, 2].tolist(),
            "color": palette[i % len(palette)], "opacity": 0.45 if i else 0.8,
            "visible": True if i == 0 else "legendonly", "hoverinfo": "name",
        })
    edges = _cell_edges(lattice)
    traces.append({
        "type": "scatter3d", "mode": "lines", "name": "cell", "showlegend": False,
        "x": [None if np.isnan(v) else round(float(v), 3) for v in edges[:, 0]],
        "y": [None if np.isnan(v) else round(float(v), 3) for v in edges[:, 1]],
        "z": [None if np.isnan(v) else round(float(v), 3) for v in edges[:, 2]],
        "line": {"color": "black", "width": 2}, "hoverinfo": "skip",
    })
    if view.sites_frac is not None and len(view.sites_frac):
        cart = np.asarray(view.sites_frac, dtype=float) % 1.0 @ lattice
        traces.append({
            "type": "scatter3d", "mode": "markers", "name": "Na sites (minima)",
            "x": np.round(cart[:, 0], 3).tolist(), "y": np.round(cart[:, 1], 3).tolist(),
            "z": np.round(cart[:, 2], 3).tolist(),
            "text": list(view.site_labels or []), "hoverinfo": "text",
            "marker": {"size": 3, "color": "#444"},
        })
    layout = {
        "title": {"text": view.title or view.label},
        "scene": {"aspectmode": "data", "xaxis": {"title": "x (Å)"},
                  "yaxis": {"title": "y (Å)"}, "zaxis": {"title": "z (Å)"}},
        "margin": {"l": 0, "r": 0, "t": 40, "b": 0}, "height": 560,
        "legend": {"title": {"text": "isosurface (click to toggle)"}},
    }
    return {"data": traces, "layout": layout}


def write_report_html(
    path: str | Path,
    title: str,
    body_html: str,
    views: Sequence[IsosurfaceView],
) -> Path:
    """Write a self-contained HTML report.

    Parameters
    ----------
    path : str or Path
        Output file.
    title : str
        Page title.
    body_html : str
        Report body (tables, notes) as HTML, placed before the 3D views.
    views : sequence of IsosurfaceView
        One interactive 3D view per composition.

    Returns
    -------
    Path
        The written file. When every view has rendered, the page sets
        ``data-rendered="<number of views>"`` on ``<body>`` (what the browser test checks).
    """
    from plotly.offline import get_plotlyjs

    path = Path(path)
    figures = {f"view-{i}": _figure_json(v) for i, v in enumerate(views)}
    sections = "\n".join(
        f'<section><h3>{html.escape(v.label)}</h3><div id="view-{i}" class="iso"></div></section>'
        for i, v in enumerate(views)
    )
    script = f"""
const FIGURES = {json.dumps(figures, separators=(",", ":"))};
const ids = Object.keys(FIGURES);
Promise.all(ids.map(id => Plotly.newPlot(id, FIGURES[id].data, FIGURES[id].layout,
                                         {{responsive: true}})))
  .then(() => document.body.setAttribute("data-rendered", String(ids.length)))
  .catch(err => document.body.setAttribute("data-render-error", String(err)));
"""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
img {{ max-width: 100%; }}
.iso {{ border: 1px solid #ddd; margin-bottom: 1.5em; }}
</style>
<script>{get_plotlyjs()}</script></head>
<body>
<h1>{html.escape(title)}</h1>
{body_html}
<h2>Interactive Na<sup>+</sup> site-energy landscapes</h2>
<p>Isosurfaces of the BVSE landscape of one configuration per composition; drag to rotate,
click a legend entry to show another level.</p>
{sections}
<script>{script}</script>
</body></html>
"""
    from nasicon_sim.io.atomic import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, page)


def img_tag(png: str | Path, alt: str = "") -> str:
    """An ``<img>`` element with the PNG inlined as base64 (keeps the report self-contained)."""
    import base64

    data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
