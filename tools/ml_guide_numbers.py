"""Rewrite the nested-CV block of docs/guide/ml.md from the shipped selection record.

Run after ``nasicon-sim ml select --update-default``::

    python tools/ml_guide_numbers.py

tests/ml/test_ml_guide.py fails while the page and the record disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

BEGIN = "<!-- nested-cv:begin (tools/ml_guide_numbers.py writes this block) -->"
END = "<!-- nested-cv:end -->"
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "ml.md"


def block(data: dict) -> str:
    """The Markdown block for a selection record's data."""
    p = data["protocol"]
    d = data["dataset"]
    s = data["outer_summary"]

    def cell(m: dict) -> str:
        return f"{m['mean']:.3f} ± {m['std']:.3f}"

    lines = [
        BEGIN,
        f"Table `{d['name']}` (sha256 `{d['sha256'][:12]}`), policy `{d['label_policy']}`: "
        f"{d['n']} compositions, {d['n_single_phase']} single phase. Outer: "
        f"{p['n_splits']}-fold x {p['n_repeats']} repeats (seed {p['seed']}); inner: "
        f"{p['inner_folds']}-fold on the outer training rows; {len(data['candidates'])} "
        f"candidates; mean ± s.d. over the {p['n_splits'] * p['n_repeats']} outer folds.",
        "",
        "| model | balanced accuracy | ROC AUC | Brier | Brier, calibrated |",
        "|---|---|---|---|---|",
    ]
    for key, label in (("selected_procedure", "selected by inner CV"),
                       ("study_gnb", "study GNB, 4 descriptors")):
        m = s[key]
        lines.append(f"| {label} | {cell(m['balanced_accuracy'])} | {cell(m['roc_auc'])} | "
                     f"{cell(m['brier'])} | {cell(m['brier_calibrated'])} |")
    ba = s["selected_procedure"]["balanced_accuracy"]
    verdict = ("beats" if data["beats_majority"] else "does **not** beat")
    lines += [
        "",
        f"The selection {verdict} the majority baseline's balanced accuracy of 0.5 by more "
        f"than two standard errors over outer folds: {ba['mean']:.3f} - 2 x {ba['se']:.3f} = "
        f"{ba['mean'] - 2 * ba['se']:.3f} (the folds of repeated CV overlap, so this standard "
        "error is optimistic).",
        "",
        f"Chosen on the whole table, the default model: `{data['selected']['key']}`. Chosen "
        "in the outer folds: " + ", ".join(
            f"`{k}` x{v}" for k, v in sorted(data["chosen_counts"].items(),
                                             key=lambda kv: (-kv[1], kv[0]))) + ".",
        f"The selection took {data['seconds']:.0f} s.",
        END,
    ]
    return "\n".join(lines)


def main() -> int:
    sys.path.insert(0, str(GUIDE.parents[2]))
    from nasicon_sim.ml.selection import SHIPPED_RECORD, SelectionRecord

    text = GUIDE.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    GUIDE.write_text(head + block(SelectionRecord.read(SHIPPED_RECORD).data) + tail)
    print(f"updated {GUIDE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
