"""Figures a reader can read at a glance: labelled percolation contours, the bottleneck, axes
named after the parent cell, log ticks with numbers, and the screening figure."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nasicon_sim.io.images import contour_levels, parent_axis_names, write_slice_png
from nasicon_sim.report.figures import (
    _readable_log_ticks,
    pareto_front,
    plot_barrier_vs_conductivity,
    plot_screen_candidates,
)


def test_parent_axis_names_of_the_builders_supercells():
    assert parent_axis_names(None) == ("a", "b", "c")
    assert parent_axis_names([[1, 0, 0], [0, 2, 0], [1, 0, 2]]) == ("a", "2b", "a+2c")
    assert parent_axis_names([[2, 0, 0], [0, 1, 0], [0, 0, -1]]) == ("2a", "b", "-c")


def test_contour_levels_share_a_line_when_equal_and_stay_inside_the_colour_scale():
    got = contour_levels({"E_1D": 0.602, "E_2D": 0.602, "E_3D": 0.622}, clip_eV=0.772)
    assert got == [(0.602, ["E_1D", "E_2D"]), (0.622, ["E_3D"])]
    assert contour_levels({"E_3D": 0.9}, clip_eV=0.8) == []


def test_pareto_front_is_the_set_of_non_dominated_points():
    rng = np.random.default_rng(3)
    x, y = rng.random(200), rng.random(200)
    mask = pareto_front(x, y)
    for i in range(200):
        dominated = np.any((x > x[i]) & (y >= y[i]) | (x >= x[i]) & (y > y[i]))
        assert mask[i] == (not dominated)


def test_log_axis_labels_numbers_within_a_decade():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0.6, 0.7], [0.26, 1.3])
    ax.set_yscale("log")
    _readable_log_ticks(ax.yaxis)
    fig.canvas.draw()
    labels = {t.get_text() for t in ax.get_yticklabels() if t.get_text()}
    plt.close(fig)
    assert {"0.3", "0.5", "1"} <= labels


def test_barrier_vs_conductivity_and_screen_figures_are_written(tmp_path):
    out = plot_barrier_vs_conductivity(["A", "B"], [0.6, 0.7], [0.01, 0.02], [0.3, 1.2],
                                       tmp_path / "b.png")
    assert out.stat().st_size > 10_000
    rng = np.random.default_rng(0)
    scores = {"entropy_R": rng.random(300) * 1.6, "p_single_phase": rng.random(300),
              "in_domain": rng.random(300) < 0.8}
    png = plot_screen_candidates(scores, tmp_path / "s.png", pareto=True)
    assert png.stat().st_size > 10_000


def test_slice_with_named_levels_bottleneck_and_parent_axes(tmp_path):
    from nasicon_sim.bvse import BVSESettings, analyse
    from nasicon_sim.structure.parent import load_parent

    r = analyse(load_parent(), BVSESettings(spacing_A=0.4, threads=1))
    b = r.network.path(3).bottleneck
    png = write_slice_png(tmp_path / "s.png", r.landscape, axis=1, position=b.frac_coords[1],
                          clip_eV=r.barriers_eV[2] + 0.15,
                          levels_eV={f"E_{d}D": e for d, e in zip((1, 2, 3), r.barriers_eV)},
                          bottleneck=(f"3D bottleneck {b.name}", b.frac_coords),
                          axis_names=parent_axis_names(None))
    assert png.stat().st_size > 10_000
    with pytest.raises(Exception, match="clip_eV"):
        write_slice_png(tmp_path / "t.png", r.landscape, clip_eV=-1.0)


def test_screen_plot_option_writes_the_figure(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "nasicon_sim", "-q", "screen", "--elements", "Ti,Lu",
         "--max-cations", "3", "--step", "0.25", "-o", str(tmp_path / "c.csv"), "--show", "1",
         "--plot", str(tmp_path / "screen.png")],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "screen.png").stat().st_size > 10_000
