"""Subscriptions: where notifications go (a sink) and which events they want (filters).

A sink is written the way a user types it:

    https://example.com/hooks/upstream   a webhook: POST of the JSON event, Standard Webhooks signed
    cmd:COMMAND                          a shell command, the event JSON on its stdin
    file:PATH                            an NDJSON file, one event per line
    slack://..., mailto://..., ntfy://... any Apprise URL: a message rendered for people

An http(s) URL that Apprise recognises as a service's own webhook (hooks.slack.com, Discord,
...) is sent through Apprise, as a message; ``sink_type="webhook"`` forces the JSON webhook.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from aggregator.errors import SubscriptionError
from aggregator.notify.redact import mask_secret, redact_apprise, redact_command, redact_url, secret_fragments

SINKS = ("webhook", "command", "file", "apprise")
KINDS = ("incident", "component", "maintenance", "provider", "unreachable")
DEFAULT_KINDS = ("incident", "component", "maintenance")
SEVERITIES = ("minor", "major", "critical")
DEFAULT_FLAP_WINDOW = 300.0



@dataclass
class Filters:
    """Every list is "any of"; an empty list lets everything through."""

    providers: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)  # fnmatch globs on name, id or group
    regions: list[str] = field(default_factory=list)     # fnmatch globs, case-insensitive
    min_severity: str | None = None
    kinds: list[str] = field(default_factory=lambda: list(DEFAULT_KINDS))

    def to_json(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def from_json(cls, text: str) -> Filters:
        data = orjson.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def describe(self) -> str:
        parts = [",".join(self.kinds)]
        for label, values in (("providers", self.providers), ("categories", self.categories),
                              ("components", self.components), ("regions", self.regions)):
            if values:
                parts.append(f"{label} {','.join(values)}")
        if self.min_severity:
            parts.append(f">= {self.min_severity}")
        return "; ".join(parts)


@dataclass
class Subscription:
    id: int
    name: str | None
    sink: str
    target: str
    display: str
    secret: str | None
    filters: Filters
    flap_window: float
    max_attempts: int | None
    paused: bool
    created_at: str
    paused_reason: str | None = None  # set when upstream paused it (the circuit breaker), not the user

    @property
    def label(self) -> str:
        return f"#{self.id}" + (f" ({self.name})" if self.name else "")

    def fragments(self) -> list[str]:
        """Secret parts of the target, to scrub from errors and logs."""
        return secret_fragments(self.target, self.display, self.secret)

    def public(self) -> dict[str, Any]:
        """What list/show print: never the target or the secret in full."""
        return {"id": self.id, "name": self.name, "sink": self.sink, "target": self.display,
                "secret": mask_secret(self.secret) if self.secret else None,
                "filters": asdict(self.filters), "flap_window": self.flap_window,
                "max_attempts": self.max_attempts, "paused": self.paused, "paused_reason": self.paused_reason,
                "created_at": self.created_at}


def _row_to_subscription(row: sqlite3.Row | tuple[Any, ...], cols: list[str]) -> Subscription:
    r = dict(zip(cols, row, strict=True))
    return Subscription(id=r["id"], name=r["name"], sink=r["sink"], target=r["target"], display=r["display"],
                        secret=r["secret"], filters=Filters.from_json(r["filters"]),
                        flap_window=float(r["flap_window"]), max_attempts=r["max_attempts"],
                        paused=bool(r["paused"]), created_at=r["created_at"], paused_reason=r.get("paused_reason"))


def load_subscriptions(conn: sqlite3.Connection, *, active_only: bool = False) -> list[Subscription]:
    sql = "SELECT * FROM subscriptions" + (" WHERE paused = 0" if active_only else "") + " ORDER BY id"
    cur = conn.execute(sql)
    cols = [c[0] for c in cur.description]
    return [_row_to_subscription(row, cols) for row in cur.fetchall()]


def get_subscription(conn: sqlite3.Connection, ref: str | int) -> Subscription:
    """By id or by name; unknown is a SubscriptionError."""
    text = str(ref).lstrip("#")
    if text.isdigit():
        cur = conn.execute("SELECT * FROM subscriptions WHERE id = ?", [int(text)])
    else:
        cur = conn.execute("SELECT * FROM subscriptions WHERE name = ?", [text])
    row = cur.fetchone()
    if row is None:
        raise SubscriptionError(f"no subscription {ref!r} (see: upstream subscriptions list)")
    return _row_to_subscription(row, [c[0] for c in cur.description])


# ------------------------------------------------------------------------------------------------
# Parsing what users type
# ------------------------------------------------------------------------------------------------

def _apprise_knows(url: str) -> bool:
    import apprise

    try:
        return apprise.Apprise.instantiate(url) is not None
    except Exception:  # noqa: BLE001 - a URL Apprise chokes on is one it does not know
        return False


def parse_sink(text: str, sink_type: str | None = None) -> tuple[str, str]:
    """``(sink, target)`` from what the user typed."""
    text = text.strip()
    if sink_type is not None and sink_type not in SINKS:
        raise SubscriptionError(f"unknown sink type {sink_type!r} (one of: {', '.join(SINKS)})")
    if sink_type == "command" or (sink_type is None and text.startswith("cmd:")):
        command = text.removeprefix("cmd:").strip()
        if not command:
            raise SubscriptionError("empty command: write cmd:COMMAND")
        return "command", command
    if sink_type == "file" or (sink_type is None and text.startswith("file:")):
        raw = text.removeprefix("file:")
        if raw.startswith("//"):
            raw = raw[2:].split("/", 1)[1] if not raw[2:].startswith("/") else raw[2:]
            raw = "/" + raw.lstrip("/")
        if not raw.strip():
            raise SubscriptionError("empty path: write file:PATH")
        path = Path(raw).expanduser().resolve()
        if path.is_dir():
            raise SubscriptionError(f"{path} is a directory: give a file name (e.g. {path}/events.ndjson)")
        return "file", str(path)
    if text.startswith(("http://", "https://")) and sink_type in (None, "webhook"):
        parts = re.match(r"^https?://([^/?#]+)", text)
        if not parts or not parts.group(1).rsplit("@", 1)[-1].split(":")[0]:
            raise SubscriptionError(f"not a usable URL: {redact_url(text)}")
        if sink_type is None and _apprise_knows(text):
            return "apprise", text
        return "webhook", text
    if sink_type == "webhook":
        raise SubscriptionError("a webhook sink is an http(s) URL")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        if not _apprise_knows(text):
            scheme = text.split("://", 1)[0]
            raise SubscriptionError(f"Apprise does not understand this {scheme}:// URL "
                                    f"(see https://github.com/caronc/apprise/wiki for the URL of each service)")
        return "apprise", text
    raise SubscriptionError("a sink is an http(s) webhook URL, cmd:COMMAND, file:PATH or an Apprise URL "
                            "(slack://..., mailto://..., ntfy://...)")


def display_for(sink: str, target: str) -> str:
    if sink == "webhook":
        return redact_url(target)
    if sink == "apprise":
        return redact_apprise(target)
    if sink == "command":
        return "cmd:" + redact_command(target)
    return f"file:{target}"


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def check_secret(secret: str) -> str:
    body = secret.removeprefix("whsec_")
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SubscriptionError("a webhook secret is whsec_ followed by base64 (omit --secret to get one)") from None
    if len(raw) < 16:
        raise SubscriptionError("a webhook secret needs at least 16 random bytes (omit --secret to get one)")
    return secret if secret.startswith("whsec_") else "whsec_" + body


def parse_kinds(text: str | None, notify_unreachable: bool = False) -> list[str]:
    kinds = [k.strip().lower() for k in (text or "").split(",") if k.strip()] or list(DEFAULT_KINDS)
    aliases = {"incidents": "incident", "components": "component", "maintenances": "maintenance",
               "status": "provider", "providers": "provider", "reachability": "unreachable"}
    kinds = [aliases.get(k, k) for k in kinds]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise SubscriptionError(f"unknown kind {unknown[0]!r} (kinds: {', '.join(KINDS)})")
    if notify_unreachable and "unreachable" not in kinds:
        kinds.append("unreachable")
    return list(dict.fromkeys(kinds))


def parse_duration(text: str) -> float:
    """``300``, ``90s``, ``5m``, ``1h`` -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*", text.lower())
    if not m:
        raise SubscriptionError(f"cannot read duration {text!r} (try 300, 90s, 5m, 1h)")
    scale = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}[m.group(2)]
    return float(m.group(1)) * scale


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------

def create_subscription(conn: sqlite3.Connection, sink_text: str, filters: Filters, *, name: str | None = None,
                        secret: str | None = None, sink_type: str | None = None,
                        flap_window: float = DEFAULT_FLAP_WINDOW, max_attempts: int | None = None,
                        ) -> Subscription:
    """Store a new subscription; a webhook without ``secret`` gets a generated one."""
    sink, target = parse_sink(sink_text, sink_type)
    if filters.min_severity is not None and filters.min_severity not in SEVERITIES:
        raise SubscriptionError(f"--min-severity is one of {', '.join(SEVERITIES)}")
    if name is not None and (not name.strip() or name.strip().lstrip("#").isdigit()):
        raise SubscriptionError("a name needs a letter (numbers are subscription ids)")
    if flap_window < 0:
        raise SubscriptionError("the flap window cannot be negative")
    if max_attempts is not None and max_attempts < 1:
        raise SubscriptionError("--max-attempts is at least 1")
    if sink == "webhook":
        secret = check_secret(secret) if secret else new_secret()
    elif secret:
        raise SubscriptionError("--secret is for webhook sinks only")
    created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    try:
        with conn:
            cur = conn.execute(
                "INSERT INTO subscriptions (name, sink, target, display, secret, filters, flap_window, "
                "max_attempts, paused, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                [name.strip() if name else None, sink, target, display_for(sink, target), secret,
                 filters.to_json(), flap_window, max_attempts, created])
    except sqlite3.IntegrityError:
        raise SubscriptionError(f"a subscription named {name!r} exists already") from None
    return get_subscription(conn, cur.lastrowid or 0)


def _write(conn: sqlite3.Connection, sql: str, args: list[Any]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(sql, args)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def set_paused(conn: sqlite3.Connection, ref: str | int, paused: bool) -> Subscription:
    sub = get_subscription(conn, ref)
    _write(conn, "UPDATE subscriptions SET paused = ?, paused_reason = NULL WHERE id = ?", [int(paused), sub.id])
    return get_subscription(conn, sub.id)


def remove_subscription(conn: sqlite3.Connection, ref: str | int) -> Subscription:
    """Delete it with its deliveries (pending ones are never sent)."""
    sub = get_subscription(conn, ref)
    _write(conn, "DELETE FROM subscriptions WHERE id = ?", [sub.id])
    return sub
