"""The shipped literature table: every labelled row says where its label comes from.

``data check`` refuses a labelled row without a source or without quoted words of the source
(:func:`nasicon_sim.ml.dataset.check_row_evidence`), and the counts in the table's README are
the ones the code computes.
"""

from __future__ import annotations

import csv
import io
import re
from importlib import resources
from pathlib import Path

import pytest

from nasicon_sim.cli.main import main
from nasicon_sim.composition import parse_nasicon
from nasicon_sim.errors import DataError
from nasicon_sim.ml.dataset import (
    check_row_evidence,
    literature_table,
    load_literature,
    quoted_words,
    read_table,
)

#: The last line of the rows copied from the shared data folder; later rows were added here.
LAST_COPIED_LINE = 199
HEADER = "formula,phase_outcome,source,note\n"


def _readme() -> str:
    return resources.files("nasicon_sim").joinpath("data/literature/README.md").read_text()


def test_every_labelled_shipped_row_has_a_source_and_quoted_words():
    table = literature_table()
    paraphrased = check_row_evidence(table, require_quote=True)
    # only older rows may rest on a summary, and each of them says so with its tag
    assert paraphrased and max(paraphrased) <= LAST_COPIED_LINE
    by_line = {r.line: r for r in table.rows}
    assert all("PARAPHRASE" in by_line[line].tags for line in paraphrased)
    added = [r for r in table.rows if r.line > LAST_COPIED_LINE]
    assert len(added) >= 50
    for row in added:
        assert row.label in ("single_phase", "secondary_phases", "ambiguous")
        assert row.fields["source_url"].startswith("https://")
        if row.label != "ambiguous":
            assert quoted_words(row.note), row.line
        if row.label == "secondary_phases":
            assert row.fields["impurities"], f"line {row.line}: secondary phases not named"


def test_every_added_row_parses_as_nasicon():
    for row in literature_table().rows:
        if row.line > LAST_COPIED_LINE:
            comp = parse_nasicon(row.formula)
            assert abs(sum(dict(comp.m_site).values()) - 2) < 0.02


def test_readme_counts_are_the_code_counts():
    text = _readme()
    rows = list(csv.DictReader(io.StringIO(
        resources.files("nasicon_sim").joinpath(
            "data/literature/nasicon_literature.csv").read_text())))
    m = re.search(r"Counts: (\d+) single_phase, (\d+) secondary_phases, (\d+) ambiguous "
                  r"\((\d+) rows\)", text)
    assert m, "README lost its Counts line"
    by_label = {lab: sum(r["phase_outcome"] == lab for r in rows)
                for lab in ("single_phase", "secondary_phases", "ambiguous")}
    assert tuple(map(int, m.groups())) == (
        by_label["single_phase"], by_label["secondary_phases"], by_label["ambiguous"], len(rows))
    m = re.search(r"(\d+) compositions \((\d+) single_phase,\s+(\d+) secondary_phases\)", text)
    c = load_literature().counts()
    assert tuple(map(int, m.groups())) == (c["compositions"], c["single_phase"],
                                            c["secondary_phases"])
    # the user guide gives the same numbers
    guide = (Path(__file__).resolve().parents[1] / "docs/guide/literature-data.md").read_text()
    assert (f"{c['rows']} rows -> {c['compositions']} compositions ({c['single_phase']} "
            f"single_phase, {c['secondary_phases']} secondary_phases)") in guide
    assert (f"Rows: {by_label['single_phase']} single_phase, {by_label['secondary_phases']} "
            f"secondary_phases, {by_label['ambiguous']} ambiguous") in guide
    assert (f"give {c['compositions']} labelled compositions ({c['single_phase']} single "
            f"phase, {c['secondary_phases']} with secondary phases)") in " ".join(guide.split())
    n_paraphrased = len(check_row_evidence(literature_table()))
    assert f"  {n_paraphrased} labelled rows rest on the curator's summary" in guide
    f = load_literature("first-hand").counts()
    assert (f"`--policy first-hand` (survey labels left out) {f['compositions']} "
            f"({f['single_phase']} and {f['secondary_phases']})") in " ".join(guide.split())
    # the floor the table was extended to
    assert c["compositions"] >= 100 and c["secondary_phases"] >= 30


def test_quoted_words_needs_two_words_in_double_quotes():
    assert quoted_words('x: "single phase by XRD" and "Se"') == ["single phase by XRD"]
    assert quoted_words("\u201cno other phases were detected\u201d") == [
        "no other phases were detected"]
    assert quoted_words("pure (summarised)") == []


def _table(tmp_path, body: str):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + body)
    return read_table(path)


def test_a_labelled_row_without_a_source_is_refused(tmp_path):
    table = _table(tmp_path, 'NaTi2(PO4)3,single_phase,,"""single phase by XRD"""\n'
                             "NaZr2(PO4)3,ambiguous,,\n")
    with pytest.raises(DataError) as err:
        check_row_evidence(table, require_quote=False)
    msg = str(err.value)
    assert "line 2 (NaTi2(PO4)3)" in msg and "no source" in msg and "\n" not in msg


def test_a_labelled_row_without_a_quote_is_refused_when_quotes_are_required(tmp_path):
    table = _table(tmp_path, "NaTi2(PO4)3,secondary_phases,doi:10/x,TiO2 seen\n"
                             "NaZr2(PO4)3,single_phase,doi:10/y,no quote either\n"
                             "NaHf2(PO4)3,ambiguous,,\n")
    assert check_row_evidence(table, require_quote=False) == ()
    with pytest.raises(DataError) as err:
        check_row_evidence(table, require_quote=True)
    msg = str(err.value)
    assert "line 2 (NaTi2(PO4)3)" in msg and "quotes no words" in msg
    assert "(and 1 more such rows)" in msg and "\n" not in msg


def test_a_paraphrase_tag_is_accepted_and_reported(tmp_path):
    table = _table(tmp_path, 'NaTi2(PO4)3,single_phase,doi:10/x,"[PARAPHRASE] pure, says p. 3"\n'
                             'NaZr2(PO4)3,single_phase,doi:10/y,"""a single phase"" (p. 2)"\n')
    assert check_row_evidence(table) == (2,)


def test_data_check_cli_refuses_with_one_line(tmp_path, capsys):
    path = tmp_path / "mine.csv"
    path.write_text(HEADER + "NaTi2(PO4)3,single_phase,lab book 7,\n")
    assert main(["data", "check", str(path)]) == 0  # a lab result needs a source, not a quote
    capsys.readouterr()
    assert main(["data", "check", str(path), "--require-quotes"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "line 2 (NaTi2(PO4)3)" in err
    path.write_text(HEADER + "NaTi2(PO4)3,single_phase,,\n")
    assert main(["data", "check", str(path)]) == 2
    assert "names no source" in capsys.readouterr().err


def test_data_check_shipped_reports_the_paraphrased_rows(capsys):
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out
    c = load_literature().counts()
    assert (f"{c['compositions']} compositions ({c['single_phase']} single_phase, "
            f"{c['secondary_phases']} secondary_phases)") in out
    assert "labelled rows rest on the curator's summary" in out
