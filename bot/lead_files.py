"""Lead files for `rotation route` (JSON) and `rotation import` (CSV), read and checked whole.

Every lead is checked as HTTP intake checks one (`bot.routing.rules.lead_fields`), and every
problem in a file is found before anything is routed: an import is resumable, and a file
routed up to its bad line would leave a person to work out which half went in.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from bot.config.routing import not_utf8
from bot.routing.rules.lead_fields import LeadInvalid, checked_lead, read_json


class LeadFileInvalid(Exception):
    """A lead file that cannot be routed; `problems` says every reason, located, in plain words."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """A lead file's text, or LeadFileInvalid saying why it cannot be read (a byte order mark is dropped)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LeadFileInvalid([f"{path} does not exist"]) from None
    except OSError as error:
        raise LeadFileInvalid([f"cannot read {path}: {error.strerror}"]) from None
    codec = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec)
    except LookupError:
        raise LeadFileInvalid([f"{encoding!r} is not a text encoding Python knows "
                               "(try utf-8, cp1252 or latin-1)"]) from None
    except UnicodeDecodeError as error:
        if codec != "utf-8-sig":
            line = data[: error.start].count(b"\n") + 1
            raise LeadFileInvalid([f"{path} is not {encoding} text (byte 0x{data[error.start]:02x} "
                                   f"at line {line})"]) from None
        hint = "; or, for a file saved by Excel on Windows, give `--encoding cp1252`"
        raise LeadFileInvalid([not_utf8(error).render(str(path)) + hint]) from None


def json_leads(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The leads in a JSON file (one object or a list), all checked as HTTP intake checks them,
    and whether the file held a list; LeadFileInvalid naming every bad lead."""
    try:
        data = read_json(read_text(path))
    except json.JSONDecodeError as error:
        raise LeadFileInvalid([f"{path} is not valid JSON: {error.msg} at line {error.lineno} "
                               f"column {error.colno}"]) from None
    except ValueError as error:  # a key given twice, NaN, a number of thousands of digits
        raise LeadFileInvalid([f"{path} is not valid JSON for leads: {error}"]) from None
    except RecursionError:
        raise LeadFileInvalid([f"{path} is nested too deeply to be a list of leads"]) from None
    listed = isinstance(data, list)
    leads = data if listed else [data]
    problems = []
    for number, lead in enumerate(leads, start=1):
        where = f"lead #{number} in {path}" if listed else str(path)
        if not isinstance(lead, dict):
            problems.append(f"{where}: is not a JSON object of lead fields, like {{\"id\": \"L-1\"}}")
            continue
        try:
            checked_lead(lead)
        except LeadInvalid as error:
            problems.append(f"{where}: {error}")
    if problems:
        raise LeadFileInvalid(problems)
    return leads, listed


CSV_ERRORS = {
    "unexpected end of data": "a quoted cell is never closed (its quote runs to the end of the file)",
    "expected after": "a closing quote must end its cell (write a quote inside a quoted cell as \"\")",
    "field larger than field limit": f"a cell is longer than {csv.field_size_limit()} characters",
}


DELIMITERS = ",;\t|"  # what spreadsheets write: European Excel uses ";"


def csv_leads(path: Path, encoding: str = "utf-8") -> list[dict[str, Any]]:
    """The rows of a CSV as leads (empty cells left out), all checked as HTTP intake checks a
    lead; LeadFileInvalid naming every bad line (a malformed file included).

    Read as spreadsheets write them: the delimiter is found from the header (`,` `;` tab or
    `|`), spaces after a delimiter are not part of a cell, header names are read without the
    spaces around them and the `id` column in any case (`ID`), and a row of empty cells (a
    trailing `,,,`) is skipped.
    """
    text = read_text(path, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, skipinitialspace=True,
                        delimiter=_delimiter(text))
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    header: list[str] | None = None
    line = 1
    try:
        for cells in reader:
            if header is None:
                header = [_column_name(name) for name in cells]
                problems += _header_problems(path, header)
            elif any(cell.strip() for cell in cells):
                rows.append(_csv_lead(path, line, header, cells, problems))
            line = reader.line_num + 1
    except csv.Error as error:
        words = next((plain for key, plain in CSV_ERRORS.items() if key in str(error)), str(error))
        problems.append(f"{path}:{line}: {words}")
    if (header is None and not problems) or (header is not None and "id" not in header):
        raise LeadFileInvalid([_no_id_column(path, header)])
    if problems:
        raise LeadFileInvalid(problems)
    return rows


def _delimiter(text: str) -> str:
    """The header line's delimiter, as `csv.Sniffer` finds it; a comma when it cannot tell."""
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _column_name(name: str) -> str:
    name = name.strip()
    return "id" if name.casefold() == "id" else name


def _no_id_column(path: Path, header: list[str] | None) -> str:
    message = f"{path} needs a header row with an `id` column"
    if header and len(header) == 1 and any(d in header[0] for d in DELIMITERS[1:]):
        return message + f" (its header is one column, `{header[0][:60]}`: is it delimited by ; or tabs?)"
    if header:
        return message + f" (its header names {', '.join(f'`{n}`' for n in header[:8] if n)})"
    return message


def _header_problems(path: Path, header: list[str]) -> list[str]:
    """A name given twice. A column without a name is fine while it stays empty (a trailing
    comma, as spreadsheets export): `_csv_lead` objects to a value under it."""
    problems = []
    first: dict[str, int] = {}  # one pass: a header of 200,000 columns was quadratic
    for column, name in enumerate(header, start=1):
        if not name.strip():
            continue
        if name in first:
            problems.append(f"{path}:1: the header names `{name}` twice (columns {first[name]} and {column})")
        else:
            first[name] = column
    return problems


def _csv_lead(
    path: Path, line: int, header: list[str], cells: list[str], problems: list[str]
) -> dict[str, Any]:
    """One row as lead fields; what is wrong with it goes to `problems`, with its line."""
    if any(cells[len(header) :]):
        problems.append(
            f"{path}:{line}: {len(cells)} cells, but the header has {len(header)} columns "
            "(quote a cell that holds a comma)"
        )
    for column, (name, value) in enumerate(zip(header, cells, strict=False), start=1):
        if not name.strip() and value != "":
            problems.append(f"{path}:{line}: a value in column {column}, which has no name in the header")
    lead = {name: value for name, value in zip(header, cells, strict=False) if name.strip() and value != ""}
    try:
        checked_lead(lead)
    except LeadInvalid as error:
        problems.append(f"{path}:{line}: {error}")
    return lead
