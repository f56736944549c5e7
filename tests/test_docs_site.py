"""The documentation site: its pages hold what the repository holds, and it renders.

The site itself is built by ``.ci/run`` (``python -m sphinx -W --keep-going -b html docs
docs/_build/html``, warnings as errors, every tutorial executed). These tests check what the
build cannot: that no benchmark output is left off the benchmarks page, that the README stays
short and its links resolve, that the citation file names the version and the works the code
uses, that JSON outputs carry the version, and that the built front page and a tutorial
render in a real headless Chromium.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from nasicon_sim import __version__

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BUILT = DOCS / "_build" / "html"


def test_benchmarks_page_includes_every_results_file():
    page = (DOCS / "benchmarks.md").read_text()
    included = set(re.findall(r"\{literalinclude\}\s+\.\./(benchmarks/results/\S+\.txt)", page))
    on_disk = {p.relative_to(ROOT).as_posix() for p in (ROOT / "benchmarks/results").glob("*.txt")}
    assert on_disk, "no benchmark results found"
    assert not on_disk - included, f"benchmarks page misses {sorted(on_disk - included)}"
    assert not included - on_disk, f"benchmarks page includes missing files {sorted(included - on_disk)}"


def test_readme_is_short_and_its_links_resolve():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) < 200
    links = re.findall(r"\]\(([^)#]+)\)", text)
    assert links
    for link in links:
        if not link.startswith(("http://", "https://")):
            assert (ROOT / link).exists(), link


def test_readme_headline_bvse_numbers_are_the_recorded_benchmark():
    readme = " ".join((ROOT / "README.md").read_text().split())
    out = (ROOT / "benchmarks/results/bench_bvse_run3.txt").read_text()
    ours = re.search(r"ours\s+cell .*?wall median ([\d.]+) s.*?peak RSS ([\d.]+) GB", out)
    ref = re.search(r"bvlain cell .*?wall ([\d.]+) s .*?peak RSS ([\d.]+) GB", out)
    ratios = re.search(r"time ([\d.]+)x, peak memory ([\d.]+)x", out)
    assert ours and ref and ratios
    assert (f"wall median {ours[1]} s and peak RSS {ours[2]} GB, against {ref[1]} s and "
            f"{ref[2]} GB for bvlain 0.25.1") in readme
    assert f"(time {ratios[1]}x, peak memory {ratios[2]}x)" in readme
    # the ratios are what the times and memories give
    assert float(ratios[1]) == pytest.approx(float(ref[1]) / float(ours[1]), abs=0.05)


def test_every_readme_reference_section_moved_to_a_guide_page():
    for name in ("study-runner", "compositions", "supercells", "bvse-landscapes",
                 "synthesizability", "relaxation-dft", "development"):
        page = DOCS / "guide" / f"{name}.md"
        assert page.read_text().startswith("# "), page
    index = (DOCS / "guide" / "index.md").read_text()
    assert ":glob:" in index and "\n*\n" in index  # new guide pages appear by themselves


def test_citation_file_names_the_version_and_the_works_used():
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["version"] == __version__
    dois = {r.get("doi") for r in cff["references"]}
    for doi in ("10.1039/d5ee06594a",            # Zuo et al. 2026, the study
                "10.1038/s41467-021-26006-3",    # Ouyang et al. 2021, stability data
                "10.1107/S2052252517010211",     # Chen & Adams 2017, softBV
                "10.1107/S2052520618015718",     # Chen, Wong & Adams 2019, softBV
                "10.1016/0025-5408(76)90073-8"):  # Hong 1976, parent structure
        assert doi in dois, doi
    assert "## Unreleased" in (ROOT / "CHANGELOG.md").read_text()


def test_json_outputs_carry_the_version(capsys):
    from nasicon_sim.cli.main import main

    assert main(["describe", "Na3Zr2Si2PO12", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["formula"] == "Na3Zr2Si2PO12"
    assert rows[0]["nasicon_sim_version"] == __version__
    assert main(["data", "check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["nasicon_sim_version"] == __version__


def _built_site() -> Path:
    if not (BUILT / "index.html").is_file():
        if os.environ.get("NASICON_SIM_REQUIRE_DOCS"):
            pytest.fail(f"the documentation site is not built in {BUILT}")
        pytest.skip("documentation site not built (python -m sphinx -W -b html docs docs/_build/html)")
    return BUILT


def _screenshot(page: Path, png: Path) -> None:
    from _browser import CHROMIUM_FLAGS, chromium

    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--hide-scrollbars",
             "--window-size=1280,900", "--virtual-time-budget=5000",
             f"--screenshot={png}", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0 and png.is_file(), proc.stderr[-2000:]


@pytest.mark.parametrize("page, expected", [
    ("index.html", ["nasicon-sim", "Getting started", "Tutorials", "API reference"]),
    ("tutorials/formula-to-barriers.html", ["From a formula to barriers", "E_1D/2D/3D =",
                                             "bottleneck"]),
])
def test_site_renders_in_headless_chromium(page, expected, tmp_path):
    from _browser import rendered_dom

    site = _built_site()
    dom = rendered_dom(site / page, budget_ms=5000)
    for text in expected:
        assert text in dom, text
    # the theme's stylesheet and scripts were found offline (relative paths, no CDN)
    assert "pydata-sphinx-theme" in dom or "bd-header" in dom
    png = tmp_path / "page.png"
    _screenshot(site / page, png)
    import matplotlib.image as mpimg

    pixels = mpimg.imread(png)
    assert pixels.shape[0] >= 800 and pixels.shape[1] >= 1200
    # not a blank page: the rendered text and theme give many distinct grey levels
    assert pixels[..., :3].std() > 0.05


def test_howto_numbers_are_those_of_the_recorded_study_and_its_profile():
    import math

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    summary = json.loads((ROOT / "calculations/zuo2026/results/summary.json").read_text())
    sds = [c["summaries"]["E_3D_eV"]["std_eV"] for c in summary["compositions"]]
    sds = [s for s in sds if s > 0]
    n = summary["compositions"][0]["summaries"]["E_3D_eV"]["n"]
    page = " ".join((DOCS / "howto" / "how-many-configurations.md").read_text().split())
    assert f"(s.d. of E_3D {min(sds):.3f}-{max(sds):.3f} eV" in page
    assert (f"{n} configurations give standard errors of {round(1000 * min(sds) / math.sqrt(n))}"
            f"-{round(1000 * max(sds) / math.sqrt(n))} meV") in page
    study = tomllib.loads((ROOT / "calculations/zuo2026/study.toml").read_text())
    laptop = study["profiles"]["laptop"]
    started = " ".join((DOCS / "getting-started.md").read_text().split())
    assert (f"({laptop['ensemble']['n_configurations']} configurations per composition, a "
            f"{laptop['bvse']['spacing_A']} A grid)") in started


def test_readme_description_of_the_recorded_study_is_its_summary():
    import numpy as np

    summary = json.loads((ROOT / "calculations/zuo2026/results/summary.json").read_text())
    comps = summary["compositions"]
    n_cfg = {c["n_configurations"] for c in comps}
    atoms = [c["n_atoms"] for c in comps]
    cells = [round(abs(np.linalg.det(np.asarray(c["supercell_matrix"])))) for c in comps]
    minutes = sum(c["bvse_seconds"] for c in comps) / 60
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"reuses all {summary['run']['n_tasks']} results" in readme
    assert f"{n_cfg.pop()} `ewald` configurations per composition" in readme and not n_cfg
    assert (f"({min(cells)}-{max(cells)} parent cells, {min(atoms)}-{max(atoms)} atoms)"
            in readme)
    assert (f"summed over the {summary['run']['n_tasks']} configurations {minutes:.1f} min"
            in readme)
    e3d = {c["composition"]["label"]: c["summaries"]["E_3D_eV"]["mean_eV"] for c in comps}
    assert max(e3d, key=e3d.get) == "HE1" and "HE1, the one composition with Ga3+, has the highest" in readme
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    spacing = tomllib.loads((ROOT / "calculations/zuo2026/study.toml").read_text())["bvse"]["spacing_A"]
    assert f"BVSE at {spacing} A with bvlain's default convention" in readme
