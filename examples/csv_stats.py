"""Per-column statistics of a CSV table.

Input:  {"csv": "city,temp\\nOslo,4\\nRome,18\\n"}
Output: {"rows": 2, "columns": {"temp": {"count": 2, "mean": 11.0, "min": 4.0, "max": 18.0},
                               "city": {"count": 2, "numeric": false}}}
Empty cells are skipped; a column with any non-numeric cell is reported as text.
"""
import csv
import io


def to_number(cell):
    try:
        return float(cell)
    except ValueError:
        return None


def column_stats(cells):
    present = [cell.strip() for cell in cells if cell.strip()]
    values = [to_number(cell) for cell in present]
    if not present or any(value is None for value in values):
        return {"count": len(present), "numeric": False}
    return {
        "count": len(values),
        "mean": sum(values) / len(values),
        "min": min(values),
        "max": max(values),
    }


def main(data):
    if not isinstance(data, dict) or not isinstance(data.get("csv"), str):
        raise ValueError('expected a JSON object like {"csv": "a,b\\n1,2\\n"}')
    reader = csv.reader(io.StringIO(data["csv"]))
    header = next(reader, None)
    if not header:
        raise ValueError("the CSV text is empty: it needs a header row")
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise ValueError("row %d has %d cells, the header has %d" % (number, len(row), len(header)))
    return {
        "rows": len(rows),
        "columns": {name: column_stats([row[i] for row in rows]) for i, name in enumerate(header)},
    }
