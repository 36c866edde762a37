"""What the monitor-first platforms (Uptime Kuma, UptimeRobot, Gatus) share: a page that is a list
of monitors, each up or down, with no overall word of its own.

Such a page's overall state is read the way those platforms' own pages show it: every monitor down
is a major outage, some down a partial outage, otherwise the worst of the rest (maintenance,
degraded). A monitor of unknown state (paused, no check yet) never masks the others.
"""

from __future__ import annotations

from collections.abc import Iterable

from aggregator.page.vocab import ComponentStatus, worst_status


def monitor_page_status(statuses: Iterable[ComponentStatus]) -> ComponentStatus:
    """The overall state of a page of monitors (unknown when no monitor's state is known)."""
    known = [s for s in statuses if s is not ComponentStatus.unknown]
    if not known:
        return ComponentStatus.unknown
    down = sum(1 for s in known if s is ComponentStatus.major_outage)
    if down == len(known):
        return ComponentStatus.major_outage
    if down:
        return ComponentStatus.partial_outage
    return worst_status(known)
