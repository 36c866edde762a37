"""upstream: follow the status pages of the vendors you depend on.

The public API is this module's names; everything under ``aggregator.*`` is internal and may
move between releases. See docs/api.md.

    from aggregator import open_upstream

    with open_upstream("upstream.db") as up:
        up.add("https://www.githubstatus.com")
        up.poll()
        print(up.status())

Importing ``aggregator`` is cheap: the names below are loaded when first used, so a command that
only reads the database never imports pydantic or the HTTP stack.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aggregator.config import Config, load_config
    from aggregator.core import Upstream, open_upstream
    from aggregator.errors import (
        AdapterError,
        CatalogError,
        ConfigError,
        ExportError,
        QueryError,
        StoreError,
        SubscriptionError,
        UpstreamError,
        UserError,
    )
    from aggregator.page.adapter import Adapter, Endpoint
    from aggregator.page.model import Component, Event, Health, Incident, Maintenance, Snapshot, Update
    from aggregator.page.vocab import ComponentStatus, EventKind, Impact, IncidentStatus, MaintenanceStatus

_WHERE = {
    "Upstream": "aggregator.core", "open_upstream": "aggregator.core",
    "Config": "aggregator.config", "load_config": "aggregator.config",
    "Adapter": "aggregator.page.adapter", "Endpoint": "aggregator.page.adapter",
    **{name: "aggregator.errors" for name in ("UpstreamError", "UserError", "ConfigError", "AdapterError",
                                              "StoreError", "QueryError", "CatalogError", "SubscriptionError",
                                              "ExportError")},
    **{name: "aggregator.page.model" for name in ("Snapshot", "Component", "Incident", "Maintenance", "Update",
                                                  "Event", "Health")},
    **{name: "aggregator.page.vocab" for name in ("ComponentStatus", "Impact", "IncidentStatus",
                                                  "MaintenanceStatus", "EventKind")},
}

__all__ = [
    "Adapter",
    "AdapterError",
    "CatalogError",
    "Component",
    "ComponentStatus",
    "Config",
    "ConfigError",
    "Endpoint",
    "Event",
    "EventKind",
    "ExportError",
    "Health",
    "Impact",
    "Incident",
    "IncidentStatus",
    "Maintenance",
    "MaintenanceStatus",
    "QueryError",
    "Snapshot",
    "StoreError",
    "SubscriptionError",
    "Update",
    "Upstream",
    "UpstreamError",
    "UserError",
    "load_config",
    "open_upstream",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'aggregator' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
