"""Benchmark: import a realistic 100,000-row employer file (with some bad rows) into the directory.

Prints JSON lines: the import of the new file ("valid rows only", so the bad rows are reported and the rest written),
a re-import of the same file (every row matched by code), the same rows as XLSX, and a baseline: django-import-export's ModelResource on
2,000 rows of the same file (dry run), to show why the import does not use its per-row pipeline.
Runs in a database of its own, made afresh next to DATABASE_URL's (`<name>_import_bench`), never the one in use.

    python bench/import_directory.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path

import _support as support

ARGUMENTS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGUMENTS.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 100_000)))
ROWS = ARGUMENTS.parse_args().rows
support.setup_django({"DATABASE_URL": support.bench_database_url(support.default_database_url(), "import_bench"),
                      "LOG_LEVEL": "WARNING"})  # fmt: skip

import csv  # noqa: E402

import openpyxl  # noqa: E402
import tablib  # noqa: E402
from import_export import resources  # noqa: E402

from recipients.importing import import_directory  # noqa: E402
from recipients.models import Organization  # noqa: E402

BAD_EVERY = 97  # about 1% of the rows carry one mistake each
CODE_PREFIX = "BM"
FORMS = [
    "Công ty TNHH",
    "Công ty Cổ phần",
    "Công ty TNHH MTV",
    "Doanh nghiệp tư nhân",
    "Hợp tác xã",
    "Chi nhánh Công ty",
]
TRADES = ["Thương mại", "Xây dựng", "Dệt may", "Phần mềm", "Vận tải", "Dược phẩm", "Thực phẩm", "Cơ khí", "Du lịch",
          "Giáo dục", "Điện tử", "Nội thất", "Bất động sản", "Tư vấn", "Môi trường", "Nông sản"]  # fmt: skip
NAMES = ["Sông Hồng", "Thăng Long", "Hồ Gươm", "Hà Đông", "Tây Hồ", "Ba Vì", "Đông Đô", "Kinh Bắc", "Trường Thành",
         "Việt Hưng", "An Phát", "Hòa Bình", "Minh Khai", "Ngọc Hà", "Phú Thượng", "Sóc Sơn", "Đức Giang"]  # fmt: skip
AREAS = ["Ba Đình", "Hoàn Kiếm", "Cầu Giấy", "Đống Đa", "Hai Bà Trưng", "Hoàng Mai", "Long Biên", "Thanh Xuân",
         "Tây Hồ", "Hà Đông", "Đông Anh", "Gia Lâm", "Sóc Sơn", "Chương Mỹ", "Thường Tín", "Ứng Hòa"]  # fmt: skip
HEADER = ["name", "kind", "level", "area", "bhxh_code", "tax_code", "emails", "phone", "address", "tags"]


def good_row(i: int, rnd: random.Random) -> list[str]:
    name = f"{rnd.choice(FORMS)} {rnd.choice(TRADES)} {rnd.choice(NAMES)} {i}"
    emails = f"nhansu{i}@dn{i % 997}.example.com"
    if rnd.random() < 0.3:
        emails += f"; KeToan{i}@dn{i % 997}.example.com "
    area = rnd.choice(AREAS)
    address = f"Số {rnd.randint(1, 300)} phố {rnd.choice(NAMES)}, {area}, Hà Nội"
    phone = f"024 3{rnd.randint(0, 9999999):07d}"
    tags = "fdi" if rnd.random() < 0.05 else ""
    return [name, "employer", "city", area, f"{CODE_PREFIX}{i:07d}", f"8{i:09d}", emails, phone, address, tags]


def spoil(row: list[str], i: int) -> list[str]:
    """Return the row with one typical mistake."""
    mistake = (i // BAD_EVERY) % 6
    if mistake == 0:
        row[6] = "nhansu.at.example.com"
    elif mistake == 1:
        row[1] = "doanh nghiep tu nhan"
    elif mistake == 2:
        row[5] = f"8{i - 1:09d}"  # the previous row's tax code: a duplicate in the file
    elif mistake == 3:
        row[0] = "Công ty " + "rất dài " * 40
    elif mistake == 4:
        row[5] = "01-2345"
    else:
        row[6] = ""
    return row


def write_file(path: Path, rows: int) -> None:
    """Write the file in UTF-8 with a BOM, as Excel's "CSV UTF-8" does."""
    rnd = random.Random(6)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(1, rows + 1):
            row = good_row(i, rnd)
            writer.writerow(spoil(row, i) if i % BAD_EVERY == 0 else row)


def write_xlsx(csv_path: Path, path: Path) -> None:
    """Write the same rows as an Excel workbook."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("directory")
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    workbook.save(path)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure(label: str, path: Path) -> dict:
    start = time.perf_counter()
    summary = import_directory(path.read_bytes(), path.name, valid_only=True)
    seconds = time.perf_counter() - start
    return {
        "bench": label,
        "rows": summary.rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(summary.rows / seconds),
        "peak_rss_mb": peak_rss_mb(),
        "errors": summary.error_rows,
        "created": summary.created,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
    }


class EmployerResource(resources.ModelResource):
    class Meta:
        model = Organization
        fields = ["name", "kind", "level", "area", "bhxh_code", "tax_code", "phone", "address", "tags"]
        import_id_fields = ["bhxh_code"]


def baseline(path: Path, rows: int = 2000) -> dict:
    """Time django-import-export's ModelResource (dry run, addresses left out) on the first `rows` rows."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        data = [row for _i, row in zip(range(rows), reader, strict=False)]
    dataset = tablib.Dataset(*data, headers=header)
    start = time.perf_counter()
    result = EmployerResource().import_data(dataset, dry_run=True, use_transactions=True)
    seconds = time.perf_counter() - start
    return {
        "bench": "baseline django-import-export ModelResource, dry run, no addresses",
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "projected_seconds_for_100000": round(100_000 * seconds / rows),
        "errors": len(result.invalid_rows) + sum(len(r.errors) for r in result.rows),
    }


def main() -> None:
    Organization.objects.filter(bhxh_code__startswith=CODE_PREFIX).delete()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "employers.csv"
        write_file(path, ROWS)
        try:
            print(json.dumps(measure(f"import {ROWS} new employers (CSV UTF-8, valid rows only)", path)), flush=True)
            print(json.dumps(measure(f"re-import the same {ROWS} rows (all matched by code)", path)), flush=True)
            Organization.objects.filter(bhxh_code__startswith=CODE_PREFIX).delete()
            xlsx = Path(tmp) / "employers.xlsx"
            write_xlsx(path, xlsx)
            print(json.dumps(measure(f"import {ROWS} new employers (XLSX, valid rows only)", xlsx)), flush=True)
            Organization.objects.filter(bhxh_code__startswith=CODE_PREFIX).delete()
            print(json.dumps(baseline(path, min(ROWS, 2000))), flush=True)
        finally:
            Organization.objects.filter(bhxh_code__startswith=CODE_PREFIX).delete()


if __name__ == "__main__":
    main()
