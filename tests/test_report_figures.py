"""Report figures are written and are real images."""

from __future__ import annotations

import math

import matplotlib.image as mpimg

from nasicon_sim.report.figures import plot_barrier_distributions, plot_barrier_vs_conductivity


def test_barrier_distribution_png(tmp_path):
    barriers = {
        "A": {"E_1D_eV": [0.3, 0.32], "E_2D_eV": [0.35, 0.36], "E_3D_eV": [0.4, math.inf]},
        "B": {"E_1D_eV": [0.5], "E_2D_eV": [0.55], "E_3D_eV": [0.6]},
    }
    path = plot_barrier_distributions(barriers, tmp_path / "b.png")
    img = mpimg.imread(path)
    assert img.shape[0] > 200 and img.shape[1] > 200
    assert img[..., :3].std() > 0.01  # not blank


def test_barrier_vs_sigma_png_skips_unmeasured(tmp_path):
    path = plot_barrier_vs_conductivity(["A", "B", "C"], [0.4, 0.5, 0.6], [0.01, 0.02, 0.0],
                                        [1.3, None, 0.26], tmp_path / "s.png", note="rho = -1")
    assert mpimg.imread(path).shape[0] > 200
