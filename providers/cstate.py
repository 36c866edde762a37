"""cState (Hugo static status pages): ``<page>/index.json`` (apiVersion 2.0).

The document is written by a Hugo template (``layouts/index.json`` in cstate/cstate):

* ``summaryStatus`` and each ``systems[].status`` are ``ok|notice|disrupted|down``: the worst
  severity among the unresolved issues that affect the page or the system. ``notice`` is
  informational (operational), ``disrupted`` a partial outage, ``down`` a major outage.
* systems have no ids; issues name them in ``affected[]``, so a system's name is its id and its
  ``category`` is its group.
* ``systems[].unresolvedIssues[]`` repeats an issue under every system it affects; issues are
  merged by ``filename`` (else ``permalink``). Their times are Go time strings
  (``2025-04-10 13:00:00 +0000 UTC``); an unset value is written as ``"<no value>"``.
* ``pinnedIssues[]`` are informational announcements with no severity or resolved flag: they are
  not incidents and are not read.

Hugo does not escape strings, so a title containing a double quote yields invalid JSON; that is a
ParseError like any other broken document.
"""

from __future__ import annotations

from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot
from aggregator.page.reading import (
    as_list,
    impacts_of,
    join_url,
    load_object,
    notice_sort_key,
    parse_time,
    stated_or_worst,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus

STATUS = {
    "ok": ComponentStatus.operational,
    "notice": ComponentStatus.operational,
    "disrupted": ComponentStatus.partial_outage,
    "down": ComponentStatus.major_outage,
}
SEVERITY_IMPACT = impacts_of(STATUS)


def _text(value: Any) -> str | None:
    """Hugo writes ``<no value>`` for an unset parameter."""
    text = text_or_none(value)
    return None if text == "<no value>" else text


class CStateAdapter(Adapter):
    platform = "cstate"
    title = "cState"
    reads = frozenset({"components", "groups", "incidents", "updates"})  # updates: the history feed
    keys = ("index", "history")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("index", join_url(base_url, "index.json"))]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # index.json lists only unresolved issues; the Hugo site's RSS (index.xml) has every
        # issue page. An issue's feed link is its permalink, whose last segment is its file name.
        from providers.history import feed_endpoint

        return [*self.endpoints(base_url), feed_endpoint("history", join_url(base_url, "index.xml"))]

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        from providers.history import closed_unless_current, feed_notices, merge_history

        current = self.build_notices({"index": bodies["index"]}, base_url) if "index" in bodies else []
        if "history" not in bodies:
            if "index" not in bodies:
                raise ParseError(f"cstate: no history body (got {sorted(bodies)})")
            return current

        def file_name(notice: Incident | Maintenance) -> str | None:
            path = (notice.url or "").split("?")[0].rstrip("/")
            return f"{path.rsplit('/', 1)[-1]}.md" if "/issues/" in path else None

        past = [n for n in feed_notices(bodies["history"], rename=file_name) if "/issues/" in (n.url or "")]
        # The index lists every unresolved issue: an issue of the feed it does not list is resolved.
        if "index" in bodies:
            past = closed_unless_current(past, {n.id for n in current if n.is_open})
        return merge_history(current, past)

    def classify(self, body: bytes, filename: str = "") -> str:
        from providers.history import looks_like_feed

        return "history" if looks_like_feed(body) else "index"

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        if set(bodies) == {"history"}:
            from providers.history import refuse_html, snapshot_of_history

            refuse_html(bodies["history"])
            return snapshot_of_history(self.platform, self.build_history(bodies, base_url), base_url)
        doc = load_object(self.body(bodies), "cstate index.json")
        if "systems" not in doc and "summaryStatus" not in doc:
            raise ParseError("cstate: not a cState index.json (no systems or summaryStatus)")

        components: list[Component] = []
        issues: dict[str, Incident] = {}
        for position, system in enumerate(as_list(doc.get("systems"))):
            if not isinstance(system, dict) or not _text(system.get("name")):
                continue
            name = str(_text(system.get("name")))
            raw_status = _text(system.get("status"))
            components.append(Component(
                id=name,
                name=name,
                group=_text(system.get("category")),
                status=STATUS.get(word_key(raw_status), ComponentStatus.unknown),
                raw_status=raw_status,
                description=_text(system.get("description")),
                position=position,
            ))
            for raw in as_list(system.get("unresolvedIssues")):
                if not isinstance(raw, dict):
                    continue
                issue = parse_issue(raw, name)
                seen = issues.get(issue.id)
                if seen is not None:
                    ids = list(dict.fromkeys([*seen.component_ids, *issue.component_ids]))
                    issue = seen.model_copy(update={"component_ids": ids})
                issues[issue.id] = issue

        raw_summary = _text(doc.get("summaryStatus"))
        return Snapshot(
            platform=self.platform,
            name=_text(doc.get("title")),
            url=_text(doc.get("baseURL")) or base_url,
            status=stated_or_worst(STATUS.get(word_key(raw_summary)), components),
            raw_status=raw_summary,
            description=_text(doc.get("description")),
            components=components,
            incidents=sorted(issues.values(), key=notice_sort_key),
        )


def parse_issue(raw: dict[str, Any], system: str) -> Incident:
    permalink = _text(raw.get("permalink"))
    title = _text(raw.get("title"))
    issue_id = _text(raw.get("filename")) or permalink or title or "unnamed"
    severity = _text(raw.get("severity"))
    resolved = raw.get("resolved") is True
    affected = [str(a).strip() for a in as_list(raw.get("affected")) if _text(a)]
    impact = Impact.none if raw.get("informational") is True else SEVERITY_IMPACT.get(word_key(severity), Impact.none)
    return Incident(
        id=issue_id,
        title=title or issue_id,
        status=IncidentStatus.resolved if resolved else IncidentStatus.investigating,
        raw_status="resolved" if resolved else None,
        impact=impact,
        raw_impact=severity,
        started_at=parse_time(_text(raw.get("createdAt"))),
        updated_at=parse_time(_text(raw.get("lastMod"))),
        resolved_at=parse_time(_text(raw.get("resolvedAt"))) if resolved else None,
        url=permalink,
        component_ids=list(dict.fromkeys([system, *affected])),
    )
