"""The report of a study run: ``report.md`` + ``figures/*.png`` + ``summary.json`` + ``report.html``.

Every number in the report is formatted from :class:`nasicon_sim.runner.StudyResults`, i.e.
from what the run computed and stored; the measured values come from the study definition
with their source. The notes on where the comparison cannot hold are part of the report
because they decide how its numbers may be read.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasicon_sim.io.atomic import atomic_write_bytes, atomic_write_text
from nasicon_sim.provenance import software_line
from nasicon_sim.report.figures import plot_barrier_distributions, plot_barrier_vs_conductivity
from nasicon_sim.report.html import IsosurfaceView, img_tag, write_report_html
from nasicon_sim.report.kmc import kmc_section
from nasicon_sim.report.neb import neb_section

if TYPE_CHECKING:
    from nasicon_sim.runner import StudyResults
    from nasicon_sim.store import ResultsStore

__all__ = ["write_study_report"]

log = logging.getLogger(__name__)


def _fmt(x: Any, nd: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "none"
        return f"{x:.{nd}f}"
    return str(x)


def _pm(summary, nd: int = 3) -> str:
    if summary.n_finite == 0:
        return "no percolation" if summary.n else "–"
    text = f"{summary.mean_eV:.{nd}f} ± {summary.std_eV:.{nd}f}"
    if summary.n_finite < summary.n:
        text += f" ({summary.n - summary.n_finite} of {summary.n} do not percolate)"
    return text


def _total_minutes(results: StudyResults) -> float:
    return sum(c.bvse_seconds for c in results.compositions) / 60.0


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _composition_table(results: StudyResults) -> str:
    rows = []
    for c in results.compositions:
        comp, d, ml = c.composition, c.descriptors, c.ml
        p = ml.get("p_single_phase")
        dom = ml.get("in_domain")
        rows.append([
            comp.label, f"`{comp.formula}`", _fmt(d["entropy_R"], 2), _fmt(d["na"], 2),
            _fmt(d["radius_pm"], 2), _fmt(d["delta_radius"], 3),
            (_fmt(p, 2) + ("" if dom in (None, True) else " (outside domain)")) if p is not None
            else ml.get("error", "–"),
            _fmt(ml.get("e_hull_pred_meV"), 1),
            comp.phase or "–", _fmt(comp.sigma_total_mS_cm, 2), _fmt(comp.ea_eV, 2),
        ])
    return _table(["label", "formula", "dS_mix/R", "Na", "r_M (pm)", "δ_r",
                   f"ML p(single phase) [{results.study.ml.model}]",
                   "predicted E_hull (meV/atom)", "measured phase",
                   "σ_total RT (mS/cm)", "Ea (eV)"], rows)


def _barrier_table(results: StudyResults) -> str:
    thr = results.study.bvse.threshold_eV
    rows = []
    for c in results.compositions:
        s = c.summaries
        bottleneck = ", ".join(f"{k} ×{v}" for k, v in list(c.bottlenecks_3D.items())[:2]) or "–"
        cell = f"{c.n_atoms}" + ("" if c.exact else " (rounded)")
        configs = str(c.n_configurations)
        if 0 < c.n_frameworks < c.n_configurations:
            configs += f" ({c.n_frameworks} framework{'s' if c.n_frameworks > 1 else ''})"
        r = c.refined_summaries
        refined = [_pm(r[k]) if r and r[k].n_finite else "–"
                   for k in ("E_1D_refined_eV", "E_2D_refined_eV", "E_3D_refined_eV")]
        rows.append([
            c.composition.label, cell, configs, *refined,
            _pm(s["E_1D_eV"]), _pm(s["E_2D_eV"]), _pm(s["E_3D_eV"]),
            _fmt(s["E_3D_eV"].fraction_below, 2), bottleneck,
        ])
    return _table(["label", "atoms", "configs", "E_1D refined (eV)", "E_2D refined (eV)",
                   "E_3D refined (eV)", "E_1D grid (eV)", "E_2D grid (eV)", "E_3D grid (eV)",
                   f"fraction 3D (grid) < {thr:g} eV", "3D bottleneck link (count)"], rows)


#: A composition whose mean landscape minimum lies this far below the study's median is
#: examined as a possible trap (eV); see _trap_notes.
TRAP_MARGIN_eV = 0.05


def _finite_mean_sd(values: list[float]) -> tuple[float, float] | None:
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    return (float(arr.mean()), float(arr.std())) if arr.size else None


def _levels_eV(c) -> list[float]:
    """Absolute 3D percolation level of each configuration: E_min + E_3D (eV)."""
    return [m + b for m, b in zip(c.minima_eV, c.barriers["E_3D_eV"])]


def _minimum_section(results: StudyResults) -> list[str]:
    """Landscape minima, absolute 3D percolation levels and the deepest site's cations."""
    if not any(c.minima_eV for c in results.compositions):
        return []
    rows = []
    for c in results.compositions:
        cells = []
        for values in (c.minima_eV, _levels_eV(c)):
            ms = _finite_mean_sd(values)
            cells.append("–" if ms is None else f"{ms[0]:.3f} ± {ms[1]:.3f}")
        near = ", ".join(f"{k} ×{v}" for k, v in list(c.deepest_site_cations.items())[:3]) or "–"
        rows.append([c.composition.label, *cells, near])
    return [
        "## Landscape minimum and percolation level",
        "",
        "Barriers are measured from each landscape's deepest site, so one unusually deep site "
        "(a trap) raises them although the channels, and the energy at which they percolate, "
        "stay the same. Absolute site energies, mean ± standard deviation over configurations, "
        "and the two M cations nearest to the deepest site:",
        "",
        _table(["label", "E_min (eV)", "3D percolation level E_min + E_3D (eV)",
                "M cations next to the deepest site (count)"], rows),
        "",
        *[f"- {note}" for note in _trap_notes(results)],
        "",
    ]


def _trap_notes(results: StudyResults) -> list[str]:
    """Compositions whose deepest site lies TRAP_MARGIN_eV below the study's median minimum."""
    stats = {}
    for c in results.compositions:
        emin, level = _finite_mean_sd(c.minima_eV), _finite_mean_sd(_levels_eV(c))
        if emin is not None and level is not None:
            stats[c.composition.label] = (emin[0], level[0], c)
    if len(stats) < 3:
        return []
    median_min = float(np.median([v[0] for v in stats.values()]))
    median_level = float(np.median([v[1] for v in stats.values()]))
    notes = []
    for label, (emin, level, c) in stats.items():
        if emin > median_min - TRAP_MARGIN_eV:
            continue
        n = sum(c.deepest_site_cations.values())
        fractions = {el: x / 2.0 for el, x in c.descriptors["m_site"].items()}
        # the cation most over-represented next to the deepest site, relative to its M fraction
        seen = {el: sum(v for k, v in c.deepest_site_cations.items() if el in k.split("-"))
                for el in fractions}
        enriched = max(seen, key=lambda el: seen[el] / n / fractions[el]) if n else None
        near = (f"; the deepest site is next to {enriched} in {seen[enriched]} of {n} "
                f"configurations ({enriched} is {100 * fractions[enriched]:.0f} % of the M site)"
                if enriched else "")
        notes.append(
            f"{label}: its deepest site lies {median_min - emin:.3f} eV below the median minimum "
            f"of the study's compositions, while its 3D percolation level is "
            f"{level - median_level:+.3f} eV from the median level{near}. Its higher barriers "
            "come from that trap, not from narrower channels."
            if abs(level - median_level) < TRAP_MARGIN_eV else
            f"{label}: its deepest site lies {median_min - emin:.3f} eV below the median minimum "
            f"of the study's compositions and its 3D percolation level is "
            f"{level - median_level:+.3f} eV from the median level{near}."
        )
    return notes


def _pm_dict(d: dict[str, Any]) -> str:
    """'mean ± sd' of a BarrierSummary dict."""
    return "–" if not d["n_finite"] else f"{d['mean_eV']:.3f} ± {d['std_eV']:.3f}"


def _relaxation_table(results: StudyResults) -> list[str]:
    """Relaxed vs unrelaxed barriers and distortion, when the study relaxed its cells."""
    rows = []
    for c in results.compositions:
        r = c.relaxation
        if not r:
            continue
        rows.append([
            c.composition.label, f"{r['n_converged']}/{r['n']}",
            _pm_dict(r["unrelaxed_E_3D_eV"]), _pm_dict(r["relaxed_E_3D_eV"]),
            _fmt(r["unrelaxed_gii_vu"]), _fmt(r["relaxed_gii_vu"]),
            _fmt(r["relaxed_m_distortion_index_mean"], 4),
            _fmt(r["relaxed_m_distortion_index_max"], 4),
            _fmt(r["relaxed_na_displacement_mean_A"], 2),
        ])
    if not rows:
        return []
    calc = next(c.relaxation["calculator"] for c in results.compositions if c.relaxation)
    return [
        "## Relaxed vs unrelaxed",
        "",
        f"Each configuration was relaxed with {calc} ({results.study.relax.method}, fmax "
        f"{results.study.relax.fmax_eV_A} eV/Å, cell {'relaxed' if results.study.relax.cell else 'fixed'}) "
        "and analysed before and after. GII: global instability index from softBV "
        "bond-valence sums (valence units); Baur distortion index of the M-O octahedra; Na "
        "displacement from the parent sites.",
        "",
        _table(["label", "converged", "E_3D unrelaxed (eV)", "E_3D relaxed (eV)",
                "GII unrelaxed", "GII relaxed", "M distortion mean", "M distortion max",
                "Na displacement (Å)"], rows),
        "",
    ]


def _correlation_lines(results: StudyResults) -> list[str]:
    lines = []
    for name, r in results.correlations.items():
        if r is None:
            lines.append(f"- {name}: not computed (fewer than 3 compositions with a barrier "
                         "and a measured value).")
            continue
        lines.append(
            f"- {name}: Spearman ρ = {r.rho:+.2f}, {int(r.confidence * 100)} % bootstrap "
            f"interval over configurations [{r.ci_low:+.2f}, {r.ci_high:+.2f}], "
            f"p = {r.p_value:.2g}, n = {r.n_compositions} compositions."
        )
    return lines


def _caveats(results: StudyResults) -> list[str]:
    study = results.study
    by_label = {c.composition.label: c for c in results.compositions}
    notes = [
        "BVSE sees only the bulk framework. The measured values are *total* conductivities "
        "(bulk + grain boundary) of sintered pellets; where grain boundaries, density or "
        "secondary phases dominate, a bulk ranking cannot reproduce the total ranking.",
    ]
    nzsp, me1 = by_label.get("NZSP"), by_label.get("ME1")
    if nzsp and me1 and nzsp.composition.sigma_bulk_mS_cm and me1.composition.sigma_bulk_mS_cm:
        d3 = me1.summaries["E_3D_eV"].mean_eV - nzsp.summaries["E_3D_eV"].mean_eV
        notes.append(
            f"NZSP and ME1 have about the same measured bulk conductivity "
            f"({nzsp.composition.sigma_bulk_mS_cm:g} vs {me1.composition.sigma_bulk_mS_cm:g} "
            f"mS/cm); their totals differ ({nzsp.composition.sigma_total_mS_cm:g} vs "
            f"{me1.composition.sigma_total_mS_cm:g} mS/cm) through the grain boundaries "
            "(relative density 85.6 vs 97.8 %). The BVSE difference ME1 − NZSP in mean E_3D is "
            f"{d3:+.3f} eV; it should be compared with the bulk values, not the totals."
        )
    shared = [c for c in results.compositions if 0 < c.n_frameworks < c.n_configurations]
    if shared:
        notes.append(
            "Configurations with the same framework (every atom but Na, which BVSE removes; "
            "symmetry-equivalent frameworks count as different) have the same landscape: "
            + "; ".join(
                f"{c.composition.label}: {c.n_configurations} configurations, "
                f"{c.n_frameworks} distinct framework{'s' if c.n_frameworks > 1 else ''}"
                for c in shared)
            + ". Their spread over configurations understates the disorder."
        )
    impure = [c.composition.label for c in results.compositions if c.composition.single_phase is False]
    if impure:
        notes.append(
            f"{', '.join(impure)} are not single-phase after sintering (secondary phases "
            "reduce the measured conductivity); BVSE models the pure NASICON phase."
        )
    if study.relax.method != "none":
        notes.append(
            f"The cells were relaxed with a universal potential ({study.relax.method}), not DFT; "
            "the barriers in the tables are those of the relaxed cells."
        )
    if study.relax.method == "none":
        notes.append(
            "The supercells are not relaxed: substituents occupy the parent's Zr positions, so "
            "the local distortions the study invokes (e.g. around Ga3+ in HE1) are absent; only "
            "the cation charges and the Na count differ between compositions."
        )
    notes.append(
        "The BVSE landscape removes all Na and ignores Na–Na repulsion, so the Na content "
        "changes the landscape only through the framework charges."
    )
    conv = results.compositions[0] if results.compositions else None
    notes.append(
        "Absolute barriers depend on the bond-valence convention (Morse prefactor, screening "
        "factor, radii, neutrality scaling move NASICON barriers by 0.1–0.25 eV); compare ranks "
        "and differences, not absolute values with experiment."
        + (f" Settings: {json.dumps(results.study.bvse.options) if results.study.bvse.options else 'bvlain defaults'}." if conv else "")
    )
    ea = [c for c in results.compositions if c.composition.ea_eV is not None]
    if ea:
        pairs = "; ".join(
            f"{c.composition.label}: measured {c.composition.ea_eV:g} eV vs BVSE E_3D "
            f"{_fmt(c.summaries['E_3D_eV'].mean_eV)} eV" for c in ea)
        notes.append(
            "Measured activation energies are for the whole pellet and temperature range; the "
            f"BVSE barrier is a static bulk quantity. {pairs}."
        )
    return notes


def write_study_report(results: StudyResults, store: ResultsStore,
                       previews: Mapping[str, tuple] | None = None) -> Path:
    """Write ``report.md``, ``figures/``, ``summary.json`` and ``report.html`` in ``out_dir``.

    Parameters
    ----------
    results : StudyResults
    store : ResultsStore
    previews : mapping, optional
        label -> (energies, lattice, result, slice PNG bytes or None), the stored landscape
        previews (:func:`nasicon_sim.runner.previews`; the runner passes them, so the report
        does not import the runner).

    Returns
    -------
    Path
        The ``report.md`` path.
    """
    previews = previews or {}
    out = results.out_dir
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    study = results.study
    labels = [c.composition.label for c in results.compositions]

    figures: list[tuple[str, Path]] = []
    barriers = {c.composition.label: c.barriers for c in results.compositions}
    figures.append(("BVSE percolation barriers per configuration",
                    plot_barrier_distributions(barriers, fig_dir / "barriers.png",
                                               title=f"{study.name}: BVSE barriers")))
    corr = results.correlations.get("E_3D_eV vs log10 sigma_total")
    note = (f"Spearman rho (E_3D vs log sigma) = {corr.rho:+.2f} "
            f"[{corr.ci_low:+.2f}, {corr.ci_high:+.2f}]") if corr else ""
    s3 = [c.summaries["E_3D_eV"] for c in results.compositions]
    figures.append(("Mean 3D barrier against measured total conductivity",
                    plot_barrier_vs_conductivity(
                        labels, [s.mean_eV for s in s3], [s.std_eV for s in s3],
                        [c.composition.sigma_total_mS_cm for c in results.compositions],
                        fig_dir / "barrier_vs_sigma.png", note=note)))
    roc = _roc_figure(results, fig_dir / "roc.png")
    if roc is not None:
        figures.append(("ROC curves of the five phase-purity classifiers on a stratified held-out "
                        "split of the literature table (nasicon-sim ml evaluate gives the "
                        "cross-validated numbers)", roc))

    views = []
    for label, (energies, lattice, row, png) in previews.items():
        if png:
            path = fig_dir / f"section_{label}.png"
            atomic_write_bytes(path, png)
            figures.append((f"{label}: BVSE landscape section through the 3D bottleneck "
                            "(configuration 0; contours at the 1D/2D/3D percolation levels)", path))
        e_min = float(np.min(energies))
        levels = {}
        for key, name in (("E_1D_eV", "E_min + E_1D"), ("E_3D_eV", "E_min + E_3D")):
            if row.get(key) is not None:
                levels[f"{name} ({row[key]:.2f} eV)"] = e_min + float(row[key]) + 1e-3
        sites = row.get("sites") or []
        views.append(IsosurfaceView(
            label=label, energies_eV=energies, lattice=lattice, levels_eV=levels,
            sites_frac=np.array([s["frac_coords"] for s in sites]) if sites else None,
            site_labels=[f"{s.get('label')} ({s.get('wyckoff')}) {s.get('energy_eV', 0):.2f} eV"
                         for s in sites],
            title=f"{label}: Na+ site-energy isosurfaces (configuration 0)",
        ))

    kmc_lines, kmc_figs = kmc_section(getattr(results, "kmc", {}) or {}, fig_dir)
    figures += kmc_figs
    run = results.run
    md = [
        f"# {study.title}",
        "",
        f"Study `{study.name}`" + (f", profile `{study.profile}`" if study.profile else "")
        + f". Reproduces: {study.source}.",
        "",
        "## Settings",
        "",
        f"- Ensembles: {study.ensemble.n_configurations} configurations per composition, "
        f"ordering `{study.ensemble.method}`, seed {study.ensemble.seed}, at most "
        f"{study.ensemble.max_atoms} atoms per supercell.",
        f"- BVSE: mobile ion {study.bvse.mobile_ion}, grid spacing {study.bvse.spacing_A} Å, "
        f"{study.bvse.connectivity}-neighbour percolation, convention "
        f"{json.dumps(study.bvse.options) if study.bvse.options else 'bvlain defaults (Morse 1/2, f = 0.74, ASE radii)'}.",
        f"- Relaxation: {study.relax.method}. ML model: `{study.ml.model}`.",
        f"- Software: {software_line()}.",
        f"- Run: {run.n_tasks} configurations, {run.n_computed} computed in this run, "
        f"{run.n_reused} reused from the store, {len(run.failures)} failed; executor "
        f"{run.executor}; results store `{Path(results.store_url).name}`; "
        f"{'BVSE' if study.relax.method == 'none' else 'relaxation + BVSE'} wall time "
        f"summed over all stored configurations {_total_minutes(results):.1f} min.",
        "",
        "## Compositions",
        "",
        _composition_table(results),
        "",
        "## BVSE percolation barriers",
        "",
        "Mean ± standard deviation over configurations of the percolation energy relative "
        "to the landscape minimum. Refined: every site and saddle of the migration network "
        "refined to its continuous stationary point and the thresholds taken by the same "
        "periodic union-find on the refined saddles (independent of the grid; '–' for rows "
        "computed before this refinement existed). Grid: exact on the grid, no bisection; "
        "it depends on the spacing.",
        "",
        _barrier_table(results),
        "",
        *_minimum_section(results),
        *_relaxation_table(results),
        "## Synthesizability model",
        "",
        *_ml_lines(results),
        "",
        "## Cross-check with measured conductivity",
        "",
        *_correlation_lines(results),
        "",
        "A negative ρ means that compositions with higher BVSE barriers conduct less, as "
        "expected if the bulk framework decided the ranking.",
        "",
        *kmc_lines,
        *neb_section(getattr(results, "neb", {}) or {}),
        "## Where the comparison cannot hold",
        "",
        *[f"- {n}" for n in _caveats(results)],
        "",
    ]
    if run.failures:
        md += ["## Failed configurations", "", *[f"- {f}" for f in run.failures], ""]
    md += ["## Figures", ""]
    for caption, path in figures:
        rel = path.relative_to(out)
        md += [f"![{caption}]({rel.as_posix()})", "", f"*{caption}.*", ""]
    report_md = out / "report.md"
    text = "\n".join(md)
    atomic_write_text(report_md, text)
    atomic_write_text(out / "summary.json", json.dumps(results.as_dict(), indent=2, default=_json_default))

    body = _markdown_to_html(text, out)
    write_report_html(out / "report.html", study.title, body, views)
    return report_md


def _roc_figure(results: StudyResults, path: Path) -> Path | None:
    """ROC curves of the classifiers on the held-out split of the literature table."""
    holdout = results.ml_evaluation.get("holdout")
    if not holdout:
        return None
    from nasicon_sim.ml.evaluation import plot_roc_curves

    return plot_roc_curves(holdout, path, f"Phase-purity classifiers: held-out "
                                          f"{holdout[0].n_test} literature compositions")


def _ml_lines(results: StudyResults) -> list[str]:
    ev = results.ml_evaluation
    name = results.study.ml.model
    if "models" not in ev or name not in ev["models"]:
        return [f"- ML evaluation unavailable: {ev.get('error', 'model not evaluated')}"]
    m = ev["models"][name]
    lines = [
        f"- The `{name}` classifier on the shipped literature table ({ev['n_compositions']} "
        f"labelled compositions, {ev['protocol']}): accuracy {m['accuracy']:.2f} ± "
        f"{m['accuracy_std']:.2f}, balanced accuracy {m['balanced_accuracy']:.2f} ± "
        f"{m['balanced_accuracy_std']:.2f}, ROC AUC {m['roc_auc']:.2f} ± {m['roc_auc_std']:.2f}.",
    ]
    if m["balanced_accuracy"] - m["balanced_accuracy_std"] <= 0.5:
        lines.append(
            "- Its balanced accuracy is not distinguishable from chance (0.5) on this data, so "
            "the probabilities above are not evidence of synthesizability; they are reported "
            "because the study's workflow asks for them (`nasicon-sim ml evaluate` has all models)."
        )
    nested = ev.get("nested")
    if nested:
        rows = nested["rows"]
        sel, gnb = rows["selected by inner CV"], rows["study GNB"]
        lines.append(
            f"- Nested cross-validation of model selection ({nested['protocol']}; "
            f"`nasicon-sim ml evaluate`): the selection procedure scores balanced accuracy "
            f"{sel['balanced_accuracy'][0]:.3f} ± {sel['balanced_accuracy'][1]:.3f} (ROC AUC "
            f"{sel['roc_auc'][0]:.3f} ± {sel['roc_auc'][1]:.3f}), the study's GNB "
            f"{gnb['balanced_accuracy'][0]:.3f} ± {gnb['balanced_accuracy'][1]:.3f} (ROC AUC "
            f"{gnb['roc_auc'][0]:.3f} ± {gnb['roc_auc'][1]:.3f}); the default model of "
            f"`ml predict` and `screen` is `{nested['selected']}`.")
    excluded = results.study.ml.exclude_sources
    if excluded:
        lines.append(f"- The scoring model was fitted without the rows of {', '.join(excluded)}, "
                     "so it has not seen the study's own compositions.")
    return lines


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    raise TypeError(f"not JSON-able: {type(obj).__name__}")


def _markdown_to_html(text: str, out: Path) -> str:
    """Minimal Markdown to HTML for the report's own output (headings, lists, tables, images)."""
    import html
    import re

    def inline(s: str) -> str:
        s = html.escape(s)
        s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
        s = re.sub(r"\*([^*]+)\*", r"<em>\1</em>", s)
        return s

    parts: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("# "):
            i += 1  # the page title is rendered by the HTML template
            continue
        if line.startswith("## "):
            parts.append(f"<h2>{inline(line[3:])}</h2>")
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in lines[i].strip("|").split("|")])
                i += 1
            head, body = rows[0], rows[2:]
            parts.append("<table><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr>"
                         + "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>"
                                   for r in body) + "</table>")
            continue
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{inline(lines[i][2:])}</li>")
                i += 1
            parts.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif m := re.match(r"!\[(.*)\]\((.*)\)", line):
            parts.append(f"<figure>{img_tag(out / m.group(2), m.group(1))}</figure>")
        elif line.strip():
            parts.append(f"<p>{inline(line)}</p>")
        i += 1
    return "\n".join(parts)
