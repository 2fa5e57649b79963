"""The definition XML for the diagram viewer.

Staff may read any definition (process layouts are not secret, but they name internal
units). Anyone else signed in needs a URL signed by the page that shows them the diagram
(``definition_xml_url(definition, signed=True)``): the application that renders, say, an
applicant's case page has already decided that this person may see that case.
"""

from __future__ import annotations

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tongban.platform.access.decorators import signed_in
from tongban.platform.workflow.models import ProcessDefinition
from tongban.platform.workflow.selectors import definition_get

SIGNING_SALT = "tongban.workflow.definition.xml"
SIGNED_URL_MAX_AGE = 12 * 3600


def definition_xml_url(definition: ProcessDefinition, *, signed: bool = False) -> str:
    """The URL of a definition's XML; ``signed`` lets a non-staff viewer fetch it."""
    url = reverse("workflow:definition_xml", args=[definition.pk])
    if not signed:
        return url
    token = signing.TimestampSigner(salt=SIGNING_SALT).sign(str(definition.pk))
    return f"{url}?s={token}"


def _signature_valid(token: str, definition_id: int) -> bool:
    try:
        value = signing.TimestampSigner(salt=SIGNING_SALT).unsign(token, max_age=SIGNED_URL_MAX_AGE)
    except signing.BadSignature:
        return False
    return value == str(definition_id)


@signed_in
@require_GET
def definition_xml(request: HttpRequest, definition_id: int) -> HttpResponse:
    is_staff_member = bool(getattr(request.user, "is_staff_member", False))
    if not is_staff_member and not _signature_valid(request.GET.get("s", ""), definition_id):
        raise PermissionDenied(_("只有工作人员可以查看流程定义"))
    definition = definition_get(definition_id)
    if definition is None:
        raise Http404(_("流程定义不存在"))
    response = HttpResponse(definition.xml.encode("utf-8"), content_type="application/xml")
    response["Content-Type"] = "application/xml; charset=utf-8"
    # uploaded XML is never rendered as a document on our origin
    response["Content-Disposition"] = (
        f'attachment; filename="{definition.key}-v{definition.version}.bpmn"'
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"  # versions never change
    return response
