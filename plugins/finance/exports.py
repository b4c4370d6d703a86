"""CSV and XLSX files of a report, with exactly the numbers of its table.

Money is written in major units with the currency's own number of decimals (CSV: plain text such
as ``5350.66``; XLSX: a number with a matching format), next to its currency code. Percentages
(margin %) are written as numbers such as ``12.5``, and left empty when there is none.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import pgettext

from erp_core.money import currency_exponent, format_plain, to_decimal

from .reports import Result

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Text a spreadsheet will not run as a formula (a customer named "=HYPERLINK(...)")."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(column, row):
    value = row.get(column.key)
    if column.kind == "money":
        return to_decimal(value or 0, row["currency"])
    if column.kind == "percent":  # a percentage such as 12.5 (empty when there is none)
        return "" if value is None else value
    return safe_text(value) if column.kind == "text" else value


def to_csv(result: Result) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(c.label) for c in result.columns])
    for row in result.rows:
        writer.writerow([format_plain(row.get(c.key) or 0, row["currency"]) if c.kind == "money" else _cell(c, row)
                         for c in result.columns])
    # UTF-8 with a byte-order mark, so that spreadsheet programs read Chinese names correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _number_format(column, currency: str) -> str | None:
    """The spreadsheet number format of a column's cells: money with the currency's decimals,
    percentages with one decimal, nothing for the rest."""
    if column.kind == "money":
        exp = currency_exponent(currency)
        return "#,##0" + ("." + "0" * exp if exp else "")
    return "0.0" if column.kind == "percent" else None


def to_xlsx(result: Result, title: str, basis: str, filters: list[tuple[str, str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = pgettext("finance", "Report")[:31]
    sheet.append([str(c.label) for c in result.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in result.rows:
        sheet.append([_cell(c, row) for c in result.columns])
        for index, column in enumerate(result.columns, start=1):
            number_format = _number_format(column, row["currency"])
            if number_format:
                sheet.cell(row=sheet.max_row, column=index).number_format = number_format
    for index, column in enumerate(result.columns, start=1):
        width = max([len(str(column.label))] + [len(str(r.get(column.key, ""))) for r in result.rows[:200]]) + 2
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(max(width, 10), 50)
    sheet.freeze_panes = "A2"
    about = book.create_sheet(pgettext("finance", "About")[:31])
    about.append([pgettext("finance", "Report"), title])
    about.append([_("What it counts"), basis])
    for label, value in filters:
        about.append([label, value])
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 90
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read_xlsx_rows(data: bytes) -> list[list]:
    """The first sheet of an XLSX file as lists of values (tests and checks)."""
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [[Decimal(str(v)) if isinstance(v, float) else v for v in row] for row in sheet.iter_rows(values_only=True)]
