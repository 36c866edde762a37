"""Notifications: subscriptions, an outbox filled inside the poll transaction, sinks, a dispatcher.

Importing this package registers the ``notify`` migrations and the outbox event hook with the
store; ``Store.__init__`` imports it, so whichever command applies a poll fills the outbox.
It stays cheap to import: no HTTP client and no Apprise here (sinks import them when sending).

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
from aggregator.store.writer import SUBSYSTEM_MIGRATIONS, register_event_hook

SUBSYSTEM_MIGRATIONS.setdefault("notify", NOTIFY_MIGRATIONS)
register_event_hook(enqueue_events)
