"""Pages: applying online, my cases, the case page with its actions, the window's queue and
the officers' inbox. Each view parses the request, calls one service or selector and
renders; every case is loaded through ``access.access_case_by_id``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.apps.approvals import once_only, selectors, services
from tongban.apps.approvals.access import access_case_by_id, acts_for_case, legal_person_ids
from tongban.apps.approvals.models import (
    ApplicantKind,
    Case,
    CaseState,
    DeliveryMethod,
    Extension,
    Notice,
    PauseKind,
    RatingLevel,
)
from tongban.apps.catalog import public as catalog
from tongban.platform.access.decorators import signed_in
from tongban.platform.accounts.models import LegalPerson
from tongban.platform.files.services import FileRejected, file_store
from tongban.platform.orgs.models import Department
from tongban.platform.ui.forms import error_lines as _error_lines

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

PAGE_SIZE = 20
# timeline entries whose notes are officers' internal opinions: the applicant sees the step
INTERNAL_NOTE_VERBS = frozenset(
    {
        "claimed",
        "step_completed",
        "returned",
        "opinion",
        "countersign_requested",
        "countersign_answered",
        "extension_requested",
        "extension_refused",
    }
)
MAX_TEXT = 2000


def _actor(request: HttpRequest) -> User:
    """The signed-in user (every view here is @signed_in)."""
    return cast("User", request.user)


def _text(request: HttpRequest, name: str, limit: int = MAX_TEXT) -> str:
    return request.POST.get(name, "").strip()[:limit]


def _integer(request: HttpRequest, name: str, default: int = 0) -> int:
    try:
        return int(request.POST.get(name, default))
    except (TypeError, ValueError):
        return default


def _flash_errors(request: HttpRequest, error: ValidationError) -> None:
    for line in dict.fromkeys(_error_lines(error)):
        messages.error(request, line)


def _require_staff(request: HttpRequest) -> None:
    if getattr(request.user, "kind", "") != "staff":
        raise PermissionDenied


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    """办件: staff go to their task inbox, the public to their applications."""
    if getattr(request.user, "kind", "") == "staff":
        return redirect("approvals:inbox")
    return redirect("approvals:mine")


# --------------------------------------------------------------------------- applying


def _applicant_choices(request: HttpRequest) -> list[LegalPerson]:
    ids = legal_person_ids(request.user)
    return list(LegalPerson.objects.filter(pk__in=ids).order_by("name")) if ids else []


def _applicant_context(request: HttpRequest, enterprises: list[LegalPerson]) -> dict[str, Any]:
    name = getattr(request.user, "display_name", "")
    choices = [("self", _("本人（%(name)s）") % {"name": name})]
    choices += [
        (f"lp{enterprise.pk}", _("代表%(name)s申请") % {"name": enterprise.name})
        for enterprise in enterprises
    ]
    return {
        "applicant_choices": choices,
        "selected_applicant": request.POST.get("applicant", "self"),
        "contact_phone": request.POST.get("contact_phone", "")[:20],
    }


def _applicant_from_post(request: HttpRequest, enterprises: list[LegalPerson]) -> Any:
    chosen = request.POST.get("applicant", "self")
    phone = _text(request, "contact_phone", 20)
    for enterprise in enterprises:
        if chosen == f"lp{enterprise.pk}":
            return services.ApplicantInput(
                kind=ApplicantKind.LEGAL_PERSON, legal_person=enterprise, contact_phone=phone
            )
    return services.ApplicantInput(kind=ApplicantKind.NATURAL_PERSON, contact_phone=phone)


def _uploaded_materials(
    request: HttpRequest,
    materials: Any,
    *,
    prefix: str,
    item_id: int | None = None,
    fetched: bool = True,
) -> list[Any]:
    """Store each uploaded material file (``<prefix><index>``) and describe it for the
    service. A refused file raises ValidationError naming the material."""
    found = []
    for index, material in enumerate(materials):
        if fetched and once_only.shared_spec(material):
            continue  # fetched by the department at submission (no upload field shown)
        upload = request.FILES.get(f"{prefix}{index}")
        if upload is None:
            continue
        try:
            stored = file_store(actor=_actor(request), upload=upload)
        except FileRejected as refused:
            raise ValidationError(
                _("材料“%(name)s”：%(problem)s") % {"name": material.name, "problem": refused}
            ) from refused
        found.append(services.MaterialInput(name=material.name, file_id=stored.pk, item_id=item_id))
    return found


def _flash_shared_failures(request: HttpRequest, case: Case) -> None:
    """Once-only materials the department could not fetch: the applicant uploads them."""
    for line in once_only.failure_messages(case):
        messages.warning(request, line)


@signed_in
def apply(request: HttpRequest, item_id: int) -> HttpResponse:
    """Apply for one item online: applicant, the item's form, materials; submit or save."""
    version = catalog.item_current(item_id)
    if version is None:
        raise Http404
    enterprises = _applicant_choices(request)
    data: dict[str, Any] | None = None
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if version.form_schema:
            data = catalog.form_data_from_post(version.form_schema, version.form_ui, request.POST)
        try:
            materials = _uploaded_materials(request, version.materials, prefix="material_")
            applicant = _applicant_from_post(request, enterprises)
            if request.POST.get("save_draft"):
                case = services.case_draft_save(
                    actor=_actor(request),
                    item_id=item_id,
                    applicant=applicant,
                    form_data=data,
                    materials=materials,
                )
                messages.success(request, _("草稿已保存"))
            else:
                case = services.case_submit(
                    actor=_actor(request),
                    item_id=item_id,
                    idempotency_key=_text(request, "idempotency_key", 80),
                    applicant=applicant,
                    form_data=data,
                    materials=materials,
                )
                messages.success(
                    request, _("申请已提交，办件编号 %(number)s") % {"number": case.number}
                )
                _flash_shared_failures(request, case)
            return redirect("approvals:case", case_id=case.pk)
        except ValidationError as error:
            status = 400
            if hasattr(error, "error_dict"):
                for key, lines in error.message_dict.items():
                    if key.startswith("form_data."):
                        errors[key.removeprefix("form_data.")] = lines
            _flash_errors(request, error)
    form_html = (
        catalog.form_html(version.form_schema, version.form_ui, data, errors or None)
        if version.form_schema
        else ""
    )
    context = {
        "nav_active": "catalog",
        "version": version,
        "form_html": form_html,
        "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        **_applicant_context(request, enterprises),
    }
    return render(request, "approvals/apply.html", context, status=status)


@signed_in
def apply_bundle(request: HttpRequest, code: str) -> HttpResponse:
    """Apply for a 一件事 bundle: one application, one child case per item."""
    bundle = catalog.bundle(code)
    if bundle is None:
        raise Http404
    versions = [version for version in map(catalog.item_current, bundle.item_ids) if version]
    enterprises = _applicant_choices(request)
    status = 200
    if request.method == "POST":
        chosen = {int(value) for value in request.POST.getlist("items") if value.isdigit()}
        try:
            materials: list[Any] = []
            for version in versions:
                if version.item_id in chosen:
                    materials += _uploaded_materials(
                        request,
                        version.materials,
                        prefix=f"material_{version.item_id}_",
                        item_id=version.item_id,
                    )
            case = services.case_submit_bundle(
                actor=_actor(request),
                bundle_code=code,
                idempotency_key=_text(request, "idempotency_key", 80),
                applicant=_applicant_from_post(request, enterprises),
                item_ids=sorted(chosen),
                materials=materials,
            )
            messages.success(
                request, _("联办申请已提交，办件编号 %(number)s") % {"number": case.number}
            )
            _flash_shared_failures(request, case)
            return redirect("approvals:case", case_id=case.pk)
        except ValidationError as error:
            status = 400
            _flash_errors(request, error)
    context = {
        "nav_active": "catalog",
        "bundle": bundle,
        "versions": [(version, f"material_{version.item_id}_") for version in versions],
        **_applicant_context(request, enterprises),
        "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        "chosen": {int(v) for v in request.POST.getlist("items") if v.isdigit()}
        if request.method == "POST"
        else {version.item_id for version in versions},
    }
    return render(request, "approvals/apply_bundle.html", context, status=status)


@signed_in
def mine(request: HttpRequest) -> HttpResponse:
    """The applicant's cases (and those of the enterprises they act for)."""
    state = request.GET.get("state", "")[:16]
    cases = selectors.case_list_for_applicant(
        actor=_actor(request), states=[state] if state else None
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav_active": "approvals",
        "page": page,
        "clocks": selectors.clocks_for(list(page.object_list)),
        "state": state,
        "states": CaseState.choices,
    }
    return render(request, "approvals/mine.html", context)


# --------------------------------------------------------------------------- the case page


@signed_in
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access_case_by_id(request.user, case_id)
    detail = selectors.case_detail(actor=_actor(request), case=case)
    process = selectors.case_process(detail.case)
    diagram = None
    if process is not None:
        from tongban.platform.workflow.views import definition_xml_url

        instance, position = process
        diagram = {
            "xml_url": definition_xml_url(instance.definition, signed=True),
            "active": position.active,
            "completed": position.completed,
        }
    context = {
        "nav_active": "approvals",
        "detail": detail,
        "case": detail.case,
        "clock": detail.clock,
        "actions": detail.actions,
        "diagram": diagram,
        "pause_kinds": PauseKind.choices,
        "delivery_methods": DeliveryMethod.choices,
        "departments": Department.objects.filter(is_active=True).order_by("code")
        if "case_countersign_request" in detail.actions
        else [],
        "appeal_rights": services.appeal_rights_default(detail.case.department_name),
        "completed_steps": detail.completed_tasks,
        "rating_levels": RatingLevel.choices,
        "internal_verbs": INTERNAL_NOTE_VERBS,
        "correction_materials": _version_materials(detail.case)
        if "case_correction_answer" in detail.actions
        else (),
    }
    return render(request, "approvals/case.html", context)


def _version_materials(case: Case) -> tuple[Any, ...]:
    version = catalog.item_version(case.item_version_id) if case.item_version_id else None
    return version.materials if version else ()


def _materials_checked(request: HttpRequest) -> list[str]:
    return [value[:200] for value in request.POST.getlist("checked")]


def _correction_items(request: HttpRequest) -> list[Any]:
    items = []
    for index, name in enumerate(request.POST.getlist("fix_name")):
        if str(index) not in request.POST.getlist("fix"):
            continue
        reason = request.POST.get(f"fix_reason_{index}", "").strip()[:500]
        items.append(services.CorrectionItem(material=name[:200], reason=reason))
    other = _text(request, "fix_other", 500)
    if other:
        items.append(services.CorrectionItem(material=_("其他"), reason=other))
    return items


def _task_id(request: HttpRequest) -> int:
    return _integer(request, "task_id")


def _act_accept(request: HttpRequest, case: Case) -> str:
    services.case_accept(
        actor=_actor(request),
        case=case,
        checked=_materials_checked(request),
        note=_text(request, "note"),
    )
    return _("已受理，办理时限开始计算")


def _act_receive(request: HttpRequest, case: Case) -> str:
    services.case_receive(actor=_actor(request), case=case, checked=_materials_checked(request))
    return _("材料核验已记录")


def _act_refuse_acceptance(request: HttpRequest, case: Case) -> str:
    services.case_refuse_acceptance(
        actor=_actor(request), case=case, reasons=_text(request, "reasons")
    )
    return _("已作出不予受理决定")


def _act_send_back(request: HttpRequest, case: Case) -> str:
    services.case_send_back(actor=_actor(request), case=case, reason=_text(request, "reason"))
    return _("已退件")


def _act_correction_request(request: HttpRequest, case: Case) -> str:
    services.case_correction_request(
        actor=_actor(request),
        case=case,
        items=_correction_items(request),
        note=_text(request, "note"),
    )
    return _("已一次性告知需补正的全部内容")


def _approve(request: HttpRequest) -> bool:
    return request.POST.get("approve") == "yes"


def _act_decide_on_the_spot(request: HttpRequest, case: Case) -> str:
    services.case_decide_on_the_spot(
        actor=_actor(request),
        case=case,
        approve=_approve(request),
        reasons=_text(request, "reasons"),
        appeal_rights=_text(request, "appeal_rights"),
        checked=_materials_checked(request),
    )
    return _("即办件已当场办结")


def _act_task_claim(request: HttpRequest, case: Case) -> str:
    services.case_task_claim(actor=_actor(request), case=case, task_id=_task_id(request))
    return _("已签收该环节")


def _act_task_complete(request: HttpRequest, case: Case) -> str:
    services.case_task_complete(
        actor=_actor(request),
        case=case,
        task_id=_task_id(request),
        opinion=_text(request, "opinion"),
    )
    return _("本环节已办理完毕，已转下一环节")


def _act_return(request: HttpRequest, case: Case) -> str:
    services.case_return(
        actor=_actor(request),
        case=case,
        task_id=_task_id(request),
        to_spec_id=_text(request, "to_spec_id", 100),
        reason=_text(request, "reason"),
    )
    return _("已退回上一环节")


def _act_opinion_add(request: HttpRequest, case: Case) -> str:
    services.case_opinion_add(actor=_actor(request), case=case, text=_text(request, "text"))
    return _("意见已保存")


def _act_pause_start(request: HttpRequest, case: Case) -> str:
    services.case_pause_start(
        actor=_actor(request),
        case=case,
        kind=_text(request, "kind", 20),
        reason=_text(request, "reason"),
        planned_days=_integer(request, "planned_days"),
    )
    return _("特别程序已开始，办理时限暂停计算，已书面告知申请人")


def _act_pause_end(request: HttpRequest, case: Case) -> str:
    services.case_pause_end(actor=_actor(request), case=case, result=_text(request, "result"))
    return _("特别程序已结束，办理时限恢复计算")


def _act_extension_request(request: HttpRequest, case: Case) -> str:
    services.case_extension_request(
        actor=_actor(request),
        case=case,
        days=_integer(request, "days"),
        reason=_text(request, "reason"),
    )
    return _("延期申请已提交，待领导审批")


def _act_extension_approve(request: HttpRequest, case: Case) -> str:
    extension = get_object_or_404(Extension, pk=_integer(request, "extension_id"), case=case)
    services.case_extension_approve(
        actor=_actor(request),
        extension=extension,
        approve=_approve(request),
        comment=_text(request, "comment"),
    )
    return _("延期审批已完成")


def _act_countersign_request(request: HttpRequest, case: Case) -> str:
    department = get_object_or_404(Department, code=_text(request, "department", 32))
    services.case_countersign_request(
        actor=_actor(request),
        case=case,
        department=department,
        question=_text(request, "question"),
    )
    return _("已发起会签")


def _act_decide(request: HttpRequest, case: Case) -> str:
    services.case_decide(
        actor=_actor(request),
        case=case,
        approve=_approve(request),
        reasons=_text(request, "reasons"),
        appeal_rights=_text(request, "appeal_rights"),
        opinion=_text(request, "opinion"),
    )
    return _("决定已作出")


def _act_close(request: HttpRequest, case: Case) -> str:
    services.case_close(actor=_actor(request), case=case)
    return _("已办结")


def _act_deliver(request: HttpRequest, case: Case) -> str:
    services.case_deliver(
        actor=_actor(request),
        case=case,
        method=_text(request, "method", 16),
        note=_text(request, "note"),
    )
    return _("办理结果已送达")


def _act_withdraw(request: HttpRequest, case: Case) -> str:
    services.case_withdraw(actor=_actor(request), case=case, reason=_text(request, "reason"))
    return _("申请已撤回")


def _act_correction_answer(request: HttpRequest, case: Case) -> str:
    version = catalog.item_version(case.item_version_id) if case.item_version_id else None
    materials = (
        _uploaded_materials(request, version.materials, prefix="material_", fetched=False)
        if version
        else []
    )
    services.case_correction_answer(
        actor=_actor(request),
        case=case,
        materials=materials,
        note=_text(request, "note"),
    )
    return _("补正材料已提交")


def _act_shared_material_upload(request: HttpRequest, case: Case) -> str:
    """Upload a once-only material the department could not fetch (case page)."""
    if not acts_for_case(request.user, case) or getattr(request.user, "kind", "") == "staff":
        raise PermissionDenied  # before a file is stored
    upload = request.FILES.get("file")
    name = _text(request, "material", 200)
    if upload is None:
        raise ValidationError({"materials": [_("请选择要上传的文件")]})
    try:
        stored = file_store(actor=_actor(request), upload=upload)
    except FileRejected as refused:
        raise ValidationError(
            _("材料“%(name)s”：%(problem)s") % {"name": name, "problem": refused}
        ) from refused
    once_only.case_shared_material_upload(
        actor=_actor(request),
        case=case,
        material_name=name,
        file_id=stored.pk,
        item_id=_integer(request, "item_id"),
    )
    return _("材料已上传")


def _act_rate(request: HttpRequest, case: Case) -> str:
    services.case_rate(
        actor=_actor(request),
        case=case,
        level=_integer(request, "level"),
        comment=_text(request, "comment", 500),
    )
    return _("感谢您的评价")


ACTIONS: dict[str, Callable[[HttpRequest, Case], str]] = {
    "case_accept": _act_accept,
    "case_receive": _act_receive,
    "case_refuse_acceptance": _act_refuse_acceptance,
    "case_send_back": _act_send_back,
    "case_correction_request": _act_correction_request,
    "case_decide_on_the_spot": _act_decide_on_the_spot,
    "case_task_claim": _act_task_claim,
    "case_task_complete": _act_task_complete,
    "case_return": _act_return,
    "case_opinion_add": _act_opinion_add,
    "case_pause_start": _act_pause_start,
    "case_pause_end": _act_pause_end,
    "case_extension_request": _act_extension_request,
    "case_extension_approve": _act_extension_approve,
    "case_countersign_request": _act_countersign_request,
    "case_decide": _act_decide,
    "case_close": _act_close,
    "case_deliver": _act_deliver,
    "case_withdraw": _act_withdraw,
    "case_correction_answer": _act_correction_answer,
    "case_rate": _act_rate,
    "case_shared_material_upload": _act_shared_material_upload,
}


@signed_in
@require_POST
def case_act(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    """One action on a case (a service name); errors come back on the case page."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    case = access_case_by_id(request.user, case_id)
    try:
        done = handler(request, case)
    except ValidationError as error:
        _flash_errors(request, error)
    else:
        messages.success(request, done)
    target = request.POST.get("next", "")
    if target == "inbox":
        return redirect("approvals:inbox")
    return redirect("approvals:case", case_id=case.pk)


@signed_in
def notice_pdf(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    case = access_case_by_id(request.user, case_id)
    notice = get_object_or_404(selectors.notices_of(case), pk=notice_id)
    return _pdf_response(notice)


def _pdf_response(notice: Notice) -> HttpResponse:
    response = HttpResponse(selectors.notice_pdf(notice), content_type="application/pdf")
    safe_number = "".join(ch for ch in notice.number if ch.isascii() and ch.isalnum()) or "notice"
    response["Content-Disposition"] = f'inline; filename="{safe_number}.pdf"'
    return response


# --------------------------------------------------------------------------- staff lists


@signed_in
def queue(request: HttpRequest) -> HttpResponse:
    """The window's queue: applications to receive and accept, results to deliver."""
    _require_staff(request)
    to_accept = list(selectors.cases_to_accept(actor=request.user)[:200])
    to_deliver = list(selectors.cases_to_deliver(actor=request.user)[:200])
    context = {
        "nav_active": "approvals",
        "to_accept": to_accept,
        "to_deliver": to_deliver,
        "clocks": selectors.clocks_for([*to_accept, *to_deliver]),
    }
    return render(request, "approvals/queue.html", context)


@signed_in
def inbox(request: HttpRequest) -> HttpResponse:
    """The officer's tasks with both clocks, plus extensions and countersigns waiting."""
    _require_staff(request)
    context = {
        "nav_active": "approvals",
        "entries": selectors.task_inbox(actor=request.user),
        "extensions": list(selectors.extensions_to_approve(actor=request.user)[:100]),
        "countersigns": list(selectors.countersigns_open_for(actor=request.user)[:100]),
        "cases_url": reverse("approvals:staff_cases"),
    }
    return render(request, "approvals/inbox.html", context)


@signed_in
def staff_cases(request: HttpRequest) -> HttpResponse:
    """Every case in the staff member's scope, filterable by state and number."""
    _require_staff(request)
    state = request.GET.get("state", "")[:16]
    number = request.GET.get("number", "").strip()[:40]
    cases = selectors.case_list_for_staff(
        actor=_actor(request), states=[state] if state else None, number=number
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav_active": "approvals",
        "page": page,
        "clocks": selectors.clocks_for(list(page.object_list)),
        "state": state,
        "number": number,
        "states": CaseState.choices,
        "querystring": query.urlencode(),
    }
    return render(request, "approvals/staff_cases.html", context)
