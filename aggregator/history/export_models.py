"""The shapes ``upstream export`` writes, as pydantic models: the source of the JSON Schema.

Imported only by ``upstream schema`` and by tests (pydantic is slow to import); the export itself
writes what the store holds with orjson. ``aggregator/schema/*.schema.json`` are generated from
these models (``upstream schema --what W``) and a test keeps them from drifting.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from aggregator.page.model import Event, Snapshot, UtcDatetime

SCHEMA_BASE = "https://upstream.invalid/schema/"
WHATS = ("snapshot", "event", "export")


class ExportedSnapshot(Snapshot):
    """A provider's latest snapshot plus how fetching it has gone (``status --json`` / ``export``)."""

    model_config = ConfigDict(title="Snapshot")

    reachable: bool | None = Field(None, description="Whether the last poll reached the page; null if never polled")
    last_error: str | None = Field(None, description="Why the last poll failed (we never call that an outage)")
    last_polled_at: UtcDatetime | None = Field(None, description="When we last tried to fetch the page")


class ExportDocument(BaseModel):
    """``export --format json --history``: the snapshots plus the event log, oldest event first."""

    model_config = ConfigDict(extra="forbid")

    snapshots: list[ExportedSnapshot]
    events: list[Event]


class Export(RootModel[list[ExportedSnapshot] | ExportDocument]):
    """``export --format json``: an array of snapshots; with ``--history`` an object with events.
    ``--format ndjson`` writes one snapshot per line, then (with ``--history``) one event per line."""


MODELS: dict[str, Any] = {"snapshot": ExportedSnapshot, "event": Event, "export": Export}


def json_schema(what: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one exported shape."""
    try:
        model = MODELS[what]
    except KeyError:
        raise ValueError(f"unknown schema {what!r} (choose from: {', '.join(WHATS)})") from None
    schema = model.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{SCHEMA_BASE}{what}.schema.json",
            **schema}


def schema_bytes(what: str) -> bytes:
    """The schema as the shipped file holds it (sorted keys, two-space indent, final newline)."""
    import orjson

    return orjson.dumps(json_schema(what), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
