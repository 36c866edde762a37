"""The vendor-reported uptime read from a Statuspage page's embedded bar data (providers.statuspage_uptime).

Every capture in the corpus that draws uptime bars is read; the reader is held to three things the
page shows independently of it: the number of day rectangles drawn per component, the uptime figure
printed beside each bar, and the outages the PROVENANCE notes describe.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from aggregator.errors import ParseError
from providers.statuspage_uptime import read_uptime, uptime_endpoint
from tests.conftest import CORPUS, FIXTURES, corpus_file

UPTIME_CAPTURES = sorted(p.name for p in (CORPUS / "statuspage-html").glob("*uptime-bars*.html")) if CORPUS.is_dir() else []


def _page(name: str) -> bytes:
    return corpus_file("statuspage-html", name).read_bytes()


def _printed_percentages(text: str) -> dict[str, float]:
    return {code: float(value) for code, value in re.findall(r'id="uptime-percent-(\w+)">\s*([\d.]+)', text)}


def _drawn_days(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for code in re.findall(r'class="uptime-day component-(\w+) day-\d+"', text):
        counts[code] = counts.get(code, 0) + 1
    return counts


def test_the_corpus_has_the_three_uptime_captures(corpus_dir: Path) -> None:
    assert len(UPTIME_CAPTURES) == 3


@pytest.mark.parametrize("name", UPTIME_CAPTURES)
def test_every_bar_the_page_draws_is_read_with_its_days(name: str) -> None:
    body = _page(name)
    text = body.decode("utf-8")
    uptime = read_uptime(body)
    assert uptime is not None
    drawn = _drawn_days(text)
    # Every bar the page draws has data here with one day per rectangle (groups included).
    for code, rectangles in drawn.items():
        component = uptime.component(code)
        assert component is not None, code
        assert len(component.days) == rectangles == 90
        assert component.days_with_data == 90  # no capture has a startDate or a day without outages
        assert [d.day for d in component.days] == sorted(d.day for d in component.days)
        assert (component.days[-1].day - component.days[0].day).days == 89
    # The figure printed beside each bar is the one its data gives.
    printed = _printed_percentages(text)
    assert printed
    for code, percent in printed.items():
        component = uptime.component(code)
        assert component is not None
        assert component.uptime_percent() == percent, (code, component.name)


def test_postmates_one_day_of_outage_on_the_api() -> None:
    uptime = read_uptime(_page("postmates-status-2021-01-uptime-bars.html"))
    assert uptime is not None
    assert len(uptime.components) == 8
    assert (uptime.first_day, uptime.last_day) == (date(2020, 10, 25), date(2021, 1, 22))
    outage_days = [(c.name, d.day, d.partial_outage_seconds, d.major_outage_seconds)
                   for c in uptime.components for d in c.days if d.partial_outage_seconds or d.major_outage_seconds]
    assert outage_days == [("API", date(2020, 12, 11), 659, 373)]
    api = uptime.component("4qz19d0d5hzz")
    assert api is not None
    day = next(d for d in api.days if d.day == date(2020, 12, 11))
    assert round(day.partial_outage_minutes, 2) == 10.98
    assert round(day.major_outage_minutes, 2) == 6.22
    infrastructure = uptime.component("bklw9qv4x3bg")
    assert infrastructure is not None and infrastructure.is_group
    assert infrastructure.member_ids == ("c9nnztz3jblj", "mqgxhqmmwf32", "kf5d1rcqy9m3", "vnsf368hf63l")


def test_clickfunnels_outages_and_their_incidents() -> None:
    uptime = read_uptime(_page("clickfunnels-status-2021-01-partial-outage-uptime-bars.html"))
    assert uptime is not None
    assert [c.name for c in uptime.components] == ["App", "Funnel Pages", "API", "Domain Registration"]
    app = uptime.components[0]
    outages = {d.day: (d.partial_outage_seconds, d.major_outage_seconds, d.related_incident_ids)
               for d in app.days if d.partial_outage_seconds or d.major_outage_seconds}
    assert outages[date(2020, 10, 29)] == (0, 3259, ("6ybvbwjlw36r",))
    assert outages[date(2020, 12, 20)][:2] == (3006, 2249)
    assert len(outages) == 2
    assert (app.partial_outage_seconds, app.major_outage_seconds) == (3006, 3259 + 2249)
    assert uptime.components[1].partial_outage_seconds == 3855


def test_aquafadas_a_whole_day_of_partial_outage() -> None:
    uptime = read_uptime(_page("aquafadas-status-2021-01-incident-uptime-bars.html"))
    assert uptime is not None
    assert len(uptime.components) == 9
    assert sum(c.is_group for c in uptime.components) == 3
    cloud_connect = uptime.component("7g1fbtbbrt25")
    assert cloud_connect is not None and cloud_connect.name == "CloudConnect"
    partial = {d.day: d.partial_outage_seconds for d in cloud_connect.days if d.partial_outage_seconds}
    assert partial == {date(2020, 11, 22): 7944, date(2020, 12, 2): 30639, date(2020, 12, 3): 86400,
                       date(2020, 12, 4): 30555}
    assert cloud_connect.major_outage_seconds == 0


@pytest.mark.parametrize("name", ["python-infra-status-2021-01-unresolved-incident.html",
                                  "scalepoint-status-2021-01-maintenances.html", "zoom-status-2021-01.html",
                                  "page-inactive-2021-01.html"])
def test_pages_without_bars_have_no_vendor_uptime(name: str) -> None:
    assert read_uptime(_page(name)) is None


def test_the_newer_embed_start_dates_and_days_without_data() -> None:
    body = (FIXTURES / "statuspage-html" / "courier-uptime-bars-window-assignment.html").read_bytes()
    uptime = read_uptime(body)
    assert uptime is not None
    assert [c.id for c in uptime.components] == ["cour0api0001", "cour0snd0002", "cour0grp0000"]
    api, send, group = uptime.components
    assert api.days_with_data == 90
    assert (api.partial_outage_seconds, api.major_outage_seconds) == (1800, 600)
    assert api.uptime_percent() == 99.98  # 1 - (600 + 0.3 * 1800) / (90 * 86400) = 99.9853%, floored
    # Send pipeline started on 2026-11-01: the 57 days before are no data, whatever the bar's colour.
    assert send.start_date == date(2026, 11, 1)
    assert send.days_with_data == 90 - 57
    assert all(not d.has_data for d in send.days if d.day < date(2026, 11, 1))
    assert send.uptime_percent() == 99.94  # 1 - 0.3 * 5400 / (33 * 86400) = 99.943%, floored
    # The group's two days without an outages object are no data too.
    assert group.is_group and group.member_ids == ("cour0snd0002", "cour0unk9999")
    assert [d.day for d in group.days if not d.has_data] == [date(2026, 9, 5), date(2026, 9, 6)]


def test_a_page_of_nothing_but_no_data_has_no_figure() -> None:
    body = b'<script>var uptimeData = {"a": {"component": {"code": "a", "name": "A", "startDate": "2030-01-01"},' \
           b' "days": [{"date": "2029-12-31", "outages": {"m": 60}}]}};</script>'
    uptime = read_uptime(body)
    assert uptime is not None
    assert uptime.components[0].days_with_data == 0
    assert uptime.components[0].uptime_percent() is None


def test_the_alias_line_alone_is_not_data() -> None:
    assert read_uptime(b"<script>var uptimeData = window.uptimeData;</script>") is None


@pytest.mark.parametrize("body", [
    b"<script>var uptimeData = {\"a\": {\"days\": [}};</script>",
    b"<script>var uptimeData = {\"a\": {\"component\": {}, \"days\": {}}};</script>",
    b"<script>var uptimeData = {\"a\": {\"days\": [{\"date\": \"soon\", \"outages\": {}}]}};</script>",
    b"<script>var uptimeData = {\"a\": {\"days\": [7]}};</script>",
])
def test_broken_data_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        read_uptime(body)


def test_the_uptime_is_read_from_the_home_page() -> None:
    endpoint = uptime_endpoint("https://www.intercomstatus.com/us-hosting?x=1")
    assert (endpoint.key, endpoint.url, endpoint.required) == ("page", "https://www.intercomstatus.com/us-hosting/", False)
    assert "text/html" in endpoint.accept
