"""The definition XML view, the diagram include and the admin upload page."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from tests import factories
from tongban.platform.audit.models import AuditEntry
from tongban.platform.workflow.models import ProcessDefinition
from tongban.platform.workflow.services import definition_upload, instance_position, instance_start
from tongban.platform.workflow.tests import samples
from tongban.platform.workflow.views import definition_xml_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def definition(people):
    return definition_upload(
        actor=people["admin"], key="view.test", name="查看", xml=samples.PARALLEL_WITH_CHOICE
    )


def test_staff_read_the_definition_xml(client, definition, people):
    client.force_login(people["clerk"])
    response = client.get(f"/workflow/definitions/{definition.pk}/xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Disposition"] == 'attachment; filename="view.test-v1.bpmn"'
    assert response.content == definition.xml.encode()
    assert '<bpmn:userTask id="review_tax" name="税务审查"/>'.encode() in response.content
    assert client.get("/workflow/definitions/999999/xml").status_code == 404


def test_others_need_a_signed_url(client, definition):
    url = f"/workflow/definitions/{definition.pk}/xml"
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login")
    client.force_login(factories.citizen())
    assert client.get(url).status_code == 403
    assert client.get(url + "?s=forged").status_code == 403
    signed = definition_xml_url(definition, signed=True)
    assert signed.startswith(url + "?s=")
    assert client.get(signed).status_code == 200
    other = ProcessDefinition.objects.create(
        key="other", version=1, name="x", xml=definition.xml, sha=definition.sha, process_id="p"
    )
    stolen = f"/workflow/definitions/{other.pk}/xml?" + signed.split("?", 1)[1]
    assert client.get(stolen).status_code == 403  # the signature names one definition


def test_the_diagram_include_carries_its_inputs_as_data_without_inline_code(definition, people):
    instance = instance_start(actor=people["clerk"], definition=definition, subject="case:9")
    position = instance_position(instance)
    html = render_to_string(
        "workflow/diagram.html",
        {
            "xml_url": definition_xml_url(definition),
            "active": position.active,
            "completed": position.completed,
        },
    )
    assert f'data-xml-url="/workflow/definitions/{definition.pk}/xml"' in html
    assert 'data-active="accept"' in html
    assert 'data-completed="start"' in html
    assert "/static/workflow/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in html
    assert "/static/workflow/diagram.js" in html
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S)
    assert scripts == ["", ""]  # only external scripts
    assert "onload" not in html
    assert "onclick" not in html


def _admin(people):
    user = people["admin"]
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def test_admin_upload_checks_the_file_then_saves_the_mapping(client, people, org):
    client.force_login(_admin(people))
    url = reverse("admin:workflow_processdefinition_upload")
    assert client.get(reverse("admin:workflow_processdefinition_add")).url == url
    page = client.get(url)
    assert page.status_code == 200

    refused = client.post(
        url,
        {
            "step": "check",
            "key": "admin.test",
            "name": "后台上传",
            "file": _file(samples.process('<bpmn:startEvent id="s"/><bpmn:scriptTask id="T9"/>')),
        },
    )
    assert refused.status_code == 200
    assert "不支持的 BPMN 元素：scriptTask（id=T9）" in refused.content.decode()
    assert ProcessDefinition.objects.count() == 0

    checked = client.post(
        url,
        {
            "step": "check",
            "key": "admin.test",
            "name": "后台上传",
            "file": _file(samples.PARALLEL_WITH_CHOICE),
        },
    )
    text = checked.content.decode()
    assert checked.status_code == 200
    for expected in ("窗口", "业务科室", "分管领导", "review_market", "税务审查", "Lane_leader"):
        assert expected in text
    payload = re.search(r'name="payload" value="([^"]+)"', text).group(1)
    lanes = {"窗口": 0, "业务科室": 1, "分管领导": 2}
    tasks = ["accept", "review_market", "review_tax", "decide", "deliver"]
    form = {"step": "save", "payload": payload}
    form[f"lane-{lanes['窗口']}-department"] = "ZWFW"
    form[f"lane-{lanes['业务科室']}-unit"] = "SCJG-XK"
    form[f"task-{tasks.index('review_tax')}-department"] = "SWJ"
    form[f"task-{tasks.index('review_tax')}-role"] = "review"
    form[f"task-{tasks.index('review_tax')}-days"] = "5"

    saved = client.post(url, form)
    definition = ProcessDefinition.objects.get(key="admin.test")
    assert saved.status_code == 302
    assert saved.url == reverse("admin:workflow_processdefinition_change", args=[definition.pk])
    assert definition.task_map["accept"]["department_code"] == "ZWFW"
    assert definition.task_map["review_market"]["unit_code"] == "SCJG-XK"
    assert definition.task_map["review_tax"]["department_code"] == "SWJ"
    assert definition.task_map["review_tax"]["days"] == 5
    assert definition.task_map["decide"]["department_code"] == ""
    assert AuditEntry.objects.filter(
        action="workflow.definition.upload", actor_id=people["admin"].pk
    ).exists()

    shown = client.get(saved.url)
    assert shown.status_code == 200
    assert "data-workflow-diagram" in shown.content.decode()

    tampered = dict(form, payload=payload[:-3] + "abc")
    assert "上传已过期" in client.post(url, tampered, follow=True).content.decode()
    assert ProcessDefinition.objects.count() == 1


def test_admin_upload_needs_the_permission(client, people):
    clerk = people["clerk"]
    clerk.is_staff = True
    clerk.save(update_fields=["is_staff"])
    client.force_login(clerk)
    response = client.get(reverse("admin:workflow_processdefinition_upload"))
    assert response.status_code == 403


def _file(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("process.bpmn", content, content_type="application/xml")
