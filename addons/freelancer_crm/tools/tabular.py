"""Reading contact lists exported from Chinese tools (CSV in UTF-8 or GBK, XLSX)."""

import csv
import io

# GB18030 is a superset of GBK and GB2312, so one attempt covers the three.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


class TableError(ValueError):
    """The file cannot be read as a table."""


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
    # NUL bytes cannot be stored in PostgreSQL text; they carry no meaning here.
    rows = [[(cell or "").replace("\x00", "").strip() for cell in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        raise TableError("empty")
    return rows[0], rows[1:], encoding
