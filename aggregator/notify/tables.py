"""The notify subsystem's tables: subscriptions, the deliveries outbox and every delivery attempt.

Scheduling times (``not_before``, ``lease_until``) are unix seconds (REAL) so that they compare
as numbers; times only shown to people are ISO strings ending in ``Z`` like the rest of the store.
"""

from __future__ import annotations

import secrets

import sqlite_utils

from aggregator.store.schema import run_script


def _notify_v1(db: sqlite_utils.Database) -> None:
    run_script(db,
        """
        CREATE TABLE notify_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT UNIQUE,
            sink TEXT NOT NULL CHECK (sink IN ('webhook', 'command', 'file', 'apprise')),
            target TEXT NOT NULL,         -- URL, shell command or file path: may hold secrets
            display TEXT NOT NULL,        -- the target with its secrets masked: the only form shown
            secret TEXT,                  -- webhook signing secret (whsec_...)
            filters TEXT NOT NULL,        -- JSON: providers, categories, components, regions, min_severity, kinds
            flap_window REAL NOT NULL DEFAULT 300,
            max_attempts INTEGER,         -- NULL: the dispatcher's default
            paused INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
            event_seq INTEGER NOT NULL,   -- the event that opened it (the first one when folded)
            last_event_seq INTEGER NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,  -- sent as webhook-id; the same on every retry
            type TEXT NOT NULL,           -- the payload's type: an event kind or *.flapped
            provider TEXT NOT NULL,
            subject_key TEXT,             -- e.g. component:acme/cmp1 (flap folding, recoveries)
            subject_state TEXT,           -- the subject's status this delivery tells
            state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'failed', 'folded')),
            payload TEXT NOT NULL,        -- the exact JSON body, identical on every attempt
            not_before REAL NOT NULL,     -- unix time: not sent before (flap hold, retry backoff)
            attempts INTEGER NOT NULL DEFAULT 0,
            claimed_by TEXT,              -- host:pid of the dispatcher sending it
            lease_until REAL,             -- unix time after which a 'sending' claim is taken over
            last_error TEXT,
            folded_into INTEGER REFERENCES deliveries(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            delivered_at TEXT
        );
        CREATE INDEX deliveries_due ON deliveries (state, not_before);
        CREATE INDEX deliveries_subject ON deliveries (subscription_id, subject_key, id);
        CREATE TABLE delivery_attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            claimed_by TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT CHECK (outcome IN ('ok', 'error', 'interrupted')),  -- NULL while in flight
            status INTEGER,               -- HTTP status or exit code
            error TEXT,
            seconds REAL
        );
        CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt);
        """
    )
    # A random id of this database goes into every idempotency key, so that a receiver never
    # mistakes a message of a re-created database (whose event numbers restart) for a duplicate.
    db.execute("INSERT INTO notify_meta (key, value) VALUES ('instance', ?)", [secrets.token_hex(4)])


def _notify_v2(db: sqlite_utils.Database) -> None:
    # Why a subscription is paused when upstream paused it (its circuit breaker); NULL: by the user.
    db.execute("ALTER TABLE subscriptions ADD COLUMN paused_reason TEXT")


NOTIFY_MIGRATIONS = [_notify_v1, _notify_v2]
