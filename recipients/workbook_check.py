"""Check an XLSX archive against limits before a parser unpacks it.

calamine reserves a worksheet's whole rectangle up front: from its `<dimension ref="A1:XFD1048576">` (550 GB for a
1.5 KB file) or from the farthest cells it references, so both are checked here, with the archive's declared and
actual inflated sizes (a zip bomb) and the number of rows (4,000,000 rows of 2 MB held the server 52 s).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile

MAX_MEMBERS = 1000
CHUNK_BYTES = 1024 * 1024
MAX_TAG_BYTES = 64 * 1024  # a start tag is never longer; text without tags is skipped
MAX_RELATIONSHIPS_BYTES = 1024 * 1024
WORKBOOK_RELATIONSHIPS = "xl/_rels/workbook.xml.rels"
RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
WORKSHEET_TARGET = re.compile(
    rb'\bType="[^"]*/worksheet"[^>]*?\bTarget="([^"]+)"|\bTarget="([^"]+)"[^>]*?\bType="[^"]*/worksheet"'
)
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="(?:[A-Z]+\d+:)?([A-Z]+)(\d+)"')
LETTERS, DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"


class BeyondLimit(Exception):
    """The workbook exceeds a limit; its argument names which: "rows", "columns" or "size"."""


def check_workbook(data: bytes, rows: int, columns: int, inflated_bytes: int) -> None:
    """Raise BeyondLimit when the archive or one of its XML parts exceeds the limits.

    Every part is inflated (and dropped) chunk by chunk, so its actual size is counted, not only the size it
    declares; zipfile's own errors (zipfile.BadZipFile, zlib.error, ...) tell of a damaged archive.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS or sum(member.file_size for member in members) > inflated_bytes:
            raise BeyondLimit("size")
        budget, sheets = inflated_bytes, worksheets(archive)
        for member in members:
            scan = SheetScan(rows, columns) if member.filename in sheets else None
            budget -= inflate(archive, member, budget, scan)


def worksheets(archive: zipfile.ZipFile) -> set[str]:
    """Return the parts a parser will read as worksheets: xl/worksheets/*, and whatever the workbook names as one."""
    names = {name for name in archive.namelist() if name.lower().startswith("xl/worksheets/")}
    if WORKBOOK_RELATIONSHIPS in archive.namelist():
        if archive.getinfo(WORKBOOK_RELATIONSHIPS).file_size > MAX_RELATIONSHIPS_BYTES:
            raise BeyondLimit("size")
        relationships = archive.read(WORKBOOK_RELATIONSHIPS)
        for tag in RELATIONSHIP.findall(relationships):
            if found := WORKSHEET_TARGET.search(tag):
                target = (found[1] or found[2]).decode(errors="replace")
                names.add(target[1:] if target.startswith("/") else posixpath.normpath(f"xl/{target}"))
    return names


def inflate(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int, scan: SheetScan | None) -> int:
    """Inflate one part, feeding it to `scan`; return its size, or raise BeyondLimit past `budget` bytes."""
    size = 0
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            size += len(chunk)
            if size > budget:
                raise BeyondLimit("size")
            if scan is not None:
                scan.feed(chunk)
    if scan is not None:
        scan.close()
    return size


class SheetScan:
    """Follow one XML part as it inflates: the extent it declares, the rows and cells it references, its rows."""

    def __init__(self, rows: int, columns: int) -> None:
        self.rows, self.columns = rows, columns
        self.beyond = re.compile(beyond_pattern(rows, columns))
        self.count = 0
        self.cells_in_row = 0  # cells of the row the last chunk ended in
        self.tail = b""
        self.start = True

    def feed(self, chunk: bytes) -> None:
        """Check `chunk`, keeping a tag it cuts in two for the next one."""
        data = self.tail + chunk
        cut = data.rfind(b"<")
        if cut < 0 or len(data) - cut > MAX_TAG_BYTES:
            cut = len(data)
        self.tail = data[cut:]
        self.check(data[:cut])

    def close(self) -> None:
        self.check(self.tail)

    def check(self, body: bytes) -> None:
        if self.start:  # the <dimension> comes before the sheet's data
            self.start = False
            if found := DIMENSION.search(body):
                self.check_extent(column_number(found[1].decode()), int(found[2]))
        self.count += body.count(b"<row") + body.count(b":row")
        if self.count > self.rows:
            raise BeyondLimit("rows")
        self.check_width(body.split(b"<row"))
        if found := self.beyond.search(body):
            raise BeyondLimit("columns" if found["column"] else "rows")

    def check_width(self, rows: list[bytes]) -> None:
        """Count the cells of each row: cells without a reference take the next column, so a row is as wide as that."""
        self.cells_in_row += cells(rows[0])
        for row in rows[1:]:
            if self.cells_in_row > self.columns:
                break
            self.cells_in_row = cells(row)
        if self.cells_in_row > self.columns:
            raise BeyondLimit("columns")

    def check_extent(self, columns: int, rows: int) -> None:
        if columns > self.columns:
            raise BeyondLimit("columns")
        if rows > self.rows:
            raise BeyondLimit("rows")


def cells(xml: bytes) -> int:
    return xml.count(b"<c ") + xml.count(b"<c>") + xml.count(b"<c/>")


def column_number(letters: str) -> int:
    """Return the number of a column ("A" 1, "Z" 26, "AA" 27, "XFD" 16384)."""
    number = 0
    for letter in letters:
        number = number * 26 + LETTERS.index(letter) + 1
    return number


def column_letters(number: int) -> str:
    """Return the letters of a column number (the inverse of column_number)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = LETTERS[rest] + letters
    return letters


def beyond_pattern(rows: int, columns: int) -> bytes:
    """Return a regex matching a row or cell reference (r="...") beyond the last allowed row or column.

    It starts with the literal r=" (which keeps the search fast) and then looks back to skip dir="..." and the like.
    """
    column = after(column_letters(columns), LETTERS)
    row = after(str(rows), DIGITS)
    return f'r="(?<![\\w:]r=")(?:(?P<column>{column})\\d|[A-Z]*(?:{row})")'.encode()


def after(limit: str, alphabet: str) -> str:
    """Return a regex matching the strings over `alphabet` that come after `limit` (longer ones, then higher ones).

    Both column letters and row numbers (without leading zeros) order that way: "Z" < "AA", "99" < "100".
    """
    first = alphabet[1] if alphabet == DIGITS else alphabet[0]
    any_one = f"[{alphabet[0]}-{alphabet[-1]}]"
    choices = [f"[{first}-{alphabet[-1]}]{any_one}{{{len(limit)},}}"]
    for i, char in enumerate(limit):
        higher = alphabet[alphabet.index(char) + 1 :]
        if higher:
            rest = f"{any_one}{{{len(limit) - i - 1}}}" if i < len(limit) - 1 else ""
            choices.append(f"{re.escape(limit[:i])}[{higher[0]}-{higher[-1]}]{rest}")
    return "|".join(choices)
