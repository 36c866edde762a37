"""Azure status RSS (``rssfeed.azure.status.microsoft/en-us/status/feed/``).

The feed lists active and recently resolved events only; an empty channel is a healthy Azure.
Item titles read ``Service - Region - Status`` ("Azure Databricks - North Central US -
Investigating"); items may carry ``<category>`` elements for the service and the region, and the
description is HTML starting "Impact Statement". Feed parsing and the keyword fallback are
``providers.feed``'s; this module adds the title grammar, the service-region components and the
regions. Azure states no severity, so an open event counts as degraded performance.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aggregator.page.adapter import Adapter, Bodies, Endpoint
from aggregator.page.model import Component, Incident, Maintenance, Snapshot
from aggregator.page.vocab import ComponentStatus, IncidentStatus, MaintenanceStatus
from providers.feed import (
    FEED_ACCEPT,
    FeedEntry,
    label_status,
    notice_from_entry,
    overall_status,
    read_feed,
    split_notices,
)

FEED_URL = "https://rssfeed.azure.status.microsoft/en-us/status/feed/"
# Words seen or documented as the last part of a title; others fall back to keywords.
AZURE_WORDS: dict[str, IncidentStatus] = {
    "investigating": IncidentStatus.investigating,
    "active": IncidentStatus.investigating,
    "identified": IncidentStatus.identified,
    "monitoring": IncidentStatus.monitoring,
    "mitigated": IncidentStatus.resolved,
    "resolved": IncidentStatus.resolved,
}


def split_title(title: str) -> tuple[str | None, str | None, str | None]:
    """``Azure Databricks - North Central US - Investigating`` -> (service, region, status word)."""
    parts = [p.strip() for p in title.split(" - ")]
    if len(parts) >= 2 and (parts[-1].lower() in AZURE_WORDS or label_status(parts[-1])):
        region = " - ".join(parts[1:-1]) or None
        return parts[0] or None, region, parts[-1]
    return None, None, None


def notice_from_azure_entry(entry: FeedEntry) -> tuple[Incident | Maintenance, str | None, str | None]:
    """(notice, service, region) for one item."""
    notice = notice_from_entry(entry)
    service, region, word = split_title(entry.title)
    if service is None and entry.categories:
        service = entry.categories[0]
        region = entry.categories[1] if len(entry.categories) > 1 else None
    update: dict[str, object] = {"regions": [region] if region else []}
    if word is not None:
        mapped = AZURE_WORDS.get(word.lower())
        label = label_status(word)
        if isinstance(notice, Incident) and mapped is not None:
            update |= {"status": mapped, "raw_status": word,
                       "resolved_at": (notice.updated_at or notice.started_at) if mapped is IncidentStatus.resolved
                       else None}
        elif isinstance(notice, Maintenance) and label and isinstance(label[1], MaintenanceStatus):
            update |= {"status": label[1], "raw_status": word}
    if service:
        update["component_ids"] = [component_id(service, region)]
    return notice.model_copy(update=update), service, region


def component_id(service: str, region: str | None) -> str:
    return f"{service} | {region}" if region else service


class AzureAdapter(Adapter):
    platform = "azure"
    title = "Azure status"
    reads = frozenset({"components", "incidents", "maintenances", "updates", "regions"})
    keys = ("feed",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        parts = urlsplit(base_url.strip())
        url = base_url.strip() if "feed" in parts.path.lower() else FEED_URL
        return [Endpoint("feed", url, accept=FEED_ACCEPT)]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # The feed holds active and recently resolved events; the longer history (post incident
        # reviews) is an HTML page only.
        return self.endpoints(base_url)

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        doc = read_feed(self.body(bodies))
        notices = []
        components: dict[str, Component] = {}
        for entry in doc.entries:  # newest first: the first mention of a service-region wins
            notice, service, region = notice_from_azure_entry(entry)
            notices.append(notice)
            if service:
                cid = component_id(service, region)
                if cid not in components:
                    components[cid] = Component(
                        id=cid, name=service, region=region,
                        status=_component_status(notice), raw_status=notice.raw_status,
                        updated_at=notice.updated_at,
                    )
        incidents, maintenances = split_notices(notices)
        comps = sorted(components.values(), key=lambda c: (c.name.lower(), c.region or ""))
        return Snapshot(
            platform=self.platform,
            name=doc.title,
            url=doc.link or base_url,
            status=overall_status([*incidents, *maintenances], comps),
            components=comps,
            incidents=incidents,
            maintenances=maintenances,
        )

    build_history = Adapter.build_notices


def _component_status(notice: Incident | Maintenance) -> ComponentStatus:
    if not notice.is_open:
        return ComponentStatus.operational
    if isinstance(notice, Maintenance):
        return ComponentStatus.under_maintenance if notice.status in {
            MaintenanceStatus.in_progress, MaintenanceStatus.verifying} else ComponentStatus.operational
    return ComponentStatus.degraded_performance
