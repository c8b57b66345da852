"""Cells safe to open in a spreadsheet: no text a spreadsheet would run as a formula.

Excel, LibreOffice and Google Sheets evaluate a cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return (``=HYPERLINK(...)``, ``@SUM(...)``, DDE commands). ``safe_cell``
prefixes such text with an apostrophe, which every one of them shows as the text itself. Numbers,
dates and other values that are not text are returned unchanged.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """``value`` unchanged, or text a spreadsheet shows as written and never evaluates."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: list[Any]) -> list[Any]:
    """``safe_cell`` applied to each value of a row."""
    return [safe_cell(value) for value in values]
