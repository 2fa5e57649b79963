"""The approvals pages end to end through Django's client: applying online with a real
upload, the window's queue and acceptance, the officer's inbox, the leader's decision, the
joint delivery, the applicant's rating; errors come back in plain words and change nothing."""

from __future__ import annotations

import pytest

from tongban.apps.approvals.models import Case, CaseState, Rating
from tongban.apps.approvals.tests.test_cases import accept, submit
from tongban.platform.audit.models import AuditEntry
from tongban.platform.workflow.models import WorkTask

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def signed_in(client, user):
    client.force_login(user)
    return client


def open_task(case, role):
    return WorkTask.objects.get(
        instance_id=case.process_instance_id, role=role, state__in=["ready", "claimed"]
    )


def test_the_catalogue_apply_button_leads_to_the_application_page(client, city):
    signed_in(client, city.citizen)
    response = client.get(f"/services/items/{city.item_id}/apply/")
    assert response.status_code == 302
    assert response["Location"] == f"/cases/apply/{city.item_id}/"


def test_a_citizen_applies_online_with_a_real_upload(client, city):
    from django.core.files.uploadedfile import SimpleUploadedFile

    signed_in(client, city.citizen)
    page = client.get(f"/cases/apply/{city.item_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "食品经营许可申请书" in html
    assert 'name="idempotency_key"' in html
    post = {
        "idempotency_key": "page-key-1",
        "applicant": "self",
        "contact_phone": "13812345678",
        "material_0": SimpleUploadedFile("申请书.pdf", PDF, content_type="application/pdf"),
    }
    response = client.post(f"/cases/apply/{city.item_id}/", post)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.state == CaseState.SUBMITTED
    assert case.materials.get(name="食品经营许可申请书").file.original_name == "申请书.pdf"
    # the same form posted again (a double click) does not make a second case
    again = {**post, "material_0": SimpleUploadedFile("申请书.pdf", PDF)}
    assert client.post(f"/cases/apply/{city.item_id}/", again).status_code == 302
    assert Case.objects.count() == 1
    shown = client.get(f"/cases/{case.pk}/").content.decode()
    assert case.number in shown
    assert "已收件" in shown
    assert "138****5678" in shown
    assert "13812345678" not in shown


def test_a_refused_upload_names_the_material_and_saves_nothing(client, city):
    from django.core.files.uploadedfile import SimpleUploadedFile

    signed_in(client, city.citizen)
    post = {
        "idempotency_key": "page-key-2",
        "material_0": SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a document"),
    }
    response = client.post(f"/cases/apply/{city.item_id}/", post)
    assert response.status_code == 400
    assert "材料“食品经营许可申请书”" in response.content.decode()
    assert not Case.objects.exists()


def test_the_window_accepts_from_the_queue_and_the_clock_starts(client, city):
    case = submit(city)
    signed_in(client, city.clerk)
    queue = client.get("/cases/queue/").content.decode()
    assert case.number in queue
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "核验材料并受理" in page
    response = client.post(
        f"/cases/{case.pk}/act/case_accept/", {"checked": ["食品经营许可申请书"]}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state in (CaseState.ACCEPTED, CaseState.IN_REVIEW)
    assert case.accepted_by == city.clerk
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "data-workflow-diagram" in page
    assert "受理通知书" in page


def test_refusing_acceptance_without_reasons_is_refused_in_plain_words(client, city):
    case = submit(city)
    signed_in(client, city.clerk)
    before = AuditEntry.objects.count()
    response = client.post(f"/cases/{case.pk}/act/case_refuse_acceptance/", {"reasons": ""})
    assert response.status_code == 302
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "理由" in page
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert not AuditEntry.objects.filter(pk__gt=before, action__contains="refuse").exists()


def test_officer_inbox_to_decision_to_delivery_to_rating(client, city):
    case = accept(city, submit(city))
    review = open_task(case, "review")
    officer = signed_in(client, city.officer)
    inbox = officer.get("/cases/inbox/").content.decode()
    assert case.number in inbox
    assert review.name in inbox
    assert (
        officer.post(f"/cases/{case.pk}/act/case_task_claim/", {"task_id": review.pk}).status_code
        == 302
    )
    officer.post(
        f"/cases/{case.pk}/act/case_task_complete/",
        {"task_id": review.pk, "opinion": "材料齐全，符合条件"},
    )
    review.refresh_from_db()
    assert review.state == "completed"

    leader = signed_in(client, city.leader)
    page = leader.get(f"/cases/{case.pk}/").content.decode()
    assert "作出决定" in page
    leader.post(f"/cases/{case.pk}/act/case_decide/", {"approve": "yes", "opinion": "同意"})
    case.refresh_from_db()
    assert case.state == CaseState.DECIDED
    assert case.licence_identifiers

    clerk = signed_in(client, city.clerk)
    assert case.number in clerk.get("/cases/queue/").content.decode()
    clerk.post(f"/cases/{case.pk}/act/case_deliver/", {"method": "online"})
    case.refresh_from_db()
    assert case.state == CaseState.DELIVERED

    citizen = signed_in(client, city.citizen)
    page = citizen.get(f"/cases/{case.pk}/").content.decode()
    assert "请对本次办理服务作出评价" in page
    assert "材料齐全，符合条件" not in page  # officers' opinions are internal
    notice = case.notices.get(kind="acceptance")
    pdf = citizen.get(f"/cases/{case.pk}/notices/{notice.pk}.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    citizen.post(f"/cases/{case.pk}/act/case_rate/", {"level": "2", "comment": "等太久"})
    assert Rating.objects.get(case=case).level == 2
    mine = citizen.get("/cases/mine/").content.decode()
    assert case.number in mine


def test_other_people_cannot_open_a_case(client, city):
    case = submit(city)
    for user in (city.outsider, city.agent):
        signed_in(client, user)
        assert client.get(f"/cases/{case.pk}/").status_code in (403, 404)
        response = client.post(f"/cases/{case.pk}/act/case_withdraw/", {"reason": "x"})
        assert response.status_code in (403, 404)
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED


def test_an_unknown_action_is_not_found(client, city):
    case = submit(city)
    signed_in(client, city.clerk)
    assert client.post(f"/cases/{case.pk}/act/drop_table/").status_code == 404
    assert client.get(f"/cases/{case.pk}/act/case_accept/").status_code == 405


def test_the_public_cannot_see_staff_lists(client, city):
    signed_in(client, city.citizen)
    for url in ("/cases/queue/", "/cases/inbox/", "/cases/all/"):
        assert client.get(url).status_code == 403


def test_the_inbox_lists_only_tasks_the_officer_may_act_on(client, city):
    from tongban.apps.approvals import selectors, services

    case = accept(city, submit(city))
    review = open_task(case, "review")
    services.case_task_complete(actor=city.officer, case=case, task_id=review.pk, opinion="符合")
    # the decision task targets the department too, but only the leader may decide
    assert open_task(case, "decide")
    assert selectors.task_inbox(actor=city.officer) == []
    assert [entry.task.role for entry in selectors.task_inbox(actor=city.leader)] == ["decide"]
    signed_in(client, city.officer)
    assert case.number not in client.get("/cases/inbox/").content.decode()
