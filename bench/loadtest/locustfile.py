"""Locust model of a city's busiest hour on Tongban (run by ``bench/loadtest/runner.py``).

Who is on the platform at the peak, and what each does (rates per user; the totals are
in ``RATES`` below and scale with ``LOADTEST_SCALE``):

- citizens (``Applicant``): apply for a single item (食品经营许可, 卫生许可, 消防检查) or
  the 一件事 bundle of the three, and track their applications (their list, one case);
- window clerks (``Clerk``): look at the acceptance queue and accept the next
  application (with the material check);
- officers of each department (``Officer``): look at their inbox, claim the review task
  of the next accepted case and complete it with an opinion;
- leaders of each department (``Leader``): look at their inbox and decide (approve, which
  issues an SM2-signed e-licence);
- the window delivers decided cases (``Clerk`` too);
- the supervision intake (``IntakeSource``): a business system posting batches of case
  events (opened, accepted, decided, closed);
- the public: catalogue search (``Searcher``) and licence verification (``Verifier``) of
  the licences issued during the run.

At ``LOADTEST_SCALE=1`` an hour is about 1,700 applications (a quarter of them 一件事
bundles of three departments), 5,300 tracking requests, 2,500 decisions with SM2-signed
licences, 360,000 supervision events in 3,600 batches, 18,000 catalogue searches and 7,000
licence verifications: some 65,000 requests an hour.

- the data-sharing gateway (``GatewayConsumer``): a department system with OAuth2 client
  credentials reading the population base database under its grant (about 21,600 calls an
  hour at scale 1), every call grant-checked and logged.

- official documents (``DocumentSender``, ``DocumentReceiver``): the general office's 文书
  sends a sealed document to the city's two groups (各区人民政府, 市直各单位: about 45
  units; notifications queued, written by the worker) once a minute; receiving units'
  文书 look at their inbox and sign for what arrived.

Work moves between roles through in-memory hand-off queues (one Locust process, gevent):
a clerk accepts only what a citizen submitted, an officer reviews only what was accepted,
so no two users race for the same task and every error is a real one. The clerks' and
officers' own list requests (queue, inbox) are made and measured as well.

Configuration: ``LOADTEST_CONFIG`` names the JSON file the runner writes (tokens, item
ids, uploaded file ids, the intake source key, department codes).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import secrets
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import quote

from locust import FastHttpUser, constant_throughput, task

CONFIG: dict[str, Any] = json.loads(Path(os.environ["LOADTEST_CONFIG"]).read_text(encoding="utf-8"))
SCALE = float(os.environ.get("LOADTEST_SCALE", "1"))
API = "/api/approvals"

# actions per second per user, before SCALE
RATES = {
    "applicant": 0.1,  # 20 citizens → 2 actions/s: ~0.5 applications/s, ~1.5 tracking/s
    "clerk": 1.0,
    "officer": 0.5,
    "leader": 0.5,
    "intake": 0.5,  # 100 events a batch → 50 events/s per source
    "searcher": 0.5,
    "verifier": 0.5,
    "gateway": 1.5,  # 4 systems → 6 calls/s
    "document_sender": 1 / 60,  # one document to ~45 units a minute
    "document_receiver": 0.2,  # look at the inbox, sign for what arrived
}
INTAKE_CASES_PER_BATCH = 25  # four events each


class Hand:
    """The hand-off queues between roles (shared by every user of this process)."""

    to_accept: deque[dict[str, Any]] = deque()
    to_review: dict[str, deque[dict[str, Any]]] = {d["code"]: deque() for d in CONFIG["desks"]}
    to_decide: dict[str, deque[dict[str, Any]]] = {d["code"]: deque() for d in CONFIG["desks"]}
    to_deliver: deque[int] = deque()
    children_left: dict[int, int] = {}
    licences: list[str] = list(CONFIG.get("licences", []))
    numbers = itertools.count(1)


def _headers(token: str | None) -> dict[str, str]:
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-Forwarded-Proto": "https",  # TLS ends at the reverse proxy in production
    }
    if token:
        # see bench.loadclient.ApiClient: a CSRF pair lets a bearer POST through Ninja's
        # session auth, which is listed first
        csrf = secrets.token_hex(16)
        headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Cookie": f"csrftoken={csrf}",
                "X-CSRFToken": csrf,
                "Origin": f"https://{CONFIG['host']}",
            }
        )
    return headers


class ApiUser(FastHttpUser):
    abstract = True
    token: str | None = None

    def api(self, kind: str, method: str, path: str, payload: Any = None, expect: int = 200) -> Any:
        with self.client.request(
            method,
            path,
            name=kind,
            headers=_headers(self.token),
            data=None if payload is None else json.dumps(payload),
            catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
                return None
            try:
                return response.json() if response.text else {}
            except ValueError:
                response.failure("not JSON")
                return None


def _pool(name: str) -> Any:
    """Hand out the configured tokens (or desks) one per user, round-robin."""
    items = CONFIG[name]
    counter = itertools.count()
    return lambda: items[next(counter) % len(items)]


_applicants = _pool("applicants")
_desks = _pool("desks")


class Applicant(ApiUser):
    fixed_count = CONFIG["users"]["applicant"]
    wait_time = constant_throughput(RATES["applicant"] * SCALE)

    def on_start(self) -> None:
        me = _applicants()
        self.token = me["token"]
        self.files: dict[str, str] = me["files"]  # item id -> uploaded file id
        self.cases: list[int] = []

    def _material(self, desk: dict[str, Any]) -> dict[str, Any]:
        item = str(desk["item_id"])
        return {"name": desk["material"], "file_id": self.files[item], "item_id": desk["item_id"]}

    @task(3)
    def apply_single(self) -> None:
        desk = random.choice(CONFIG["desks"])
        created = self.api(
            "citizen: submit application",
            "POST",
            f"{API}/cases",
            {
                "item_id": desk["item_id"],
                "applicant": {"contact_phone": "13912345678"},
                "materials": [self._material(desk)],
            },
            expect=201,
        )
        if created:
            self.cases.append(created["id"])
            Hand.to_accept.append({"id": created["id"], "desk": desk["code"]})

    @task(1)
    def apply_bundle(self) -> None:
        created = self.api(
            "citizen: submit 一件事 bundle",
            "POST",
            f"{API}/bundles/{CONFIG['bundle']}/cases",
            {
                "applicant": {"contact_phone": "13912345678"},
                "materials": [self._material(desk) for desk in CONFIG["desks"]],
            },
            expect=201,
        )
        if created:
            self.cases.append(created["id"])
            Hand.to_accept.append({"id": created["id"], "desk": None})

    @task(6)
    def track_list(self) -> None:
        self.api("citizen: my applications", "GET", f"{API}/cases/mine")

    @task(6)
    def track_case(self) -> None:
        if self.cases:
            self.api("citizen: one application", "GET", f"{API}/cases/{random.choice(self.cases)}")


class Clerk(ApiUser):
    fixed_count = CONFIG["users"]["clerk"]
    wait_time = constant_throughput(RATES["clerk"] * SCALE)

    def on_start(self) -> None:
        self.token = CONFIG["clerk_token"]

    @task
    def work(self) -> None:
        if Hand.to_deliver:
            case_id = Hand.to_deliver.popleft()
            self.api(
                "clerk: deliver",
                "POST",
                f"{API}/cases/{case_id}/deliver",
                {"method": "online"},
            )
            return
        self.api("clerk: acceptance queue", "GET", f"{API}/queue")
        if not Hand.to_accept:
            return
        case = Hand.to_accept.popleft()
        if case["desk"] is None:  # a bundle: check each item's material, then split
            checks = {str(d["item_id"]): [d["material"]] for d in CONFIG["desks"]}
            accepted = self.api(
                "clerk: accept bundle",
                "POST",
                f"{API}/cases/{case['id']}/accept",
                {"item_checks": checks},
            )
            if accepted is None:
                return
            detail = self.api("clerk: open bundle", "GET", f"{API}/cases/{case['id']}")
            if detail is None:
                return
            Hand.children_left[case["id"]] = len(detail["children"])
            for child in detail["children"]:
                Hand.to_review[child["department_code"]].append(
                    {"id": child["id"], "parent": case["id"]}
                )
            return
        desk = next(d for d in CONFIG["desks"] if d["code"] == case["desk"])
        if self.api(
            "clerk: accept",
            "POST",
            f"{API}/cases/{case['id']}/accept",
            {"checked": [desk["material"]]},
        ):
            Hand.to_review[desk["code"]].append({"id": case["id"], "parent": None})


class Officer(ApiUser):
    fixed_count = CONFIG["users"]["officer"]
    wait_time = constant_throughput(RATES["officer"] * SCALE)

    def on_start(self) -> None:
        self.desk = _desks()
        self.token = self.desk["officer_token"]

    @task
    def work(self) -> None:
        self.api("officer: inbox", "GET", f"{API}/inbox")
        queue = Hand.to_review[self.desk["code"]]
        if not queue:
            return
        case = queue.popleft()
        path = f"{API}/cases/{case['id']}"
        detail = self.api("officer: open case", "GET", path)
        if detail is None:
            return
        tasks = [t for t in detail["open_tasks"] if t["role"] == "review"]
        if not tasks:
            return
        task_path = f"{path}/tasks/{tasks[0]['id']}"
        if self.api("officer: claim", "POST", f"{task_path}/claim", {}) is None:
            return
        if self.api(
            "officer: complete review",
            "POST",
            f"{task_path}/complete",
            {"opinion": "材料齐全，符合条件"},
        ):
            Hand.to_decide[self.desk["code"]].append(case)


class Leader(ApiUser):
    fixed_count = CONFIG["users"]["leader"]
    wait_time = constant_throughput(RATES["leader"] * SCALE)

    def on_start(self) -> None:
        self.desk = _desks()
        self.token = self.desk["leader_token"]

    @task
    def work(self) -> None:
        self.api("leader: inbox", "GET", f"{API}/inbox")
        queue = Hand.to_decide[self.desk["code"]]
        if not queue:
            return
        case = queue.popleft()
        decided = self.api(
            "leader: decide (approve, sign licence)",
            "POST",
            f"{API}/cases/{case['id']}/decide",
            {"approve": True, "opinion": "同意"},
        )
        if decided is None:
            return
        Hand.licences.extend(decided.get("licence_identifiers") or [])
        parent = case["parent"]
        if parent is None:
            Hand.to_deliver.append(case["id"])
            return
        Hand.children_left[parent] -= 1
        if Hand.children_left[parent] == 0:
            del Hand.children_left[parent]
            Hand.to_deliver.append(parent)


class IntakeSource(ApiUser):
    """A business system (a county's approval system) pushing its case events."""

    fixed_count = CONFIG["users"]["intake"]
    wait_time = constant_throughput(RATES["intake"] * SCALE)

    def on_start(self) -> None:
        self.tag = f"lt{next(Hand.numbers):02d}{secrets.token_hex(3)}"
        self.number = 0

    @task
    def post_batch(self) -> None:
        now = dt.datetime.now(dt.UTC)
        events = []
        for _ in range(INTAKE_CASES_PER_BATCH):
            self.number += 1
            case = f"{self.tag}-{self.number:07d}"
            opened = now - dt.timedelta(hours=2)
            department = random.choice(CONFIG["departments"])
            steps = [
                (
                    "opened",
                    opened,
                    {
                        "department": department,
                        "item_code": f"ITEM-{self.number % 50:03d}",
                        "item_name": "某某许可",
                        "case_type": "promised",
                        "legal_limit_days": 20,
                        "promised_limit_days": 10,
                    },
                ),
                ("accepted", opened + dt.timedelta(minutes=10), {"handler": "officer001"}),
                (
                    "decided",
                    opened + dt.timedelta(minutes=80),
                    {"outcome": "approved", "reasons": "符合条件", "handler": "officer001"},
                ),
                ("closed", opened + dt.timedelta(minutes=90), {}),
            ]
            for index, (kind, when, fields) in enumerate(steps):
                events.append(
                    {
                        "id": f"{case}:{index}",
                        "kind": kind,
                        "case": case,
                        "occurred_at": when.isoformat(),
                        **fields,
                    }
                )
        with self.client.post(
            "/api/supervision/intake",
            name="intake: event batch (100)",
            data=json.dumps({"events": events}),
            headers={
                **_headers(None),
                "X-Source-Key": CONFIG["source_key"],
            },
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
            elif response.json()["rejected"]:
                response.failure(f"rejected: {response.json()['rejected'][:2]}")


class Searcher(ApiUser):
    fixed_count = CONFIG["users"]["searcher"]
    wait_time = constant_throughput(RATES["searcher"] * SCALE)

    @task
    def search(self) -> None:
        query = random.choice(CONFIG["queries"])
        self.api("public: catalogue search", "GET", f"/api/catalog/search?q={quote(query)}")


class Verifier(ApiUser):
    fixed_count = CONFIG["users"]["verifier"]
    wait_time = constant_throughput(RATES["verifier"] * SCALE)

    @task
    def verify(self) -> None:
        if not Hand.licences:  # none issued yet in the first seconds
            return
        identifier = random.choice(Hand.licences)
        self.api("public: licence verification", "GET", f"/api/licences/verify/{identifier}")


class GatewayConsumer(FastHttpUser):
    """A department system calling the shared-data gateway with its own credentials."""

    fixed_count = CONFIG["users"].get("gateway", 0) if CONFIG.get("gateway") else 0
    wait_time = constant_throughput(RATES["gateway"] * SCALE)

    def on_start(self) -> None:
        gateway = CONFIG["gateway"]
        response = self.client.post(
            "/gateway/oauth/token",
            name="gateway: token",
            data={
                "grant_type": "client_credentials",
                "client_id": gateway["client_id"],
                "client_secret": gateway["secret"],
            },
            headers={"X-Forwarded-Proto": "https"},
        )
        self.headers = {
            "Authorization": f"Bearer {response.json()['access_token']}",
            "X-Purpose": quote("婚姻登记当事人身份核验"),
            "X-Forwarded-Proto": "https",
            "Accept": "application/json",
        }

    @task
    def call(self) -> None:
        gateway = CONFIG["gateway"]
        number = random.choice(gateway["people"])
        with self.client.get(
            f"/gateway/v1/resources/{gateway['resource']}?id_number={number}",
            name="gateway: person lookup",
            headers=self.headers,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
            elif not response.json().get("records"):
                response.failure("no record")


class DocumentSender(ApiUser):
    """The general office's 文书: one sealed document to the city's groups a minute."""

    fixed_count = CONFIG["users"].get("document_sender", 0) if CONFIG.get("documents") else 0
    wait_time = constant_throughput(RATES["document_sender"] * SCALE)

    def on_start(self) -> None:
        self.token = CONFIG["documents"]["sender_token"]
        self.waiting = deque(CONFIG["documents"]["documents"])

    @task
    def send(self) -> None:
        if not self.waiting:
            return
        document = self.waiting.popleft()
        self.api(
            "documents: send to ~45 units",
            "POST",
            f"/api/documents/exchange/send/{document}",
            {"groups": CONFIG["documents"]["groups"], "message": "压测分发"},
            expect=201,
        )


class DocumentReceiver(ApiUser):
    """A receiving unit's 文书: the inbox, then 签收 of the oldest pending copy."""

    fixed_count = CONFIG["users"].get("document_receiver", 0) if CONFIG.get("documents") else 0
    wait_time = constant_throughput(RATES["document_receiver"] * SCALE)
    tokens = itertools.cycle(CONFIG.get("documents", {}).get("receiver_tokens") or [""])

    def on_start(self) -> None:
        self.token = next(self.tokens)

    @task
    def inbox(self) -> None:
        listing = self.api("documents: inbox", "GET", "/api/documents/exchange/inbox?state=pending")
        items = listing.get("items", listing) if isinstance(listing, dict) else listing
        pending = [row for row in items or [] if row.get("state") == "pending"]
        if pending:
            self.api(
                "documents: sign for receipt",
                "POST",
                f"/api/documents/exchange/inbox/{pending[0]['id']}/sign",
            )
