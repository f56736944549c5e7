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
    ev.add_argument("--plots", metavar="DIR",
                    help="write ROC curves and the reliability diagram (PNG) to this directory")
    ev.add_argument("--no-nested", action="store_true",
                    help="skip the nested CV of model selection (on the shipped table it is "
                    "read from the shipped selection record instead of recomputed)")
    ev.add_argument("--nested-repeats", type=int, default=3,
                    help="outer repeats of the nested CV (default 3; outer folds = --folds)")
    ev.add_argument("--no-transfer", action="store_true",
                    help="ouyang2021: skip the transfer to the literature labels")
    ev.add_argument("--no-grouped", action="store_true",
                    help="ouyang2021: skip the CV grouped by chemical system")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(func=run_evaluate)

    pr = ml.add_parser(
        "predict", help="probability of single-phase formation, its uncertainty, E_hull estimate",
        description="p(single phase) with its bootstrap spread and conformal prediction set, "
        "the applicability-domain flag and the DFT E_hull estimate. Model files are JSON "
        "(parameters + training rows, refitted on load); pickle/joblib files are refused "
        "because loading them can run code.")
    pr.add_argument("formulas", nargs="+", metavar="FORMULA")
    pr.add_argument("--model", metavar="PATH|NAME",
                    help="a .json model written by 'ml fit', or 'selected' (default: what nested "
                    "CV selected on the shipped table, calibrated) or 'study' (the study's GNB "
                    "on its four descriptors)")
    pr.add_argument("--features", help="refuse a saved model unless it uses these features")
    pr.add_argument("--json", action="store_true", help="print a JSON list")
    pr.set_defaults(func=run_predict)

    fi = ml.add_parser(
        "fit", help="fit a synthesizability model and save it (JSON, no code)",
        description="Fit a phase-purity classifier and write it as a JSON file of parameters and "
        "training rows; loading refits it and checks the result (no pickle is ever written "
        "or read).")
    fi.add_argument("-o", "--output", required=True, metavar="PATH", help="model file (.json)")
    fi.add_argument("--data", metavar="CSV", help="labelled table (default: shipped literature)")
    fi.add_argument("--policy", default="majority")
    fi.add_argument("--lenient", action="store_true")
    fi.add_argument("--model", default="gnb",
                    help="classifier (gnb, logreg, knn, tree, svm, mlp, hgb) or 'selected' (the "
                    "nested-CV choice with its features; default gnb)")
    fi.add_argument("--features", default="study", help="feature set or names (default study)")
    fi.add_argument("--calibrate", action="store_true",
                    help="Platt-calibrate the probability on out-of-fold scores")
    fi.add_argument("--seed", type=int, default=0)
    fi.set_defaults(func=run_fit)

    se = ml.add_parser(
        "select", help="nested-CV model selection; --update-default rewrites the default",
        description="Nested cross-validation over classifiers x feature sets x a small grid "
        "(outer: repeated stratified folds; inner: stratified folds on the outer training rows "
        "only). Prints the outer scores of the selection procedure and of the study's GNB, and "
        "the candidate chosen on the whole table.")
    se.add_argument("--data", metavar="CSV", help="labelled table (default: shipped literature)")
    se.add_argument("--policy", default="majority")
    se.add_argument("--lenient", action="store_true")
    se.add_argument("--folds", type=int, default=10, help="outer folds (default 10)")
    se.add_argument("--repeats", type=int, default=3, help="outer repeats (default 3)")
    se.add_argument("--inner-folds", type=int, default=5, help="inner folds (default 5)")
    se.add_argument("--seed", type=int, default=0)
    se.add_argument("-o", "--output", metavar="JSON", help="write the selection record here")
    se.add_argument("--update-default", action="store_true",
                    help="write the record as the package's default model (shipped table only)")
    se.add_argument("--json", action="store_true", help="print the summary as JSON")
    se.set_defaults(func=run_select)

    su = ml.add_parser(
        "suggest", help="propose the next compositions to make (purity x uncertainty x transport)",
        description="Score the screening grid with the selected model refitted on your table, "
        "and propose a batch by the acquisition rule of nasicon_sim.ml.acquisition: Pareto "
        "rank of (p + kappa * bootstrap spread, transport figure), compositions already "
        "labelled left out, near-duplicates skipped. The transport figure is the stated proxy "
        "-|Na - 3.3| (Guin & Tietz 2015) unless --transport-csv gives one. Add outcomes with "
        "'nasicon-sim data add' and run suggest again: the model is refitted.")
    su.add_argument("-n", type=int, default=5, help="how many to propose (default 5)")
    su.add_argument("--elements", required=True, help="dopant palette, e.g. Ti,Hf,Lu,Ga,Sc")
    su.add_argument("--host", default="Zr")
    su.add_argument("--max-cations", type=int, default=4)
    su.add_argument("--step", type=float, default=0.25, help="grid of M amounts (default 0.25)")
    su.add_argument("--si", default="2", help="Si per formula unit, or a comma list")
    su.add_argument("--na-min", type=float, default=1.0)
    su.add_argument("--na-max", type=float, default=4.0)
    su.add_argument("--radius-tol", type=float, default=20.0)
    su.add_argument("--oxi", action="append", metavar="EL=STATE")
    su.add_argument("--data", metavar="CSV",
                    help="a labelled table to use instead of the shipped literature table")
    su.add_argument("--add-data", metavar="CSV",
                    help="your outcomes ('data add'), used together with the shipped table (or "
                    "--data)")
    su.add_argument("--policy", default="majority")
    su.add_argument("--lenient", action="store_true")
    su.add_argument("--kappa", type=float, default=1.0,
                    help="weight of the bootstrap spread in the optimistic purity (default 1)")
    su.add_argument("--min-distance", type=float, default=0.2,
                    help="smallest L1 distance of M + Si amounts between proposals (default 0.2)")
    su.add_argument("--include-out-of-domain", action="store_true",
                    help="also propose compositions outside the model's training range")
    su.add_argument("--transport-csv", metavar="CSV",
                    help="transport figure per formula (higher = better) instead of the proxy")
    su.add_argument("--transport-column", metavar="NAME", help="its column")
    su.add_argument("--seed", type=int, default=0, help="seed of the model's bootstrap refits")
    su.add_argument("--study-toml", metavar="PATH",
                    help="also write a study definition for the proposals ('nasicon-sim run')")
    su.add_argument("--json", action="store_true")
    su.set_defaults(func=run_suggest)
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
    nested = None if args.no_nested else _nested(args, ev.dataset)
    plots = []
    if args.plots:
        plots.append(str(plot_roc_curves(
            ev.holdout, Path(args.plots) / "roc_literature_holdout.png",
            f"held-out {ev.holdout[0].n_test} of {ev.holdout[0].n_test + ev.holdout[0].n_train}"
            f" compositions, features {', '.join(ev.features)}")))
        if nested is not None:
            from nasicon_sim.ml.evaluation import plot_reliability

            plots.append(str(plot_reliability(nested.data, ev.dataset.y,
                                              Path(args.plots) / "reliability_nested.png")))
    if args.json:
        out = ev.as_dict()
        out["plots"] = plots
        if nested is not None:
            out["nested"] = _nested_summary(nested)
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
    if nested is not None:
        _print_nested(nested)
    for path in plots:
        print(f"wrote {path}")
    return 0


def _nested(args, dataset):
    """The nested CV on this table: read from the shipped record when it is that table's and
    the protocol matches, else computed."""
    from nasicon_sim.ml.selection import run_selection, shipped_selection

    rec = shipped_selection()
    proto = rec.data["protocol"]
    if (rec.dataset_sha256 == dataset.sha256 and rec.data["dataset"]["label_policy"]
            == dataset.policy.name and proto["n_splits"] == args.folds
            and proto["n_repeats"] == args.nested_repeats and proto["seed"] == args.seed):
        return rec
    from nasicon_sim.ml.prediction import default_stability_model

    print(f"running nested CV on {len(dataset.y)} compositions (not the shipped record's "
          "table or protocol); this takes minutes", file=sys.stderr)
    return run_selection(dataset, default_stability_model(), n_splits=args.folds,
                         n_repeats=args.nested_repeats, seed=args.seed)


def _nested_summary(rec) -> dict:
    d = rec.data
    return {k: d[k] for k in ("dataset", "protocol", "outer_summary", "chosen_counts",
                              "majority_balanced_accuracy", "beats_majority",
                              "beats_majority_rule", "selected")} | {
        "n_candidates": len(d["candidates"])}


def _print_nested(rec) -> None:
    d = rec.data
    p = d["protocol"]
    print(f"Nested CV of model selection ({len(d['candidates'])} candidates; outer: "
          f"{p['n_splits']}-fold x {p['n_repeats']} repeats, inner: {p['inner_folds']}-fold on "
          f"the outer training rows; mean ± std over {p['n_splits'] * p['n_repeats']} outer "
          "folds):")
    print(f"  {'':<28} {'bal. acc.':>12} {'ROC AUC':>12} {'Brier':>12} {'Brier calib.':>12}")
    for name, label in (("selected_procedure", "selected by inner CV"),
                        ("study_gnb", "study GNB (4 descriptors)")):
        m = d["outer_summary"][name]
        print(f"  {label:<28} " + " ".join(
            f"{_fmt(m[k]['mean'], m[k]['std']):>12}"
            for k in ("balanced_accuracy", "roc_auc", "brier", "brier_calibrated")))
    ba = d["outer_summary"]["selected_procedure"]["balanced_accuracy"]
    verdict = "beats" if d["beats_majority"] else "does NOT beat"
    print(f"  the selection {verdict} the majority baseline (balanced accuracy 0.5): "
          f"{ba['mean']:.3f} - 2 x SE {ba['se']:.3f} = {ba['mean'] - 2 * ba['se']:.3f}")
    ranked = sorted(d["chosen_counts"].items(), key=lambda kv: (-kv[1], kv[0]))
    counts = ", ".join(f"{k} x{v}" for k, v in ranked[:5])
    print(f"  chosen in the outer folds: {counts}")
    print(f"  chosen on the whole table (the default model): {d['selected']['key']}")


def _evaluate_ouyang(args: argparse.Namespace) -> int:
    from nasicon_sim.ml.dataset import build_dataset
    from nasicon_sim.ml.models import STABILITY_MODELS
    from nasicon_sim.ml.prediction import DEFAULT_FEATURES, STUDY_MODEL
    from nasicon_sim.ml.selection import shipped_selection
    from nasicon_sim.ml.stability import (
        evaluate_stability,
        fit_stability_model,
        transfer_to_experiments,
    )
    from nasicon_sim.ml.synthesizability import compare_dft_features, split_features

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
        comparisons = compare_dft_features(lit, stability, STUDY_MODEL, DEFAULT_FEATURES,
                                           args.folds, args.repeats, args.seed)
        out["transfer"] = {"literature": lit.table_name, "label_policy": lit.policy.name,
                           **transfer.as_dict()}
        out["dft_feature_in_literature_model"] = {
            "comparisons": [c.as_dict() for c in comparisons],
            "default_model_uses": list(split_features(
                shipped_selection().selected.features)[1]),
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
        uses = split_features(shipped_selection().selected.features)[1]
        print("  default 'ml predict' (nested-CV selection) uses: "
              + (", ".join(uses) or "no DFT feature"))
    return 0


def _load_named_or_file(text: str | None, features=None):
    """A model from --model: None/'selected' (default), 'study', or a JSON file."""
    from nasicon_sim.ml.prediction import default_model, study_model

    if text in (None, "selected", "study") and features is not None:
        raise NasiconSimError("--features checks a saved model; give it with --model PATH")
    if text in (None, "selected"):
        return default_model()
    if text == "study":
        return study_model()
    from nasicon_sim.ml.persistence import load_model

    return load_model(text, features=features)


def run_predict(args: argparse.Namespace) -> int:
    from nasicon_sim.ml.prediction import predict

    features = None
    if args.features:
        from nasicon_sim.ml.synthesizability import split_features

        base, dft = split_features(args.features)
        features = [*base, *dft]
    model = _load_named_or_file(args.model, features)
    preds = predict(args.formulas, model)
    if args.json:
        json.dump([p.as_dict() for p in preds], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    level = f"{1 - model.alpha:.0%} set" if model.conformal is not None else "set"
    print(f"model: {model.label}" + (" (calibrated)" if model.platt is not None else ""))
    print(f"{'formula':<42} {'p(single phase)':>15} {level:>12} {'in domain':>10} "
          f"{'E_hull pred':>12}")
    for p in preds:
        dom = "yes" if p.in_domain else "no"
        eh = "n/a" if p.e_hull_pred_meV is None else f"{p.e_hull_pred_meV:.1f} meV"
        std = "" if p.p_single_phase_std is None else f" ± {p.p_single_phase_std:.3f}"
        pset = _set_text(p.prediction_set) if p.alpha is not None else "n/a"
        print(f"{p.formula:<42} {p.p_single_phase:>7.3f}{std:>8} {pset:>12} {dom:>10} "
              f"{eh:>12}")
        if p.out_of_domain_features:
            print(f"    outside the training range: {', '.join(p.out_of_domain_features)}")
    return 0


def _set_text(labels) -> str:
    names = {"single_phase": "single", "secondary_phases": "secondary"}
    return "{" + ", ".join(names[x] for x in labels) + "}"


def run_fit(args: argparse.Namespace) -> int:
    from nasicon_sim.ml.dataset import build_dataset
    from nasicon_sim.ml.persistence import save_model
    from nasicon_sim.ml.prediction import default_stability_model
    from nasicon_sim.ml.synthesizability import fit_synthesizability_model

    table, strict = _table(args)
    dataset = build_dataset(table, args.policy, strict=strict)
    model = fit_synthesizability_model(dataset, args.model, args.features,
                                       stability=default_stability_model(), seed=args.seed,
                                       calibrate=args.calibrate)
    save_model(model, args.output, dataset)
    print(f"fitted {model.label} on {len(dataset.entries)} compositions of {dataset.table_name} "
          f"(policy {dataset.policy.name}); features {', '.join(model.features)}"
          + ("; calibrated" if model.platt is not None else ""))
    print(f"wrote {args.output}")
    return 0


def run_select(args: argparse.Namespace) -> int:
    import time

    from nasicon_sim.ml.dataset import build_dataset
    from nasicon_sim.ml.prediction import default_stability_model
    from nasicon_sim.ml.selection import SHIPPED_RECORD, run_selection

    if args.update_default and args.data:
        raise NasiconSimError("--update-default selects on the shipped table; drop --data "
                              "(or write your record with -o)")
    if args.output and Path(args.output).is_dir():
        raise NasiconSimError(f"-o {args.output} is a directory; give a file name (record.json)")
    table, strict = _table(args)
    dataset = build_dataset(table, args.policy, strict=strict)
    start = time.perf_counter()

    def progress(k, n):
        print(f"  outer fold {k}/{n} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)

    rec = run_selection(dataset, default_stability_model(), n_splits=args.folds,
                        n_repeats=args.repeats, inner_folds=args.inner_folds, seed=args.seed,
                        progress=progress)
    written = []
    for target, flag in ((args.output, "-o"), (SHIPPED_RECORD if args.update_default else None,
                                                "--update-default")):
        if target:
            try:
                written.append(rec.write(target))
            except OSError as exc:
                raise NasiconSimError(f"cannot write the selection record {target} ({flag}): "
                                      f"{exc.strerror or exc}") from None
    if args.json:
        json.dump(_nested_summary(rec) | {"written": [str(w) for w in written]}, sys.stdout,
                  indent=2)
        sys.stdout.write("\n")
        return 0
    print_dataset_summary(dataset)
    _print_nested(rec)
    print(f"took {rec.data['seconds']:.0f} s")
    for w in written:
        print(f"wrote {w}")
    return 0


def _merge_tables(first, second):
    """One table of both tables' rows (the second's line numbers offset by 100000, so that a
    left-out row stays identifiable); its SHA-256 is that of the two hashes."""
    import hashlib

    from nasicon_sim.ml.dataset import Table, TableRow

    columns = tuple(dict.fromkeys((*first.columns, *second.columns)))
    rows = (*first.rows, *(TableRow(100000 + r.line, r.fields) for r in second.rows))
    sha = hashlib.sha256((first.sha256 + second.sha256).encode()).hexdigest()
    return Table(f"{first.name} + {second.name}", columns, rows, sha)


def run_suggest(args: argparse.Namespace) -> int:
    from nasicon_sim.cli.describe import parse_assignments
    from nasicon_sim.errors import ScreeningError
    from nasicon_sim.ml.acquisition import (
        ColumnTransport,
        NaContentProxy,
        suggest,
        write_study_toml,
    )
    from nasicon_sim.ml.dataset import build_dataset, composition_key
    from nasicon_sim.ml.prediction import fit_selected
    from nasicon_sim.ml.screening import ScreenSpec, screen

    if bool(args.transport_csv) != bool(args.transport_column):
        raise NasiconSimError("--transport-csv and --transport-column go together")
    if args.n < 1:
        raise NasiconSimError(f"-n must be at least 1, got {args.n}")
    if args.kappa < 0 or args.min_distance < 0:
        raise NasiconSimError("--kappa and --min-distance must be >= 0")
    transport = (ColumnTransport(args.transport_csv, args.transport_column)
                 if args.transport_csv else NaContentProxy())
    try:
        si_values = tuple(float(s) for s in args.si.split(",") if s.strip())
    except ValueError:
        raise ScreeningError(f"--si must be numbers, got {args.si!r}") from None
    spec = ScreenSpec(
        elements=tuple(args.elements.split(",")), host=args.host, max_cations=args.max_cations,
        step=args.step, si_values=si_values, na_min=args.na_min, na_max=args.na_max,
        radius_tolerance_pm=args.radius_tol,
        oxidation_states=parse_assignments(args.oxi, "--oxi", int),
    )
    table, strict = _table(args)
    if args.add_data:
        from nasicon_sim.ml.dataset import read_table

        table = _merge_tables(table, read_table(args.add_data))
    dataset = build_dataset(table, args.policy, strict=strict)
    model = fit_selected(dataset, args.seed)
    result = screen(spec, model, transport)
    labelled = {composition_key(c) for c in dataset.compositions}
    picks = suggest(result, labelled, args.n, transport, args.kappa, args.min_distance,
                    not args.include_out_of_domain)
    toml = None
    if args.study_toml:
        toml = write_study_toml([s.formula for s in picks], args.study_toml, "suggested",
                                f"nasicon-sim ml suggest on {dataset.table_name} "
                                f"(sha256 {dataset.sha256[:12]}), seed {args.seed}")
    if args.json:
        json.dump({"model": model.label, "dataset": dataset.table_name,
                   "dataset_sha256": dataset.sha256, "n_labelled": len(dataset.y),
                   "transport": transport.description, "kappa": args.kappa,
                   "suggestions": [s.as_dict() for s in picks],
                   "study_toml": str(toml) if toml else None}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"model {model.label} refitted on {len(dataset.y)} labelled compositions of "
          f"{dataset.table_name}; {len(result.candidates)} grid candidates")
    print(f"transport: {transport.description}")
    print(f"rule: Pareto rank of (p + {args.kappa:g} x bootstrap spread, transport), labelled "
          f"and out-of-domain left out, proposals >= {args.min_distance:g} apart")
    print(f"{'#':>2} {'formula':<44} {'p(single)':>9} {'± boot':>7} {'transport':>9} "
          f"{'front':>5}  set")
    for sgg in picks:
        print(f"{sgg.rank:>2} {sgg.formula:<44} {sgg.p_single_phase:>9.3f} {sgg.p_std:>7.3f} "
              f"{sgg.transport:>9.3f} {sgg.pareto_rank:>5}  {_set_text(sgg.prediction_set)}")
    if toml:
        print(f"wrote {toml}")
    return 0
