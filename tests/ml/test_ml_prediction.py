"""Predictions: the default model, the domain flag, E_hull, and the DFT-feature decision."""

from __future__ import annotations

import numpy as np
import pytest

from nasicon_sim.composition import parse_nasicon
from nasicon_sim.descriptors import describe
from nasicon_sim.errors import FeatureError, FormulaError
from nasicon_sim.ml import Prediction, predict
from nasicon_sim.ml.dataset import load_literature
from nasicon_sim.ml.features import CompositionArrays
from nasicon_sim.ml.prediction import DEFAULT_DFT_FEATURES
from nasicon_sim.ml.synthesizability import (
    DFT_FEATURES,
    compare_dft_features,
    fit_synthesizability_model,
)


def test_default_model_is_the_studys_gnb(default_model, literature):
    assert default_model.name == "gnb"
    assert default_model.features == ("radius_pm", "electronegativity", "valence", "entropy_R")
    meta = default_model.metadata
    assert meta["label_policy"] == "majority" and meta["n_train"] == len(literature.entries)
    assert meta["dataset_sha256"] == literature.sha256
    assert meta["versions"]["scikit-learn"]


def test_probability_matches_the_pipeline_on_describe_features(default_model, study_formulas):
    preds = predict(list(study_formulas.values()), default_model)
    X = np.array([[d.radius_pm, d.electronegativity, d.valence, d.entropy_R]
                  for d in (describe(parse_nasicon(f)) for f in study_formulas.values())])
    expected = default_model.estimator.predict_proba(X)[:, 1]
    np.testing.assert_allclose([p.p_single_phase for p in preds], expected, rtol=1e-12)
    assert all(isinstance(p, Prediction) for p in preds)
    assert preds[0].formula == study_formulas["NZSP"]


def test_out_of_domain_is_flagged_with_the_features(default_model):
    # Ge4+ (53 pm) is smaller than any M site in the training data
    (p,) = predict(["NaGe2(PO4)3"], default_model)
    assert not p.in_domain and "radius_pm" in p.out_of_domain_features
    (q,) = predict([parse_nasicon("Na3Zr2Si2PO12")], default_model)
    assert q.in_domain and q.out_of_domain_features == ()


def test_e_hull_is_reported(default_model):
    (p,) = predict(["NaTi2(PO4)3"], default_model)
    assert isinstance(p.e_hull_pred_meV, float) and 0 <= p.p_stable_dft <= 1
    d = p.as_dict()
    assert {"formula", "p_single_phase", "in_domain", "e_hull_pred_meV"} <= set(d)


def test_bad_formula_is_one_clear_error(default_model):
    with pytest.raises(FormulaError, match="unknown element 'Xx'"):
        predict(["Na3Zr2Xx2PO12"], default_model)
    assert predict([], default_model) == []


def test_dft_feature_needs_a_stability_model(literature, stability_model):
    with pytest.raises(FeatureError, match="need a computed-stability model"):
        fit_synthesizability_model(literature, "gnb", ("study", "dft_p_stable"))
    m = fit_synthesizability_model(literature, "gnb", "study,dft_e_hull_meV", stability_model)
    assert m.features[-1] == "dft_e_hull_meV" and m.dft_features == ("dft_e_hull_meV",)
    X = m.feature_matrix(CompositionArrays.from_compositions(literature.compositions[:3]))
    _, e, _ = stability_model.predict(literature.compositions[:3])
    np.testing.assert_allclose(X[:, -1], e)


@pytest.mark.slow
def test_default_uses_a_dft_feature_only_if_it_helped(stability_model):
    comparisons = compare_dft_features(load_literature(), stability_model)
    assert [c.feature for c in comparisons] == list(DFT_FEATURES)
    helped = [c for c in comparisons if c.helps]
    expected = (max(helped, key=lambda c: c.gain.mean).feature,) if helped else ()
    assert DEFAULT_DFT_FEATURES == expected
