"""Formula-only features: agreement with describe(), invariances, Ouyang's own columns."""

from __future__ import annotations

import csv
import io
import math
from importlib import resources

import numpy as np
import pytest

from nasicon_sim.composition import parse_nasicon
from nasicon_sim.descriptors import describe
from nasicon_sim.errors import FeatureError
from nasicon_sim.ml.features import (
    FEATURE_DESCRIPTIONS,
    FEATURE_SETS,
    STUDY_FEATURES,
    CompositionArrays,
    NasiconFeaturizer,
    compute_features,
    resolve_features,
)


def test_study_features_agree_with_describe(literature, study_formulas):
    comps = [*literature.compositions, *(parse_nasicon(f) for f in study_formulas.values())]
    X = NasiconFeaturizer("study+").featurize_many(comps)
    for row, comp in zip(X, comps):
        d = describe(comp)
        expected = [d.radius_pm, d.electronegativity, d.valence, d.entropy_R, d.delta_radius,
                    d.na]
        np.testing.assert_allclose(row, expected, rtol=1e-12, atol=1e-12)


def test_featurizer_contract():
    f = NasiconFeaturizer("formula")
    assert f.feature_labels() == list(FEATURE_DESCRIPTIONS)
    assert any("Zuo" in c for c in f.citations()) and f.implementors()
    single = f.featurize("NaTi2(PO4)3")
    many = f.featurize_many(["Na3Zr2Si2PO12", "NaTi2(PO4)3"])
    assert many.shape == (2, len(FEATURE_DESCRIPTIONS))
    np.testing.assert_array_equal(single, many[1])


@pytest.mark.parametrize(
    ("a", "b"),
    [("Na3ZrZn(PO4)3", "Na3ZnZr(PO4)3"),                      # M-site order
     ("Na3Zr2Si2PO12", "Na6Zr4Si4P2O24"),                      # two formula units
     ("Na3Zr2Si2PO12", "Na3Zr2(SiO4)2(PO4)"),                  # polyanion notation
     ("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", "Na3.5Lu0.5Ti0.5ZrSi2PO12")],
)
def test_features_do_not_depend_on_notation(a, b):
    f = NasiconFeaturizer("formula")
    np.testing.assert_allclose(f.featurize(a), f.featurize(b), rtol=1e-12, atol=1e-12)


def test_entropy_features_by_hand():
    # NZSP: S_M = 0; T site 2/3 Si + 1/3 P; Na occupancy 3/4 on 4 positions; 20 atoms per f.u.
    f = NasiconFeaturizer(["t_entropy_R", "na_site_entropy_R", "config_entropy_per_atom_kB",
                           "polyanion_charge", "polyanion_charge_std", "si_fraction"])
    s_t = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    s_na = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    q = 2 / 3 * 4 + 1 / 3 * 3
    q_std = math.sqrt(2 / 3 * (4 - q) ** 2 + 1 / 3 * (3 - q) ** 2)
    expected = [s_t, s_na, (3 * s_t + 4 * s_na) / 20, q, q_std, 2 / 3]
    np.testing.assert_allclose(f.featurize("Na3Zr2Si2PO12"), expected, rtol=1e-12)
    # an empty or full Na site has no Na/vacancy entropy
    assert NasiconFeaturizer(["na_site_entropy_R"]).featurize("MgZr(SO4)3") == [0.0]
    assert NasiconFeaturizer(["na_site_entropy_R"]).featurize("Na4Zr2Si3O12") == [0.0]


def test_extremes_and_counts():
    f = NasiconFeaturizer(["radius_min_pm", "radius_max_pm", "n_m_cations", "valence_std"])
    r_min, r_max, n, v_std = f.featurize("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12")
    assert (r_min, r_max, n) == (60.5, 86.1, 3.0)  # Shannon VI: Ti4+ 60.5 pm, Lu3+ 86.1 pm
    assert v_std == pytest.approx(math.sqrt(0.75 * 0.25))


def _ouyang_columns() -> list[dict[str, str]]:
    rows = []
    for name in ("train.csv", "test.csv"):
        text = resources.files("nasicon_sim").joinpath(f"data/ouyang2021/{name}").read_text()
        rows += list(csv.DictReader(io.StringIO(text)))
    return rows


def test_na_ratio_features_reproduce_ouyangs_columns(ouyang):
    # Independent reference: Ouyang et al. tabulate R_M/R_Na and X_M - X_Na for every row.
    rows = _ouyang_columns()
    X = compute_features(CompositionArrays.from_compositions(ouyang.compositions),
                         ["radius_ratio_na", "electronegativity_diff_na", "na"])
    np.testing.assert_allclose(X[:, 0], [float(r["RRatioNaLst"]) for r in rows], atol=1e-9)
    np.testing.assert_allclose(X[:, 1], [float(r["XWithNaLst"]) for r in rows], atol=1e-9)
    np.testing.assert_allclose(X[:, 2], [float(r["NNaLst"]) for r in rows], atol=1e-9)


def test_ouyang_x1_matches_their_descriptor_where_their_std_is_the_weighted_one(ouyang):
    X = compute_features(CompositionArrays.from_compositions(ouyang.compositions),
                         ["ouyang_x1", "si_fraction", "p_fraction", "s_fraction"])
    diff = np.abs(X[:, 0] - ouyang.descriptor_2d[:, 0])
    sixths = np.all(np.abs(X[:, 1:] * 6 - np.round(X[:, 1:] * 6)) < 1e-9, axis=1)
    assert sixths.sum() == 3110
    assert diff[sixths].max() < 1e-6  # float32 in their file
    # the Si/S twelfths: their tabulated std differs from the fraction-weighted one
    assert 0 < diff[~sixths].max() < 0.09


def test_resolve_features():
    assert resolve_features("study") == STUDY_FEATURES
    assert resolve_features("radius_pm, valence") == ("radius_pm", "valence")
    assert FEATURE_SETS["study+"][-2:] == ("delta_radius", "na")
    with pytest.raises(FeatureError, match="unknown feature.*bogus"):
        resolve_features("radius_pm,bogus")
    with pytest.raises(FeatureError, match="repeated"):
        resolve_features(["na", "na"])
    with pytest.raises(FeatureError, match="no features"):
        resolve_features(" , ")


def test_composition_arrays_validate_their_shapes():
    species = (("Zr", 4),)
    with pytest.raises(FeatureError, match="m_amounts must have shape"):
        CompositionArrays(species, np.ones((2, 2)), np.zeros((2, 4)), np.ones(2))
    with pytest.raises(FeatureError, match="t_amounts"):
        CompositionArrays(species, np.ones((2, 1)), np.zeros((2, 3)), np.ones(2))
    with pytest.raises(FeatureError, match=">= 0"):
        CompositionArrays(species, -np.ones((1, 1)), np.zeros((1, 4)), np.ones(1))
    empty = CompositionArrays(species, np.zeros((0, 1)), np.zeros((0, 4)), np.zeros(0))
    assert compute_features(empty, STUDY_FEATURES).shape == (0, 4)
