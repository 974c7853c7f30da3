"""Reading contact lists exported from Chinese tools (CSV in UTF-8 or GBK, XLSX)."""

import csv
import io
from typing import NamedTuple

# GB18030 is a superset of GBK and GB2312, so one attempt covers the three.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")

# Signature of OLE2 compound files: Excel 97-2003 workbooks (.xls).
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class TableError(ValueError):
    """The file cannot be read as a table."""


class FormulaText(str):
    """Text of an XLSX formula cell saved without its computed value.

    openpyxl does not compute formulas, so such a cell has no value to import.
    The formula text is kept so that the import can name it in a row message.
    """


class Table(NamedTuple):
    """Header and data rows of a file, and where they were read.

    The readers of each format return every row in ``rows`` and an empty
    ``header``; ``read_table`` splits off the header row.
    """

    header: list
    rows: list
    encoding: str
    sheet_name: str = ""
    ignored_sheets: tuple = ()


def _looks_misdecoded(text):
    """Tell whether GB18030 text is likely another encoding read by mistake.

    GB18030 decodes almost any byte string, so a Big5 or Shift-JIS file comes
    out as private-use characters or as rare characters outside GB2312, which
    real Chinese contact lists seldom contain.
    """
    # NOTE: a heuristic: a short file of rare names may be refused, and a Big5
    # file that happens to map to common characters may pass.
    non_ascii = [char for char in text if ord(char) > 0x7F]
    if any("\ue000" <= char <= "\uf8ff" for char in non_ascii):
        return True
    rare = 0
    for char in non_ascii:
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            rare += 1
    return rare >= 2 and rare > 0.3 * len(non_ascii)


def decode_csv(data):
    """Return the text of a CSV file and the encoding that decoded it."""
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "gb18030" and _looks_misdecoded(text):
            break
        return text, encoding
    raise TableError("encoding")


def _read_csv(data):
    text, encoding = decode_csv(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    return Table([], rows, encoding)


def _xlsx_cell_text(value, formula):
    if value is None and isinstance(formula, str) and formula.startswith("="):
        return FormulaText(formula)
    return "" if value is None else str(value)


def _read_xlsx(data):
    """Read the first sheet of a workbook, with the cached values of formulas.

    The workbook is opened twice, once for the values Excel or WPS saved and
    once for the formulas, to tell an empty cell from an uncomputed formula.
    """
    import openpyxl  # noqa: PLC0415 - optional heavy import, only for XLSX files

    try:
        values_book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas_book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    except Exception as error:  # openpyxl raises many unrelated types on bad files
        raise TableError("xlsx") from error
    try:
        sheet_names = values_book.sheetnames
        if not sheet_names:
            raise TableError("empty")
        value_rows = values_book.worksheets[0].iter_rows(values_only=True)
        formula_rows = formulas_book.worksheets[0].iter_rows(values_only=True)
        rows = [
            [
                _xlsx_cell_text(value, formula)
                for value, formula in zip(value_row, formula_row, strict=False)
            ]
            for value_row, formula_row in zip(value_rows, formula_rows, strict=False)
        ]
    finally:
        values_book.close()
        formulas_book.close()
    return Table([], rows, "xlsx", sheet_names[0], tuple(sheet_names[1:]))


def _clean_cell(cell):
    if isinstance(cell, FormulaText):
        return cell
    # NUL bytes cannot be stored in PostgreSQL text; they carry no meaning here.
    return (cell or "").replace("\x00", "").strip()


def read_table(data, filename=""):
    """Return the ``Table`` read from CSV or XLSX bytes.

    Blank rows are dropped and every cell is a stripped string, or a
    ``FormulaText`` for an XLSX formula saved without its value. Raises
    ``TableError`` with reason "xls" for an Excel 97-2003 workbook, which
    openpyxl cannot read.
    """
    lowered = filename.lower()
    if lowered.endswith(".xls") or data[:8] == OLE2_SIGNATURE:
        raise TableError("xls")
    if lowered.endswith(".xlsx") or data[:2] == b"PK":
        table = _read_xlsx(data)
    else:
        table = _read_csv(data)
    rows = [[_clean_cell(cell) for cell in row] for row in table.rows]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        raise TableError("empty")
    return table._replace(header=rows[0], rows=rows[1:])
