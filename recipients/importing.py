"""Import the directory from a CSV or XLSX file: validate every row, then write in bulk, all or nothing.

django-import-export's per-row resource pipeline runs at about 300-400 rows/s here (bench/import_directory.py measures
it as the baseline: some 4-5 minutes for 100,000 rows), so rows are validated here and written in chunks: existing
organisations are matched by their codes in one query per chunk, changed ones saved with bulk_update, new ones and their
addresses copied in with PostgreSQL COPY (bulk_create on other databases). The whole run is one transaction, rolled
back when a row has an error (unless "valid rows only") or for a dry run. Files are read by `recipients.tabular`,
rows checked by `recipients.validation`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Literal

from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from recipients import signals
from recipients.bulk import chunks, insert_emails, insert_organizations
from recipients.columns import CODE_COLUMNS
from recipients.models import Organization, OrganizationEmail, RecipientGroup, search_form
from recipients.tabular import ImportFileError, read_table
from recipients.validation import FIELD_COLUMNS, CleanRow, RowError, RowValidator, read_header

log = logging.getLogger(__name__)

CHUNK_SIZE = 2000
PREVIEW_ROWS = 200
ORG_FIELDS = [f.attname for f in Organization._meta.concrete_fields]


@dataclass
class ImportSummary:
    """What an import did (or, when nothing was written, would have done)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    written: bool = False
    ignored_columns: list[str] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        return len({error.row for error in self.errors})

    def line(self) -> str:
        """Return the one-line summary printed by the command."""
        return f"created={self.created} updated={self.updated} unchanged={self.unchanged} errors={self.error_rows}"


@dataclass(frozen=True)
class ScriptActor:
    """Who ran an import outside the admin (e.g. "manage.py import_recipients (root)"), for the log and the audit.

    It answers like a signed-in user without an account: the audit trail records its name and no user id.
    """

    name: str
    pk = None
    is_authenticated = True

    def get_username(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name


def announce_import(user, summary: ImportSummary, filename: str) -> None:
    """Tell the listeners (the audit trail) about an import that is about to commit, in its transaction."""
    log.info("Directory import of %s by %s: %s", filename, user, summary.line())
    signals.directory_imported.send(sender=ImportSummary, user=user, summary=summary, filename=filename)


def changed_fields(org: SimpleNamespace, fields: dict) -> dict:
    """Return the fields the row changes; an empty code cell keeps the code (codes identify, they are not cleared)."""
    return {k: v for k, v in fields.items() if getattr(org, k) != v and (v or k not in CODE_COLUMNS)}


def any_of(column: str, values: set[str]) -> Q:
    """Return "column IN values"; on PostgreSQL as one array parameter (binding thousands of placeholders is slow)."""
    if connection.vendor == "postgresql":
        sql = f"{connection.ops.quote_name(column)} = ANY(%s)"
        return Q(RawSQL(sql, [sorted(values)], output_field=BooleanField()))
    return Q(**{f"{column}__in": values})


def row_keys(row: CleanRow) -> list[tuple[str, str]]:
    """Return what identifies the row's organisation: its codes, or its kind and name when it has none."""
    keys = [(column, row.fields[column]) for column in CODE_COLUMNS if row.fields.get(column)]
    if keys or not (row.fields.get("kind") and row.fields.get("name")):
        return keys
    return [("name", f"{row.fields['kind']}:{row.fields['name'].lower()}")]


class DirectoryImport:
    """One import run: reads, validates and writes a file chunk by chunk inside one transaction."""

    def __init__(self, default_kind: str = "", group_name: str = "", chunk_size: int = CHUNK_SIZE) -> None:
        self.default_kind = default_kind
        self.group_name = group_name
        self.group: RecipientGroup | None = None
        self.chunk_size = chunk_size
        self.summary = ImportSummary()
        self.seen: dict[tuple[str, str], int] = {}  # (column, value) -> first row, to catch duplicates in the file
        self.touched: dict[int, int] = {}  # organisation id -> row that wrote it

    def run(self, rows: Iterable[list]) -> None:
        """Validate every row (the header first) and write the valid ones (the caller decides whether to keep them)."""
        rows = iter(rows)
        header, self.summary.ignored_columns = read_header(rows, self.default_kind)
        validator = RowValidator(header, self.default_kind)
        numbered = ((number, cells) for number, cells in enumerate(rows, start=2) if any(str(c).strip() for c in cells))
        for chunk in chunks(numbered, self.chunk_size):
            clean = []
            for number, cells in chunk:
                row, errors = validator.clean(number, cells)
                errors += self.repeated_in_file(row)
                self.summary.rows += 1
                self.summary.errors += errors
                if not errors:
                    clean.append(row)
            self.write_chunk(clean)

    def repeated_in_file(self, row: CleanRow) -> list[RowError]:
        """Return an error for each earlier row of the file, valid or not, with the same code (or kind and name)."""
        errors, earlier = [], set()
        for column, value in row_keys(row):
            first = self.seen.setdefault((column, value), row.row)
            if first != row.row and first not in earlier:
                earlier.add(first)
                message = _("Duplicate of row %(row)d (same %(column)s).") % {"row": first, "column": column}
                errors.append(RowError(row.row, column, message))
        return errors

    def write_chunk(self, rows: list[CleanRow]) -> None:
        """Match the chunk's rows against the database, then create and update in bulk."""
        existing = self.lookup(rows)
        emails = self.existing_emails({org.pk for orgs in existing.values() for org in orgs})
        to_create, to_update, new_emails, kept = [], [], {}, []
        for row in rows:
            org = self.match(row, existing)
            if org is False:
                continue
            if org is not None:
                kept.append(org.pk)
            if org is None:
                to_create.append(row)
                self.count("created", row, row.fields)
                continue
            changes = changed_fields(org, row.fields)
            if "name" in changes:
                changes["search_name"] = search_form(changes["name"])
            emails_changed = emails.get(org.pk, []) != row.emails
            if changes or emails_changed:
                to_update.append(Organization(**{**{key: getattr(org, key) for key in ORG_FIELDS}, **changes}))
                if emails_changed:
                    new_emails[org.pk] = row.emails
                shown = {key: value for key, value in changes.items() if key != "search_name"}
                self.count("updated", row, {**shown, **({"emails": row.emails} if emails_changed else {})})
            else:
                self.count("unchanged", row, {})
        created = self.save(to_create, to_update, new_emails)
        if self.group_name:
            self.add_to_group(kept + created)

    def count(self, action: str, row: CleanRow, changes: dict) -> None:
        setattr(self.summary, action, getattr(self.summary, action) + 1)
        if action != "unchanged" and len(self.summary.preview) < PREVIEW_ROWS:
            name = row.fields.get("name", "")
            self.summary.preview.append({"row": row.row, "action": action, "name": name, "changes": changes})

    def lookup(self, rows: list[CleanRow]) -> dict[tuple[str, str], list[SimpleNamespace]]:
        """Return the organisations that share a code (or, for rows without codes, name and kind) with a row.

        They are indexed like the rows' keys: ("tax_code", "0100000001") or ("name", "employer:công ty a").
        """
        query = Q(pk__in=[])
        for column in CODE_COLUMNS:
            values = {row.fields[column] for row in rows if row.fields.get(column)}
            if values:
                query |= any_of(column, values)
        codeless = [row for row in rows if not any(row.fields.get(column) for column in CODE_COLUMNS)]
        if codeless:
            kinds = {row.fields["kind"] for row in codeless}
            names = {row.fields["name"] for row in codeless}
            # Exact names too: SQLite's LOWER() (and PostgreSQL's under the C locale) lowers ASCII letters only.
            query |= Q(kind__in=kinds) & (Q(name__in=names) | Q(name_lower__in={name.lower() for name in names}))
        found: dict[tuple[str, str], list[SimpleNamespace]] = {}
        # Plain namespaces, not model instances: a re-import compares ~100,000 rows and most are unchanged.
        for values in Organization.objects.annotate(name_lower=Lower("name")).filter(query).values(*ORG_FIELDS):
            org = SimpleNamespace(pk=values["id"], **values)
            for column in CODE_COLUMNS:
                if getattr(org, column):
                    found.setdefault((column, getattr(org, column)), []).append(org)
            found.setdefault(("name", f"{org.kind}:{org.name.lower()}"), []).append(org)
        return found

    def existing_emails(self, ids: set[int]) -> dict[int, list[str]]:
        """Return each organisation's addresses, primary first then in the order they were added."""
        emails: dict[int, list[str]] = {}
        rows = OrganizationEmail.objects.filter(organization_id__in=ids).order_by("organization_id", "-primary", "pk")
        for org_id, address in rows.values_list("organization_id", "address"):
            emails.setdefault(org_id, []).append(address)
        return emails

    def match(self, row: CleanRow, existing: dict) -> SimpleNamespace | None | Literal[False]:
        """Return the organisation the row updates, None for a new one, or False after recording an error."""
        found = {org.pk: org for key in row_keys(row) for org in existing.get(key, [])}
        if len(found) > 1:
            names = "; ".join(sorted(org.name for org in found.values()))
            message = _("Matches several organisations already in the directory: %(names)s.") % {"names": names}
            self.summary.errors.append(RowError(row.row, "", message))
            return False
        org = next(iter(found.values()), None)
        if org is not None and org.pk in self.touched:
            message = _("Updates the same organisation as row %(row)d.") % {"row": self.touched[org.pk]}
            self.summary.errors.append(RowError(row.row, "", message))
            return False
        if org is not None:
            self.touched[org.pk] = row.row
        return org

    def save(self, to_create: list, to_update: list[Organization], new_emails: dict[int, list[str]]) -> list[int]:
        """Write the chunk's new and changed organisations and their addresses; return the new ids."""
        created = insert_organizations(
            [{**row.fields, "search_name": search_form(row.fields["name"])} for row in to_create]
        )
        for row, pk in zip(to_create, created, strict=True):
            new_emails[pk] = row.emails
            self.touched[pk] = row.row
        if to_update:
            now = timezone.now()
            for org in to_update:
                org.updated_at = now
            Organization.objects.bulk_update(to_update, [*FIELD_COLUMNS, "search_name", "updated_at"], batch_size=500)
        OrganizationEmail.objects.filter(organization_id__in=[o.pk for o in to_update if o.pk in new_emails]).delete()
        insert_emails(
            [(pk, address, i == 0) for pk, addresses in new_emails.items() for i, address in enumerate(addresses)]
        )
        return created

    def add_to_group(self, ids: list[int]) -> None:
        """Make the organisations members of the static group named on the command line."""
        if self.group is None:
            self.group = RecipientGroup.objects.get_or_create(name=self.group_name)[0]
        membership = RecipientGroup.members.through
        rows = [membership(recipientgroup_id=self.group.pk, organization_id=pk) for pk in ids]
        membership.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)


def import_directory(data: bytes, filename: str, **options) -> ImportSummary:
    """Import a CSV or XLSX file (read as it is imported); see import_rows for the options.

    Raise ImportFileError when the file as a whole cannot be read or is beyond the upload limits.
    """
    return import_rows(read_table(data, filename), filename, **options)


def import_rows(
    rows: Iterable[list],
    filename: str,
    *,
    default_kind: str = "",
    group_name: str = "",
    dry_run: bool = False,
    valid_only: bool = False,
    user=None,
    chunk_size: int = CHUNK_SIZE,
) -> ImportSummary:
    """Import the rows of a directory file (`recipients.tabular.parse_table`, the header row first).

    Write nothing if a row has errors (unless `valid_only`) or when `dry_run`; raise ImportFileError when the file as
    a whole is refused.
    """
    job = DirectoryImport(default_kind, group_name, chunk_size)
    try:
        with transaction.atomic():
            job.run(rows)
            keep = not dry_run and (valid_only or not job.summary.errors)
            if keep:
                job.summary.written = True
                announce_import(user, job.summary, filename)
            else:
                transaction.set_rollback(True)
    except IntegrityError as exc:
        raise ImportFileError(_("The database refused the import, nothing was written: %(error)s") % {
            "error": exc}) from exc  # fmt: skip
    return job.summary
