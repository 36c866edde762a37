"""Notifications: subscriptions, an outbox filled inside the poll transaction, sinks, a dispatcher.

``SUBSYSTEM`` is what the store needs of it: the ``notify`` migrations and the outbox event hook;
``aggregator.core.open_store`` opens every store with it, so whichever command applies a poll
fills the outbox. It stays cheap to import: no HTTP client and no Apprise here (sinks import them when sending).

    subscriptions.py  create / list / pause / remove subscriptions, parse sinks and filters
    outbox.py         the event hook: match events to subscriptions, fold flapping, queue payloads
    payload.py        the event payload (pydantic) and its shipped JSON Schema
    render.py         the human message (title, body) of a payload, for chat and email
    sinks.py          webhook (Standard Webhooks), shell command, NDJSON file, Apprise
    dispatch.py       deliver_pending(): claim, send, record; retries with backoff
    redact.py         masks secrets for list/show/logs
"""

from __future__ import annotations

from aggregator.notify.outbox import enqueue_events
from aggregator.notify.tables import NOTIFY_MIGRATIONS
from aggregator.store.schema import Subsystem

SUBSYSTEM = Subsystem("notify", NOTIFY_MIGRATIONS, enqueue_events)
