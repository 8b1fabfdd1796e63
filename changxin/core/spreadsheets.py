"""Cells written to Excel or CSV for people to open: never a live formula (CSV/formula injection).

A text a citizen typed (a demand titled `=HYPERLINK("http://…","点击")`) must reach the dispatcher's
spreadsheet as text. Every export writes its rows through this module:

    sheet.append(xlsx_row(sheet, [demand.number, demand.title, demand.received_at]))   # openpyxl
    writer.writerow(csv_row([row_id, category]))                                        # csv

Excel treats a cell starting with = + - @ (and tab or carriage return, which it strips first) as a
formula or a DDE call. In a workbook such a text is stored as an explicit string cell with Excel's
quote prefix (the value is kept as typed); CSV has no types, so the text is prefixed with an
apostrophe, as OWASP recommends. Numbers, dates and other values pass unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value) -> bool:
    """A text a spreadsheet would evaluate instead of showing."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_safe(value):
    """A CSV cell: a formula-like text gets a leading apostrophe."""
    return "'" + value if looks_like_formula(value) else value


def csv_row(values: Iterable) -> list:
    return [csv_safe(value) for value in values]


def xlsx_cell(sheet, value, *, font=None):
    """A write-only openpyxl cell holding `value`; a formula-like text is stored as a string."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, str):
        value = _without_control_characters(value)
    cell = WriteOnlyCell(sheet, value=value)
    if looks_like_formula(value) or cell.data_type in ("f", "e"):
        cell.data_type = "s"
        cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


def xlsx_row(sheet, values: Iterable, *, font=None) -> list:
    return [xlsx_cell(sheet, value, font=font) for value in values]


def _without_control_characters(text: str) -> str:
    """openpyxl refuses control characters other than tab, newline and carriage return."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)
