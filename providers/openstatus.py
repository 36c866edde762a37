"""OpenStatus pages through the public status API ``https://api.openstatus.dev/public/status/<slug>``.

The answer is one word for the whole page: ``{"status": "operational"}``; values
``operational|degraded_performance|partial_outage|major_outage|under_maintenance|unknown``
(platforms.md §9) and ``incident`` (an open incident of unstated severity, seen in OpenStatus's own
status widget; read as degraded performance, the least severe non-operational state, so that it
is never hidden). No components or incidents are public in this API.

The slug is needed: ``base_url`` may be ``https://<slug>.openstatus.dev`` or the API URL itself.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Snapshot
from aggregator.page.reading import load_object, text_or_none, word_key
from aggregator.page.vocab import ComponentStatus, component_status

API_ROOT = "https://api.openstatus.dev/public/status/"
_API_PATH_RE = re.compile(r"/public/status/([A-Za-z0-9_-]+)")
_HOST_RE = re.compile(r"^([a-z0-9][a-z0-9-]*)\.openstatus\.dev$")


def slug_of(base_url: str) -> str | None:
    match = _API_PATH_RE.search(base_url)
    if match:
        return match.group(1)
    host = urlsplit(base_url.strip()).netloc.lower().split(":")[0]
    host_match = _HOST_RE.match(host)
    if host_match and host_match.group(1) not in {"www", "api"}:
        return host_match.group(1)
    return None


class OpenStatusAdapter(Adapter):
    platform = "openstatus"
    title = "OpenStatus"
    reads = frozenset()  # only the page's overall status is public
    keys = ("status",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        slug = slug_of(base_url)
        if slug is None:
            raise ParseError(
                "openstatus: the page slug is needed; give https://<slug>.openstatus.dev or "
                f"{API_ROOT}<slug> instead of {base_url!r}")
        return [Endpoint("status", f"{API_ROOT}{slug}")]

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        doc = load_object(self.body(bodies), "openstatus status")
        if "status" not in doc:
            raise ParseError("openstatus: no status field")
        raw = text_or_none(doc.get("status"))
        word = word_key(raw)
        status = ComponentStatus.degraded_performance if word == "incident" else component_status(word)
        is_api = bool(base_url) and urlsplit(base_url or "").netloc.lower() == "api.openstatus.dev"
        return Snapshot(
            platform=self.platform,
            url=None if is_api else base_url,
            page_id=slug_of(base_url) if base_url else None,
            status=status,
            raw_status=raw,
        )
