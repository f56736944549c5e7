"""``nasicon-sim ml``: evaluate, fit and apply the synthesizability and stability models."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from nasicon_sim.cli.data import print_dataset_summary, print_help
from nasicon_sim.errors import NasiconSimError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ml",
        help="evaluate, fit and apply the phase-purity and DFT-stability models",
        description="Machine-learning models of NASICON synthesizability (Zuo et al. 2026) and "
        "DFT stability (trained on Ouyang et al. 2021).",
    )
    ml = p.add_subparsers(dest="ml_command", metavar="ML_COMMAND")

    ev = ml.add_parser("evaluate", help="cross-validate the models and print the comparison")
    ev.add_argument("--dataset", choices=("literature", "ouyang2021"), default="literature",
                    help="literature phase outcomes (default) or the Ouyang 2021 DFT set")
    ev.add_argument("--data", metavar="CSV",
                    help="a labelled table of your own instead of the shipped literature one")
    ev.add_argument("--policy", default="majority", help="label policy (default majority)")
    ev.add_argument("--lenient", action="store_true",
                    help="leave out (and report) rows whose formula does not parse")
    ev.add_argument("--features", default=None,
                    help="feature set or comma-separated names (default: study for the "
                    "literature, formula for ouyang2021)")
    ev.add_argument("--models", default=None,
                    help="comma-separated classifiers (default: the study's five; + hgb "
                    "for ouyang2021)")
    ev.add_argument("--folds", type=int, default=10, help="literature CV folds (default 10)")
    ev.add_argument("--repeats", type=int, default=10, help="literature CV repeats (default 10)")
    ev.add_argument("--seed", type=int, default=0, help="seed of folds and models (default 0)")
    ev.add_argument("--test-size", type=float, default=0.22,
                    help="held-out fraction (default 0.22, the study's 13 of 58)")
    ev.add_argument("--plots", metavar="DIR", help="write ROC curves (PNG) to this directory")
    ev.add_argument("--no-transfer", action="store_true",
                    help="ouyang2021: skip the transfer to the literature labels")
    ev.add_argument("--no-grouped", action="store_true",
                    help="ouyang2021: skip the CV grouped by chemical system")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(func=run_evaluate)

    pr = ml.add_parser("predict", help="probability of single-phase formation, E_hull estimate")
    pr.add_argument("formulas", nargs="+", metavar="FORMULA")
    pr.add_argument("--model", metavar="PATH",
                    help="a model saved by 'ml fit' (default: GNB on the study's descriptors, "
                    "fitted on the shipped literature table)")
    pr.add_argument("--features", help="refuse a saved model unless it uses these features")
    pr.add_argument("--json", action="store_true", help="print a JSON list")
    pr.set_defaults(func=run_predict)

    fi = ml.add_parser("fit", help="fit a synthesizability model and save it with its metadata")
    fi.add_argument("-o", "--output", required=True, metavar="PATH",
                    help="model file (.joblib); a .json sidecar is written next to it")
    fi.add_argument("--data", metavar="CSV", help="labelled table (default: shipped literature)")
    fi.add_argument("--policy", default="majority")
    fi.add_argument("--lenient", action="store_true")
    fi.add_argument("--model", default="gnb", help="classifier (default gnb)")
    fi.add_argument("--features", default="study", help="feature set or names (default study)")
    fi.add_argument("--seed", type=int, default=0)
    fi.set_defaults(func=run_fit)
    p.set_defaults(func=lambda args: print_help(p))


def _names(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not text:
        return default
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _table(args):
    from nasicon_sim.ml.dataset import literature_table, read_table

    if args.data:
        return read_table(args.data), not args.lenient
    return literature_table(), False


def _fmt(mean: float, std: float) -> str:
    return "   n/a     " if math.isnan(mean) else f"{mean:.3f}±{std:.3f}"


def run_evaluate(args: argparse.Namespace) -> int:
    if args.dataset == "ouyang2021":
        return _evaluate_ouyang(args)
    from nasicon_sim.ml.evaluation import plot_roc_curves
    from nasicon_sim.ml.models import STUDY_MODELS
    from nasicon_sim.ml.synthesizability import evaluate_literature

    table, strict = _table(args)
    ev = evaluate_literature(
        table, args.policy, strict=strict, features=args.features or "study",
        models=_names(args.models, STUDY_MODELS), n_splits=args.folds, n_repeats=args.repeats,
        seed=args.seed, test_size=args.test_size,
    )
    plots = []
    if args.plots:
        plots.append(str(plot_roc_curves(
            ev.holdout, Path(args.plots) / "roc_literature_holdout.png",
            f"held-out {ev.holdout[0].n_test} of {ev.holdout[0].n_test + ev.holdout[0].n_train}"
            f" compositions, features {', '.join(ev.features)}")))
    if args.json:
        out = ev.as_dict()
        out["plots"] = plots
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print_dataset_summary(ev.dataset)
    print(f"Features: {', '.join(ev.features)}")
    print(f"Repeated stratified {ev.n_splits}-fold CV x {ev.n_repeats} repeats, seed {ev.seed} "
          f"({len(ev.cv[0].fold_scores['accuracy'])} folds; mean ± std over folds); held-out "
          f"split: {ev.holdout[0].n_test} of {ev.holdout[0].n_test + ev.holdout[0].n_train}")
    print(f"{'model':<6} {'CV accuracy':>12} {'CV bal. acc.':>12} {'CV ROC AUC':>12} "
          f"{'test acc':>9} {'test AUC':>9}  test confusion [[TN FP] [FN TP]]")
    for cv, ho in zip(ev.cv, ev.holdout):
        m = cv.metrics
        print(f"{cv.name:<6} {_fmt(m['accuracy'].mean, m['accuracy'].std):>12} "
              f"{_fmt(m['balanced_accuracy'].mean, m['balanced_accuracy'].std):>12} "
              f"{_fmt(m['roc_auc'].mean, m['roc_auc'].std):>12} {ho.accuracy:>9.3f} "
              f"{ho.roc_auc:>9.3f}  {[list(r) for r in ho.confusion]}")
    if ev.importance:
        print(f"Feature importance ({ev.importance_model}; positive = the feature helps):")
        print(f"  {'feature':<20} {'drop-one rise in CV error':>26} {'permutation':>14}")
        for imp in ev.importance:
            print(f"  {imp.feature:<20} {_fmt(imp.drop_one.mean, imp.drop_one.std):>26} "
                  f"{_fmt(imp.permutation.mean, imp.permutation.std):>14}")
    if ev.study:
        names = list(ev.study[0].p_single_phase)
        print("Study compositions (Zuo et al. 2026), scored by models fitted without the "
              "study's own rows; p(single phase):")
        print(f"  {'label':<6} {'reported':<17} " + " ".join(f"{n:>6}" for n in names)
              + "  in_domain")
        for s in ev.study:
            dom = "yes" if s.in_domain else f"no ({', '.join(s.out_of_domain_features)})"
            print(f"  {s.label:<6} {s.reported or 'not stated':<17} "
                  + " ".join(f"{s.p_single_phase[n]:>6.3f}" for n in names) + f"  {dom}")
    for path in plots:
        print(f"wrote {path}")
    return 0


def _evaluate_ouyang(args: argparse.Namespace) -> int:
    from nasicon_sim.ml.dataset import build_dataset
    from nasicon_sim.ml.models import STABILITY_MODELS
    from nasicon_sim.ml.prediction import DEFAULT_DFT_FEATURES, DEFAULT_FEATURES, DEFAULT_MODEL
    from nasicon_sim.ml.stability import (
        evaluate_stability,
        fit_stability_model,
        transfer_to_experiments,
    )
    from nasicon_sim.ml.synthesizability import compare_dft_features

    ev = evaluate_stability(models=_names(args.models, STABILITY_MODELS),
                            features=args.features or "formula", seed=args.seed,
                            grouped=not args.no_grouped)
    out = ev.as_dict()
    transfer = comparisons = lit = None
    if not args.no_transfer:
        table, strict = _table(args)
        lit = build_dataset(table, args.policy, strict=strict)
        stability = fit_stability_model(seed=args.seed)
        transfer = transfer_to_experiments(lit.compositions, lit.y, stability, seed=args.seed)
        comparisons = compare_dft_features(lit, stability, DEFAULT_MODEL, DEFAULT_FEATURES,
                                           args.folds, args.repeats, args.seed)
        out["transfer"] = {"literature": lit.table_name, "label_policy": lit.policy.name,
                           **transfer.as_dict()}
        out["dft_feature_in_literature_model"] = {
            "comparisons": [c.as_dict() for c in comparisons],
            "default_model_uses": list(DEFAULT_DFT_FEATURES),
        }
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"Ouyang et al. 2021: {ev.n} compositions parsed ({ev.n_stable} with E_hull <= 0), "
          f"{len(ev.unparsed)} unparsed")
    for name, reason in ev.unparsed:
        print(f"  unparsed: {name}: {reason}")
    print("Protocol: " + out["protocol"] + "; mean ± std over the 5 folds")
    for title, results in (("same folds as the anchor", ev.classification),
                           ("folds grouped by M-site chemical system", ev.grouped)):
        if not results:
            continue
        print(f"{title}:")
        print(f"  {'model':<26} {'accuracy':>12} {'macro F1':>12} {'bal. acc.':>12}  features")
        for r in results:
            m = r.metrics
            feats = ", ".join(r.features) if len(r.features) <= 4 else f"{len(r.features)} formula-only"
            print(f"  {r.name:<26} {_fmt(m['accuracy'].mean, m['accuracy'].std):>12} "
                  f"{_fmt(m['macro_f1'].mean, m['macro_f1'].std):>12} "
                  f"{_fmt(m['balanced_accuracy'].mean, m['balanced_accuracy'].std):>12}  {feats}")
    for key, m in ev.regression.items():
        print(f"E_hull regression MAE ({key}): {m.mean:.1f} ± {m.std:.1f} meV/atom")
    if transfer is not None:
        print(f"Transfer to {lit.table_name} ({transfer.n} compositions, "
              f"{transfer.n_single_phase} single phase; {transfer.n_in_domain} inside the "
              "stability model's feature range):")
        print(f"  ROC AUC of p(stable) vs single phase: {transfer.roc_auc_p_stable:.3f} "
              f"(95% bootstrap {transfer.roc_auc_p_stable_ci[0]:.3f}-"
              f"{transfer.roc_auc_p_stable_ci[1]:.3f}, {transfer.n_bootstrap} resamples)")
        print(f"  ROC AUC of -E_hull_pred vs single phase: {transfer.roc_auc_neg_e_hull:.3f} "
              f"(95% bootstrap {transfer.roc_auc_neg_e_hull_ci[0]:.3f}-"
              f"{transfer.roc_auc_neg_e_hull_ci[1]:.3f})")
        for c in comparisons:
            d = c.as_dict()
            print(f"  {c.model} + {c.feature}: CV balanced accuracy "
                  f"{d['balanced_accuracy_without']:.3f} -> {d['balanced_accuracy_with']:.3f} "
                  f"(gain {c.gain.mean:+.3f} ± {c.gain.std:.3f} over {c.gain.n} folds): "
                  f"{'helps' if c.helps else 'does not help'} (rule: {d['rule']})")
        print("  default 'ml predict' uses: "
              + (", ".join(DEFAULT_DFT_FEATURES) or "no DFT feature"))
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from nasicon_sim.ml.prediction import predict

    model = None
    if args.model:
        from nasicon_sim.ml.persistence import load_model
        from nasicon_sim.ml.synthesizability import split_features

        features = None
        if args.features:
            base, dft = split_features(args.features)
            features = [*base, *dft]
        model = load_model(args.model, features=features)
    elif args.features:
        raise NasiconSimError("--features checks a saved model; give it with --model PATH")
    preds = predict(args.formulas, model)
    if args.json:
        json.dump([p.as_dict() for p in preds], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{'formula':<42} {'p(single phase)':>15} {'in domain':>10} {'E_hull pred':>12}")
    for p in preds:
        dom = "yes" if p.in_domain else "no"
        eh = "n/a" if p.e_hull_pred_meV is None else f"{p.e_hull_pred_meV:.1f} meV"
        print(f"{p.formula:<42} {p.p_single_phase:>15.3f} {dom:>10} {eh:>12}")
        if p.out_of_domain_features:
            print(f"    outside the training range: {', '.join(p.out_of_domain_features)}")
    return 0


def run_fit(args: argparse.Namespace) -> int:
    from nasicon_sim.ml.dataset import build_dataset
    from nasicon_sim.ml.persistence import save_model
    from nasicon_sim.ml.prediction import default_stability_model
    from nasicon_sim.ml.synthesizability import fit_synthesizability_model

    table, strict = _table(args)
    dataset = build_dataset(table, args.policy, strict=strict)
    model = fit_synthesizability_model(dataset, args.model, args.features,
                                       stability=default_stability_model(), seed=args.seed)
    side = save_model(model, args.output)
    print(f"fitted {model.name} on {len(dataset.entries)} compositions of {dataset.table_name} "
          f"(policy {dataset.policy.name}); features {', '.join(model.features)}")
    print(f"wrote {args.output} and {side}")
    return 0
