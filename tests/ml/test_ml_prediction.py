"""Predictions: the default (nested-CV selected) model, the study's GNB, the domain flag, E_hull."""

from __future__ import annotations

import numpy as np
import pytest

from nasicon_sim.composition import parse_nasicon
from nasicon_sim.descriptors import describe
from nasicon_sim.errors import FeatureError, FormulaError
from nasicon_sim.ml import Prediction, predict
from nasicon_sim.ml.features import CompositionArrays
from nasicon_sim.ml.prediction import study_model
from nasicon_sim.ml.selection import shipped_selection
from nasicon_sim.ml.synthesizability import fit_synthesizability_model, split_features
from nasicon_sim.ml.uncertainty import apply_platt


def test_default_model_is_the_shipped_selection(default_model, literature):
    chosen = shipped_selection().selected
    base, dft = split_features(chosen.features)
    assert default_model.name == chosen.classifier and default_model.params == chosen.params
    assert default_model.features == (*base, *dft)
    assert default_model.platt is not None and default_model.conformal is not None
    meta = default_model.metadata
    assert meta["label_policy"] == "majority" and meta["n_train"] == len(literature.y)
    assert meta["dataset_sha256"] == literature.sha256 and meta["selection"] == chosen.key
    assert meta["versions"]["scikit-learn"]


def test_study_gnb_stays_available(study_formulas):
    gnb = study_model()
    assert gnb.name == "gnb" and gnb.platt is None
    assert gnb.features == ("radius_pm", "electronegativity", "valence", "entropy_R")
    preds = predict(list(study_formulas.values()), gnb)
    X = np.array([[d.radius_pm, d.electronegativity, d.valence, d.entropy_R]
                  for d in (describe(parse_nasicon(f)) for f in study_formulas.values())])
    expected = gnb.estimator.predict_proba(X)[:, 1]
    np.testing.assert_allclose([p.p_single_phase for p in preds], expected, rtol=1e-12)
    assert all(isinstance(p, Prediction) for p in preds)
    assert preds[0].formula == study_formulas["NZSP"] and preds[0].model == "gnb"


def test_default_probability_is_the_calibrated_pipeline(default_model, study_formulas):
    comps = [parse_nasicon(f) for f in study_formulas.values()]
    preds = predict(comps, default_model)
    X = default_model.feature_matrix(CompositionArrays.from_compositions(comps))
    expected = apply_platt(default_model.estimator.predict_proba(X)[:, 1], default_model.platt)
    np.testing.assert_allclose([p.p_single_phase for p in preds], expected, rtol=1e-12)
    for p in preds:
        assert 0 < p.p_single_phase_std < 0.5 and p.alpha == 0.1
        assert set(p.prediction_set) <= {"single_phase", "secondary_phases"}
        assert p.model == shipped_selection().selected.key


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
    assert {"formula", "p_single_phase", "in_domain", "e_hull_pred_meV", "p_single_phase_std",
            "prediction_set", "alpha"} <= set(d)


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
