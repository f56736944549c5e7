"""The self-contained HTML report: isosurface geometry, and rendering in headless Chromium."""

from __future__ import annotations

import re

import numpy as np
import pytest
from _browser import rendered_dom

from nasicon_sim.report.html import IsosurfaceView, isosurface_mesh, write_report_html


def sphere_landscape(n=24, a=6.0):
    idx = np.indices((n, n, n)).reshape(3, -1).T / n
    d = np.linalg.norm((idx - 0.5) * a, axis=1)
    return (d**2).reshape(n, n, n), np.eye(3) * a


def test_isosurface_vertices_lie_on_the_level_set():
    energies, lattice = sphere_landscape()
    verts, faces = isosurface_mesh(energies, lattice, level_eV=4.0)  # sphere of radius 2 A
    assert len(faces) > 100
    radius = np.linalg.norm(verts - 3.0, axis=1)
    assert np.abs(radius - 2.0).max() < 0.05


def test_isosurface_in_a_skewed_cell_uses_the_cell_matrix():
    energies, _ = sphere_landscape()
    skew = np.array([[6.0, 0, 0], [0, 6.0, 0], [-3.0, 0, 6.0]])  # monoclinic-like
    verts, _ = isosurface_mesh(energies, skew, level_eV=4.0)
    frac = verts @ np.linalg.inv(skew)
    assert frac.min() >= -1e-9 and frac.max() <= 1 + 1e-9
    centre = np.array([0.5, 0.5, 0.5]) @ skew
    assert np.linalg.norm(verts.mean(axis=0) - centre) < 0.1


def test_level_outside_the_data_gives_no_surface():
    energies, lattice = sphere_landscape()
    verts, faces = isosurface_mesh(energies, lattice, level_eV=1e6)
    assert verts.shape == (0, 3) and faces.shape == (0, 3)


@pytest.fixture()
def report(tmp_path):
    energies, lattice = sphere_landscape(16)
    views = [
        IsosurfaceView("A", energies, lattice, {"low": 2.0, "high": 5.0},
                       sites_frac=np.array([[0.5, 0.5, 0.5]]), site_labels=["Na1 (4d)"]),
        IsosurfaceView("B", energies + 1.0, lattice, {"mid": 4.0}),
    ]
    return write_report_html(tmp_path / "report.html", "Test report", "<p>body</p>", views)


def test_html_is_self_contained(report):
    text = report.read_text()
    assert "<script src=" not in text
    # no external resource is loaded by the page's own tags (plotly.js is inlined)
    assert not re.search(r'<(script|link|img|iframe)\b[^>]*(src|href)="https?://', text)


def test_html_renders_in_headless_chromium(report):
    dom = rendered_dom(report)
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert "data-render-error" not in body
    assert 'data-rendered="2"' in body
    assert dom.count("<canvas") >= 2  # one WebGL canvas per 3D scene
