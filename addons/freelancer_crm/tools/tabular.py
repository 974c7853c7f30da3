"""Reading contact lists exported from Chinese tools (CSV in UTF-8 or GBK, XLSX)."""

import csv
import io

# GB18030 is a superset of GBK and GB2312, so one attempt covers the three.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


class TableError(ValueError):
    """The file cannot be read as a table."""


def decode_csv(data):
    """Return the text of a CSV file and the encoding that decoded it."""
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise TableError("encoding")


def _read_csv(data):
    text, encoding = decode_csv(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    return rows, encoding


def _read_xlsx(data):
    import openpyxl  # noqa: PLC0415 - optional heavy import, only for XLSX files

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many unrelated types on bad files
        raise TableError("xlsx") from error
    sheet = workbook.worksheets[0]
    rows = [
        ["" if cell is None else str(cell) for cell in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    workbook.close()
    return rows, "xlsx"


def read_table(data, filename=""):
    """Return ``(header, rows, encoding)`` read from CSV or XLSX bytes.

    Blank rows are dropped and every cell is a stripped string.
    """
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        rows, encoding = _read_xlsx(data)
    else:
        rows, encoding = _read_csv(data)
    rows = [[(cell or "").strip() for cell in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        raise TableError("empty")
    return rows[0], rows[1:], encoding
