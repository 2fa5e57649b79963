from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_worker_and_calendar(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert set(body["checks"]) == {"database", "worker", "calendar"}


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32


def test_metrics_are_exported_in_prometheus_format(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


def test_metrics_can_require_a_token(client, settings):
    settings.TONGBAN_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert ok.status_code == 200


def test_the_health_command_prints_the_report_and_fails_when_unhealthy(monkeypatch):
    import io
    import json

    from django.core.management import CommandError, call_command

    from tongban.platform.ui import health

    out = io.StringIO()
    call_command("health", stdout=out)
    assert json.loads(out.getvalue())["status"] == "ok"
    monkeypatch.setattr(health, "WORKER_LAG_LIMIT_SECONDS", -1.0)
    monkeypatch.setattr("tongban.platform.events.selectors.worker_lag_seconds", lambda: 5.0)
    with pytest.raises(CommandError):
        call_command("health", stdout=io.StringIO())
