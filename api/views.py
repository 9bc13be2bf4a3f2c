"""The API's endpoints: thin views over the same model methods, workflow table and issuing as the admin.

Every view names the scope its key must hold (`required_scope`); a dispatch is seen only by a key whose account may
see its files (`notices.views.files.may_see_files`), changed only while its account may edit it (`Dispatch.can_edit`);
every call that changes data, and every file handed out, is written to the audit trail with the key's name.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.errors import ApiError, conflict, forbidden
from api.models import KeyDispatch, Scope, validate_callback_url
from notices import edxml, issuing, merge_data
from notices.models import Appendix, AuditEvent, Delivery, Dispatch, DispatchCopy
from notices.models.workflow import WorkflowError, has_role_permission
from notices.views.files import may_see_files
from recipients.importing import import_rows
from recipients.tabular import ImportFileError

PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
ERRORS = {code: OpenApiResponse(s.ErrorOut) for code in (400, 401, 403, 404, 409, 413, 429)}
PDF = OpenApiResponse(OpenApiTypes.BINARY, description="application/pdf")


def language_of(request) -> str:
    """Return the language of the answer: English when the caller asks for it, else Vietnamese."""
    wanted = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    return "en" if wanted.lower().startswith("en") else "vi"


class ApiView(APIView):
    required_scope: str | None = None

    def dispatch(self, request, *args, **kwargs):
        with translation.override(language_of(request)):
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response

    def audit(self, action: str, obj=None, details: dict | None = None) -> None:
        """Write one audit event for this call, in the key's account, with the key's name."""
        key = self.request.auth
        AuditEvent.objects.record(self.request.user, f"api:{action}", obj, {"api_key": key.name, **(details or {})})

    def visible(self, pk: int) -> Dispatch:
        """Return the dispatch if the key's account may see it (404 otherwise: its existence is not told)."""
        related = ("issuer", "drafting_unit", "signer", "issued_by", "replaces__issuer", "replaces__drafting_unit")
        dispatch = get_object_or_404(Dispatch.objects.select_related(*related), pk=pk)
        if not may_see_files(self.request.user, dispatch):
            raise ApiError("not_found", _("Not found, or this key may not see it."), status.HTTP_404_NOT_FOUND)
        return dispatch

    def editable(self, pk: int) -> Dispatch:
        """Return the dispatch if the key's account may change it now (409 once it is no longer a draft)."""
        dispatch = self.visible(pk)
        if dispatch.status != "draft":
            raise conflict("not_a_draft", _("Only a draft can be changed."))
        if not dispatch.can_edit(self.request.user):
            raise forbidden("role_forbids", _("Your role does not allow this action."))
        return dispatch


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def not_found(request, *args, **kwargs):
    """Answer a path the API does not have (an id that is not a number, a typo) with the JSON 404."""
    with translation.override(language_of(request)):
        raise ApiError("not_found", _("Not found, or this key may not see it."), status.HTTP_404_NOT_FOUND)


def dispatch_out(dispatch: Dispatch) -> dict:
    deliveries = Delivery.objects.filter(dispatch=dispatch)
    return {
        "id": dispatch.pk, "status": dispatch.status, "subject": dispatch.subject, "notation": dispatch.notation,
        "urgency": dispatch.urgency, "secrecy": dispatch.secrecy, "personalised": dispatch.personalised,
        "issued_at": dispatch.issued_at, "return_comment": dispatch.return_comment,
        "counts": {row["status"]: row["n"] for row in deliveries.count_by_status()},
        "acknowledged": deliveries.filter(acknowledged_at__isnull=False).count(),
    }  # fmt: skip


def apply_draft(dispatch: Dispatch, data: dict) -> None:
    """Copy the validated fields onto the dispatch (the caller saves it; save() sanitises the body as the admin)."""
    if "drafting_unit" in data:
        dispatch.drafting_unit = data["drafting_unit"]
        dispatch.issuer = data["drafting_unit"].issuer
    for name in ("signer", "subject", "body", "urgency", "secrecy"):
        if name in data:
            setattr(dispatch, name, data[name])
    for name in ("addressees", "extra_distribution"):
        if name in data:
            setattr(dispatch, name, "\n".join(line.strip() for line in data[name] if line.strip()))
    if "merge_data" in data:
        dispatch.personalised = True


def save_related(dispatch: Dispatch, data: dict, user) -> None:
    """Set the targets, add the appendices and read the merge data (raise ApiError, the caller rolls back)."""
    if "groups" in data:
        dispatch.groups.set(data["groups"])
    if "organizations" in data:
        dispatch.organizations.set(data["organizations"])
    start = dispatch.appendices.count()
    for position, item in enumerate(data.get("appendices", []), start=start + 1):
        appendix = Appendix(dispatch=dispatch, title=item["title"], position=position)
        appendix.file.save(f"phu-luc-{position}.pdf", ContentFile(item["content_base64"]), save=False)
        try:
            appendix.full_clean()
        except ValidationError as exc:
            raise ApiError("appendix_invalid", _("Appendix %(n)d is not valid.") % {"n": position},
                           fields={"appendices": exc.messages}) from exc  # fmt: skip
        appendix.save()
    if "merge_data" in data:
        item = data["merge_data"]
        try:
            merge_data.attach(dispatch, item["content_base64"], item["file_name"], item["match_key"], user)
        except ImportFileError as exc:
            raise ApiError("merge_data_invalid", str(exc), fields={"merge_data": [str(exc)]}) from exc


class Drafts(ApiView):
    required_scope = Scope.DRAFTS

    @extend_schema(request=s.DraftCreateIn, responses={201: s.DispatchOut, **ERRORS}, summary="Create a draft")
    def post(self, request):
        if not has_role_permission(request.user, "add_dispatch"):
            raise forbidden("role_forbids", _("Your role does not allow this action."))
        form = s.DraftCreateIn(data=request.data)
        form.is_valid(raise_exception=True)
        with transaction.atomic():
            dispatch = Dispatch(created_by=request.user)
            apply_draft(dispatch, form.validated_data)
            dispatch.save()
            save_related(dispatch, form.validated_data, request.user)
            KeyDispatch.objects.create(key=request.auth, dispatch=dispatch)
            self.audit("create", dispatch)
        return Response(dispatch_out(dispatch), status=status.HTTP_201_CREATED)


class Draft(ApiView):
    required_scope = Scope.DRAFTS

    @extend_schema(request=s.DraftUpdateIn, responses={200: s.DispatchOut, **ERRORS}, summary="Change a draft")
    def patch(self, request, pk: int):
        dispatch = self.editable(pk)
        form = s.DraftUpdateIn(dispatch, data=request.data)
        form.is_valid(raise_exception=True)
        with transaction.atomic():
            apply_draft(dispatch, form.validated_data)
            dispatch.save()
            save_related(dispatch, form.validated_data, request.user)
            self.audit("change", dispatch, {"fields": sorted(form.validated_data)})
        return Response(dispatch_out(dispatch))


class Transition(ApiView):
    """One workflow action on a dispatch, through the model's own method (and so the transition table)."""

    action = ""

    def run(self, dispatch: Dispatch) -> None:
        raise NotImplementedError

    @extend_schema(request=None, responses={200: s.DispatchOut, **ERRORS})
    def post(self, request, pk: int):
        dispatch = self.visible(pk)
        try:
            self.run(dispatch)
        except WorkflowError as refused:
            raise conflict("workflow_refused", str(refused)) from refused
        self.audit(self.action, dispatch, {"status": dispatch.status})
        return Response(dispatch_out(dispatch))


class Submit(Transition):
    required_scope, action = Scope.DRAFTS, "submit"

    def run(self, dispatch: Dispatch) -> None:
        dispatch.submit(self.request.user)


class Approve(Transition):
    required_scope, action = Scope.ISSUE, "approve"

    def run(self, dispatch: Dispatch) -> None:
        dispatch.approve(self.request.user)


class Issue(Transition):
    required_scope, action = Scope.ISSUE, "issue"

    def run(self, dispatch: Dispatch) -> None:
        if dispatch.is_secret:  # a secret dispatch is issued by people only, in the admin
            self.audit("refused:issue", dispatch, {"reason": "secret"})
            raise forbidden("secret_dispatch", _("A secret dispatch cannot be issued through the API."))
        issuing.issue(dispatch, self.request.user)


class DispatchDetail(ApiView):
    required_scope = Scope.READ

    @extend_schema(responses={200: s.DispatchOut, **ERRORS}, summary="A dispatch's status and counts")
    def get(self, request, pk: int):
        return Response(dispatch_out(self.visible(pk)))


CURSOR = OpenApiParameter("cursor", OpenApiTypes.STR, description="next_cursor of the previous page")
LIMIT = OpenApiParameter("limit", OpenApiTypes.INT, description=f"1-{MAX_PAGE_SIZE}, default {PAGE_SIZE}")


def page_params(request) -> tuple[int, int]:
    """Return (the id after which the page starts, its size) from ?cursor= and ?limit=."""
    try:
        after = int(request.query_params.get("cursor") or 0)
        limit = int(request.query_params.get("limit") or PAGE_SIZE)
    except ValueError as exc:
        raise ApiError("bad_cursor", _("The cursor or the limit is not valid.")) from exc
    if not (0 <= after < 2**63 and 1 <= limit <= MAX_PAGE_SIZE):
        raise ApiError("bad_cursor", _("The cursor or the limit is not valid."))
    return after, limit


def keyset_page(queryset, request) -> dict:
    """Return one page of deliveries after the cursor, by id (an index range scan however deep the page)."""
    after, limit = page_params(request)
    rows = list(queryset.filter(pk__gt=after).select_related("organization").order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"results": s.DeliveryOut(rows, many=True).data, "next_cursor": str(rows[-1].pk) if more else None}


class Deliveries(ApiView):
    required_scope = Scope.READ

    @extend_schema(parameters=[CURSOR, LIMIT], responses={200: s.DeliveryPage, **ERRORS},
                   summary="A dispatch's deliveries, by cursor")  # fmt: skip
    def get(self, request, pk: int):
        return Response(keyset_page(Delivery.every_kind.filter(dispatch=self.visible(pk)), request))


class Acknowledgements(ApiView):
    required_scope = Scope.READ

    @extend_schema(parameters=[CURSOR, LIMIT], responses={200: s.DeliveryPage, **ERRORS},
                   summary="The acknowledged deliveries of a dispatch, by cursor")  # fmt: skip
    def get(self, request, pk: int):
        deliveries = Delivery.objects.filter(dispatch=self.visible(pk), acknowledged_at__isnull=False)
        return Response(keyset_page(deliveries, request))


def file_response(field_file, name: str, content_type: str = "application/pdf") -> FileResponse:
    response = FileResponse(field_file.open("rb"), content_type=content_type, filename=name, as_attachment=True)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class Pdf(ApiView):
    required_scope = Scope.READ

    @extend_schema(responses={200: PDF, **ERRORS}, summary="The issued, signed PDF")
    def get(self, request, pk: int):
        dispatch = self.visible(pk)
        if not dispatch.pdf:
            raise ApiError("no_pdf", _("This dispatch has no issued PDF."), status.HTTP_404_NOT_FOUND)
        name = f"{dispatch.number_display}-{dispatch.issuer.abbreviation}-{dispatch.drafting_unit.abbreviation}.pdf"
        self.audit("download", dispatch, {"file": "pdf", "name": name})
        return file_response(dispatch.pdf, name)


class CopyPdf(ApiView):
    required_scope = Scope.READ

    @extend_schema(responses={200: PDF, **ERRORS}, summary="One organisation's personalised copy")
    def get(self, request, pk: int, code: str):
        dispatch = self.visible(pk)
        org = s.organization_by_code(code)
        item = DispatchCopy.objects.filter(dispatch=dispatch, organization=org).first() if org else None
        if item is None or not item.pdf:
            raise ApiError("no_copy", _("This organisation has no copy of this dispatch."), status.HTTP_404_NOT_FOUND)
        self.audit("download", dispatch, {"file": f"copy:{item.organization_id}", "name": item.attachment_name()})
        return file_response(item.pdf, item.attachment_name())


class Edxml(ApiView):
    required_scope = Scope.READ

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.BINARY, description="application/xml"), **ERRORS},
                   summary="The signed edXML package (QCVN 102:2016); its revoke variant once recalled")  # fmt: skip
    def get(self, request, pk: int):
        dispatch = self.visible(pk)
        try:
            package = edxml.package_for(dispatch)
        except edxml.EdxmlRefused as exc:
            raise conflict("edxml_refused", str(exc)) from exc
        name = edxml.file_name(dispatch)
        self.audit("download", dispatch, {"file": "edxml", "name": name})
        response = HttpResponse(package, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response


class CallbackUrl(ApiView):
    required_scope = Scope.READ

    @extend_schema(responses={200: s.CallbackOut, **ERRORS}, summary="This key's status callback URL")
    def get(self, request):
        return Response({"url": request.auth.callback_url, "secret": request.auth.callback_secret})

    @extend_schema(request=s.CallbackIn, responses={200: s.CallbackOut, **ERRORS}, summary="Set the callback URL")
    def put(self, request):
        form = s.CallbackIn(data=request.data)
        form.is_valid(raise_exception=True)
        url, key = form.validated_data["url"], request.auth
        if url:
            try:
                validate_callback_url(url)
            except ValidationError as exc:
                raise ApiError("invalid", str(exc.messages[0]), fields={"url": exc.messages}) from exc
        key.callback_url = url
        key.save(update_fields=["callback_url"])
        self.audit("callback_url", None, {"url": url})
        return Response({"url": key.callback_url, "secret": key.callback_secret})


class OrganizationDetail(ApiView):
    required_scope = Scope.DIRECTORY

    @extend_schema(responses={200: s.OrganizationOut, **ERRORS}, summary="An organisation by its code")
    def get(self, request, code: str):
        org = s.organization_by_code(code)
        if org is None:
            raise ApiError("not_found", _("No single organisation has this code."), status.HTTP_404_NOT_FOUND)
        return Response(s.OrganizationOut(org).data)


def directory_rows(items: list[dict]) -> list[list]:
    """Return the items as the rows of a directory file: the header, then one row per organisation."""
    header = [*s.ROW_COLUMNS, "emails"]
    return [header] + [
        [str(item.get(key, "")) for key in s.ROW_COLUMNS] + ["; ".join(item["emails"])] for item in items
    ]


class OrganizationsBulk(ApiView):
    required_scope = Scope.DIRECTORY

    @extend_schema(request=s.BulkIn, responses={200: s.BulkOut, 422: s.ErrorOut, **ERRORS},
                   summary="Create or update organisations and their addresses, all or nothing")  # fmt: skip
    def post(self, request):
        form = s.BulkIn(data=request.data)
        form.is_valid(raise_exception=True)
        items = form.validated_data["organizations"]
        try:
            with transaction.atomic():
                summary = import_rows(directory_rows(items), f"api:{request.auth.name}", user=request.user,
                                      group_name=form.validated_data.get("group", ""))  # fmt: skip
                if summary.written:
                    self.audit("directory", None, {"created": summary.created, "updated": summary.updated})
        except ImportFileError as exc:
            raise ApiError("directory_invalid", str(exc)) from exc
        if summary.errors:
            errors = [{"row": e.row - 1, "column": e.column, "message": e.message} for e in summary.errors]
            return Response({"code": "directory_invalid", "errors": errors,
                             "message": str(_("Nothing was written: %(count)d organisations have errors.") % {
                                 "count": summary.error_rows})}, status=422)  # fmt: skip
        return Response({"created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged})
