"""Receivers and builders for the notification tests.

``SignedReceiver`` is a webhook endpoint on 127.0.0.1 that checks every request the way a
receiver following Standard Webhooks would: with the ``standardwebhooks`` package AND with the
spec's HMAC computed here by hand, independently of upstream's sender.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
from standardwebhooks.webhooks import Webhook

from aggregator.notify.payload import SCHEMA_PATH
from aggregator.page.model import Component, Incident, Snapshot, Update
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus
from aggregator.store.writer import PollOutcome, Store
from tests.loopback import LoopbackServer

T0 = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
SCHEMA = json.loads(SCHEMA_PATH.read_text())
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def validate_payload(payload: dict[str, Any]) -> None:
    """Raise if ``payload`` does not follow the shipped JSON Schema."""
    _VALIDATOR.validate(payload)


def spec_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """The Standard Webhooks v1 signature, computed from the spec text alone."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any]
    status: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class SignedReceiver:
    """A webhook endpoint: verifies signatures, answers ``statuses`` in turn (then 200)."""

    secret: str | None = None
    statuses: list[int] = field(default_factory=list)
    on_request: Callable[[int], None] | None = None  # called with the request number (1-based) before answering
    path: str = "/hooks/upstream"
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = LoopbackServer()
        self.server.set(self.path, handler=self._handle)
        self._lock = threading.Lock()

    def start(self) -> SignedReceiver:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url(self.path)

    def _handle(self, request: Any) -> None:
        body: bytes = request.body
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            number = len(self.received) + len(self.rejected) + 1
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(body, headers)
                expected = spec_signature(self.secret, headers["webhook-id"], headers["webhook-timestamp"], body)
                if expected not in headers["webhook-signature"].split(" "):
                    raise ValueError("signature differs from the spec's HMAC")
            except Exception as exc:  # noqa: BLE001 - any verification failure is a rejection
                with self._lock:
                    self.rejected.append(f"{type(exc).__name__}: {exc}")
                request._send(401, b"bad signature", "text/plain", {})
                return
        status = self.statuses[number - 1] if number <= len(self.statuses) else 200
        with self._lock:
            self.received.append(Received(headers, body, json.loads(body), status))
        if self.on_request is not None:
            self.on_request(number)
        request._send(status, b"ok" if status < 300 else b"try later", "text/plain", {})

    def ok(self) -> list[Received]:
        return [r for r in self.received if r.status < 300]


# ------------------------------------------------------------------------------------------------
# A provider whose page we write by hand
# ------------------------------------------------------------------------------------------------

NAMES = {"api": ("REST API", "API", "eu-west-1"), "gql": ("GraphQL API", "API", "us-east-1"),
         "dash": ("Dashboard", None, None)}


def incident(iid: str, title: str, impact: Impact = Impact.major, status: IncidentStatus = IncidentStatus.investigating,
             body: str = "We are investigating.", at: datetime = T0, components: tuple[str, ...] = ("api",),
             updates: int = 1) -> Incident:
    return Incident(id=iid, title=title, impact=impact, status=status, started_at=at, url=f"https://stspg.io/{iid}",
                    component_ids=list(components),
                    updates=[Update(id=f"{iid}-u{n}", status=status.value, body=body if n == updates else f"old {n}",
                                    created_at=at + timedelta(minutes=n)) for n in range(updates, 0, -1)])


def snapshot(statuses: dict[str, str] | None = None, incidents: list[Incident] | None = None) -> Snapshot:
    statuses = {"api": "operational", "gql": "operational", "dash": "operational", **(statuses or {})}
    comps = [Component(id=cid, name=NAMES[cid][0], group=NAMES[cid][1], region=NAMES[cid][2],
                       status=ComponentStatus(st)) for cid, st in statuses.items()]
    worst = max((c.status for c in comps), key=lambda s: ["operational", "under_maintenance",
                                                          "degraded_performance", "partial_outage",
                                                          "major_outage"].index(s.value))
    return Snapshot(platform="statuspage", name="Acme Cloud", url="https://status.acme.test", status=worst,
                    components=comps, incidents=incidents or [])


class Page:
    """Apply hand-written snapshots of provider ``acme`` to a store, at chosen times."""

    def __init__(self, store: Store, provider: str = "acme", category: str | None = "cloud") -> None:
        self.store = store
        self.provider = provider
        store.add_provider(provider, name="Acme Cloud", url="https://status.acme.test", platform="statuspage",
                           category=category)

    def show(self, at: datetime, statuses: dict[str, str] | None = None,
             incidents: list[Incident] | None = None) -> list[Any]:
        snap = snapshot(statuses, incidents).model_copy(update={"provider": self.provider})
        return self.store.apply(PollOutcome(self.provider, at, snapshot=snap))

    def fail(self, at: datetime, error: str = "connection refused") -> list[Any]:
        return self.store.apply(PollOutcome(self.provider, at, error=error))


def deliveries(store: Store, state: str | None = None) -> list[dict[str, Any]]:
    cur = store.conn.execute("SELECT * FROM deliveries" + (" WHERE state = ?" if state else "") + " ORDER BY id",
                             [state] if state else [])
    cols = [c[0] for c in cur.description]
    rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    for r in rows:
        r["payload"] = json.loads(r["payload"])
    return rows
