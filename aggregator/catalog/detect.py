"""Which platform serves a status-page URL: a sans-I/O core and a thin async driver.

The core (``Detector``) is pure: it says which URLs it wants (``next_probes``), is handed the
responses (``feed``) and finally tells what it concluded (``result``). The order is cheap: the
page HTML and ``/api/v2/summary.json`` are fetched together first (that pair settles Statuspage,
incident.io and Instatus pages, most of the web), then only the probes that the HTML, the host
or the lack of any hint call for.

A 200 proves nothing by itself: single-page apps answer 200 with the same shell on every path,
so a JSON probe counts only when the document has the platform's *shape*, and HTML hints are
confirmed by a probe where the platform has a public JSON endpoint.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from aggregator.errors import AdapterError
from aggregator.page.reading import decode_text, load_json, looks_like_html


class Verdict(StrEnum):
    ok = "ok"
    login_required = "login_required"
    page_inactive = "page_inactive"
    not_status_page = "not_status_page"
    unreachable = "unreachable"
    moved = "moved"
    unclaimed = "unclaimed"  # a hosting platform's placeholder for a subdomain nobody claimed


@dataclass(slots=True)
class Response:
    """One captured HTTP response, as the core reads it (``aggregator.http.FetchResult`` fits)."""

    url: str
    status: int | None = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    final_url: str | None = None
    error: str | None = None

    @classmethod
    def of(cls, fetched: Any) -> Response:
        return cls(url=fetched.url, status=fetched.status, body=fetched.body or b"",
                   headers={k.lower(): v for k, v in (fetched.headers or {}).items()},
                   final_url=fetched.final_url, error=fetched.error)

    @property
    def answered(self) -> bool:
        """The server answered (any status): as opposed to DNS, connection or timeout failures."""
        return self.status is not None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def where(self) -> str:
        return self.final_url or self.url


@dataclass(slots=True)
class Detection:
    url: str
    verdict: Verdict
    platform: str | None = None
    base_url: str | None = None
    api_url: str | None = None
    feed_url: str | None = None
    page_id: str | None = None
    name: str | None = None
    moved_to: str | None = None
    reasons: list[str] = field(default_factory=list)
    # Set when nothing answered at all (DNS, connection, timeout, TLS): the error both probes met.
    network_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        return data


@dataclass(frozen=True, slots=True)
class Probe:
    key: str
    url: str
    accept: str = "application/json"


@dataclass(frozen=True, slots=True)
class ApiRoots:
    """Platform APIs that live on a host of their own (overridable so tests stay on 127.0.0.1)."""

    statusio: str = "https://api.status.io/1.0/status/"
    statuspal: str = "https://statuspal.io/api/v2/status_pages/"
    openstatus: str = "https://api.openstatus.dev/public/status/"


HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FEED_ACCEPT = "application/atom+xml,application/rss+xml,application/xml;q=0.9,*/*;q=0.5"

STATUSPAGE_ID_RE = re.compile(r"[0-9a-z]{12}")
ULID_RE = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
INSTATUS_PAGE_STATES = {"UP", "HASISSUES", "UNDERMAINTENANCE"}
SORRY_STATES = {"operational", "degraded", "under_maintenance", "partially_degraded"}
# Input URLs that name an API document rather than the page: detection starts from the page.
_API_SUFFIX_RE = re.compile(r"/(api/v2/[\w./-]*\.json|summary\.json|index\.json|api/v1/status)$", re.I)


# ------------------------------------------------------------------------------------------------
# Host rules
# ------------------------------------------------------------------------------------------------

def _host_is(host: str, *domains: str) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def host_platform(url: str) -> str | None:
    """The platform a host (and path) belongs to when that alone settles it, else None."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    path = parts.path.lower()
    if host.endswith(".statuspage.io"):
        return "statuspage"
    if host.endswith(".instatus.com"):
        return "instatus"
    if host.endswith((".betteruptime.com", ".betterstack.com")):
        return "betterstack"
    if host.endswith(".hund.io"):
        return "hund"
    if host.endswith((".statuspal.io", ".statuspal.eu")):
        return "statuspal"
    if host.endswith(".status.io") and host != "api.status.io":
        return "statusio"
    if host.endswith(".openstatus.dev"):
        return "openstatus"
    if host.endswith(".statusiq.com") or host == "status.site24x7.com":
        return "statusiq"
    if host.endswith(".sorryapp.com"):
        return "sorry"
    if host.endswith(".statushub.io"):
        return "statushub"
    if host in {"status.cloud.google.com", "status.firebase.google.com", "status.play.google.com"} or (
            host == "www.google.com" and path.startswith("/appsstatus")):
        return "gcp"
    if host in {"health.aws.amazon.com", "status.aws.amazon.com"}:
        return "aws"
    if _host_is(host, "azure.status.microsoft") or host == "status.azure.com":
        return "azure"
    if host in {"slack-status.com", "status.slack.com", "www.slack-status.com"}:
        return "slack"
    if host == "status.heroku.com":
        return "heroku"
    if host in {"status.salesforce.com", "api.status.salesforce.com"} or (
            host == "trust.salesforce.com" and not path.startswith("/en/trust-and-compliance")):
        return "salesforce"
    if (host == "www.apple.com" and "/support/systemstatus" in path) or (
            host == "developer.apple.com" and path.startswith("/system-status")):
        return "apple"
    if host == "status.stripe.com":
        return "stripe"
    return monitor_host_platform(host, path)


BESPOKE = {"gcp", "aws", "azure", "slack", "heroku", "salesforce", "apple", "stripe"}


def same_site(a: str, b: str) -> bool:
    """Same host and port, ignoring scheme and a leading ``www.``."""
    pa, pb = urlsplit(a), urlsplit(b)

    def key(p: Any) -> tuple[str, int | None]:
        host = (p.hostname or "").lower().rstrip(".")
        host = host[4:] if host.startswith("www.") else host
        port = p.port
        if port in (80, 443):
            port = None
        return host, port

    return key(pa) == key(pb)


def page_base(url: str) -> str:
    """``https://x/a/b/?q#f`` -> ``https://x/a/b``: the root the platform's paths hang from."""
    parts = urlsplit(url.strip())
    path = _API_SUFFIX_RE.sub("", parts.path.rstrip("/")).rstrip("/")
    return urlunsplit((parts.scheme.lower() or "https", parts.netloc.lower(), path, "", ""))


def under(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path.lstrip('/')}"


# ------------------------------------------------------------------------------------------------
# Reading one response
# ------------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Finding:
    """A platform proven by a document's shape."""

    platform: str
    reason: str
    page_id: str | None = None
    name: str | None = None
    canonical: str | None = None
    api_url: str | None = None


def json_doc(resp: Response | None) -> Any:
    """The response's JSON document, or None (HTML shells, errors and garbage are not documents)."""
    if resp is None or not resp.ok or not resp.body or looks_like_html(resp.body):
        return None
    try:
        return load_json(resp.body)
    except AdapterError:
        return None


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_json_shape(doc: Any, where: str) -> Finding | None:
    """Name the platform whose public JSON ``doc`` is, from its shape alone."""
    if found := read_monitor_shape(doc, where):
        return found
    if not isinstance(doc, dict):
        return None
    page = doc.get("page")
    if isinstance(page, dict):
        state = page.get("status")
        if isinstance(state, str) and state in INSTATUS_PAGE_STATES:
            return Finding("instatus", f"{where} has page.status {state!r} (Instatus)",
                           name=_str(page.get("name")), canonical=_str(page.get("url")))
        if "activeIncidents" in doc or "activeMaintenances" in doc:
            return Finding("instatus", f"{where} has activeIncidents/activeMaintenances (Instatus)",
                           name=_str(page.get("name")), canonical=_str(page.get("url")))
        page_id = _str(page.get("id"))
        status = doc.get("status")
        has_indicator = isinstance(status, dict) and "indicator" in status
        if page_id and (has_indicator or isinstance(doc.get("components"), list)):
            common = {"page_id": page_id, "name": _str(page.get("name")), "canonical": _str(page.get("url"))}
            if STATUSPAGE_ID_RE.fullmatch(page_id):
                return Finding("statuspage", f"{where} has a Statuspage page id {page_id!r}", **common)
            if ULID_RE.fullmatch(page_id):
                return Finding("incidentio", f"{where} has a ULID page id {page_id!r} (incident.io)", **common)
            return Finding("statuspage", f"{where} is Statuspage-compatible (page id {page_id!r} is neither "
                                         "a Statuspage id nor a ULID)", **common)
        state = page.get("state")
        if isinstance(state, str) and state in SORRY_STATES:
            return Finding("sorry", f"{where} has page.state {state!r} (Sorry)", name=_str(page.get("name")),
                           canonical=_str(page.get("url")))
    data = doc.get("data")
    if isinstance(data, dict) and data.get("type") == "status_page":
        attrs = data.get("attributes") if isinstance(data.get("attributes"), dict) else {}
        domain = _str(attrs.get("custom_domain"))
        sub = _str(attrs.get("subdomain"))
        canonical = f"https://{domain}" if domain else (f"https://{sub}.betteruptime.com" if sub else None)
        return Finding("betterstack", f"{where} is a JSON:API status_page document (Better Stack)",
                       page_id=_str(data.get("id")), name=_str(attrs.get("company_name")), canonical=canonical)
    if "cStateVersion" in doc and isinstance(doc.get("systems"), list):
        return Finding("cstate", f"{where} has cStateVersion and systems (cState)", name=_str(doc.get("title")),
                       canonical=_str(doc.get("baseURL")))
    result = doc.get("result")
    if isinstance(result, dict) and isinstance(result.get("status_overall"), dict):
        return Finding("statusio", f"{where} has result.status_overall (status.io)")
    meta = doc.get("meta")
    if isinstance(doc.get("data"), list) and (isinstance(meta, dict) and "pagination" in meta or meta == []):
        return Finding("cachet", f"{where} is a Cachet API list (data + meta.pagination)")
    if isinstance(doc.get("counters"), dict) and any(k.startswith("count_status") for k in doc["counters"]):
        return Finding("statushub", f"{where} has counters.count_status_* (StatusHub)")
    if isinstance(doc.get("status_page"), dict) and isinstance(doc.get("services"), list):
        sp = doc["status_page"]
        return Finding("statuspal", f"{where} has status_page and services (Statuspal)", name=_str(sp.get("name")),
                       canonical=_str(sp.get("url")))
    if set(doc) == {"status"} and doc["status"] in {"operational", "degraded_performance", "partial_outage",
                                                      "major_outage", "under_maintenance", "unknown"}:
        return Finding("openstatus", f"{where} is an OpenStatus public status document")
    data = doc.get("data")
    if isinstance(data, dict) and isinstance(data.get("current_status"), list):
        return Finding("statusiq", f"{where} has data.current_status (Site24x7 StatusIQ)")
    return None


_FEED_HEAD_RE = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(rss|feed|rdf:RDF)\b", re.S | re.I)


def is_feed(body: bytes) -> bool:
    return bool(_FEED_HEAD_RE.match(body[:2000]))


@dataclass(slots=True)
class FeedFacts:
    title: str | None
    link: str | None
    generator: str | None


def read_feed(body: bytes) -> FeedFacts:
    text = decode_text(body[:200_000])
    title = re.search(r"<title[^>]*>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</title>", text, re.S | re.I)
    link = (re.search(r"<link[^>]*rel=[\"']alternate[\"'][^>]*href=[\"']([^\"']+)", text, re.I)
            or re.search(r"<link>\s*([^<\s]+)\s*</link>", text, re.I))
    generator = re.search(r"<generator[^>]*>(.*?)</generator>", text, re.S | re.I)
    return FeedFacts(title=html_lib.unescape(title.group(1).strip()) if title else None,
                     link=html_lib.unescape(link.group(1)) if link else None,
                     generator=generator.group(1).strip() if generator else None)


# ------------------------------------------------------------------------------------------------
# Monitor-first platforms: Uptime Kuma, UptimeRobot, Uptime.com, Gatus (issue 20)
# ------------------------------------------------------------------------------------------------

MONITOR_PLATFORMS = ("uptimekuma", "uptimerobot", "uptimecom", "gatus")
MONITOR_HTML_HINTS: dict[str, list[tuple[re.Pattern[str], str]]] = {
    "uptimekuma": [
        (re.compile(r"window\.preloadData\s*="), "Uptime Kuma preloaded status-page data"),
        (re.compile(r"/api/status-page/[^\"'/]+/manifest\.json"), "Uptime Kuma status-page manifest"),
        (re.compile(r"powered by\s*(<[^>]+>\s*)*uptime[ -]?kuma", re.I), "'Powered by Uptime Kuma'"),
    ],
    "uptimerobot": [
        (re.compile(r"uptimerobot\.com", re.I), "UptimeRobot page"),
        (re.compile(r"pspApiPath|/api/getMonitorList/"), "UptimeRobot monitor-list API path"),
    ],
    "uptimecom": [
        (re.compile(r"powered by\s*(<[^>]+>\s*)*uptime\.com|uptime\.com/statuspage", re.I), "Uptime.com status page"),
    ],
    "gatus": [
        # Not any mention (a blog post about Gatus is not a Gatus page): its title or its repository.
        (re.compile(r"<title[^>]*>[^<]*\bgatus\b|github\.com/twin/gatus", re.I), "Gatus title or repository link"),
        (re.compile(r"window\.config\s*=\s*\{[^}]*maximumNumberOfResults"), "Gatus dashboard config"),
    ],
}
# The probe each platform answers, with the shape that proves it (see read_monitor_shape).
GATUS_STATUSES = "api/v1/endpoints/statuses?page=1&pageSize=1"
_KUMA_PATH_RE = re.compile(r"^(.*?)/status/([A-Za-z0-9_-]+)/?$")
_KUMA_SLUG_RE = re.compile(r"preloadData\s*=\s*\{.{0,400}?['\"]slug['\"]\s*:\s*['\"]([A-Za-z0-9_-]+)['\"]", re.S)
_ROBOT_KEY_RES = (
    re.compile(r"pspApiPath\W{1,6}(?:[^'\"]*/)?api/getMonitorList/([A-Za-z0-9_-]{3,64})"),
    re.compile(r"/api/getMonitorList/([A-Za-z0-9_-]{3,64})"),
    re.compile(r"stats\.uptimerobot\.com/(?!api\b|assets\b)([A-Za-z0-9_-]{5,64})\b"),
)


def monitor_host_platform(host: str, path: str) -> str | None:
    """Host rules of the monitor-first platforms (the others' are in ``host_platform``)."""
    if host == "stats.uptimerobot.com" and path.strip("/") and not path.startswith("/api/"):
        return "uptimerobot"
    if _host_is(host, "uptime.com") and path.startswith("/statuspage/"):
        return "uptimecom"
    return None


def monitor_page_ids(text: str, hints: Mapping[str, list[str]]) -> tuple[str | None, str | None]:
    """(Kuma slug, UptimeRobot page key) named by a page's HTML."""
    slug = key = None
    if "uptimekuma" in hints and (m := _KUMA_SLUG_RE.search(text)):
        slug = m.group(1).lower()
    if "uptimerobot" in hints:
        key = next((m.group(1) for pattern in _ROBOT_KEY_RES if (m := pattern.search(text))), None)
    return slug, key


def _root_and_kuma_slug(base: str, facts: HtmlFacts | None) -> tuple[str, str | None]:
    parts = urlsplit(base)
    if m := _KUMA_PATH_RE.match(parts.path):
        return urlunsplit((parts.scheme, parts.netloc, m.group(1), "", "")), m.group(2).lower()
    return base, facts.kuma_slug if facts else None


def monitor_probes(platform: str, base: str, facts: HtmlFacts | None) -> dict[str, str]:
    """The probe (key -> URL) that confirms ``platform`` for the page at ``base``, if it has one."""
    if platform == "uptimekuma":
        root, slug = _root_and_kuma_slug(base, facts)
        return {"uptimekuma": under(root, f"api/status-page/{slug}")} if slug else {}
    if platform == "uptimerobot":
        host = (urlsplit(base).hostname or "").lower()
        key = facts.uptimerobot_key if facts else None
        if key is None and host == "stats.uptimerobot.com":
            key = urlsplit(base).path.strip("/").split("/")[-1] or None
        return {"uptimerobot": under(site_of(base), f"api/getMonitorList/{key}?page=1")} if key else {}
    if platform == "uptimecom":
        return {"uptimecom": under(base, "ajax")}
    if platform == "gatus":
        return {"gatus": under(base, GATUS_STATUSES)}
    return {}


def read_monitor_shape(doc: Any, where: str) -> Finding | None:
    """The monitor-first platforms' public JSON, by shape (``read_json_shape`` asks this first)."""
    if isinstance(doc, list):
        if doc and all(isinstance(e, dict) and "key" in e and isinstance(e.get("results"), list) for e in doc):
            return Finding("gatus", f"{where} is a list of endpoint statuses with key and results (Gatus)")
        return None
    if not isinstance(doc, dict):
        return None
    config = doc.get("config")
    if isinstance(config, dict) and isinstance(doc.get("publicGroupList"), list):
        slug = _str(config.get("slug"))
        return Finding("uptimekuma", f"{where} has config.slug {slug!r} and publicGroupList (Uptime Kuma)",
                       page_id=slug, name=_str(config.get("title")))
    psp = doc.get("psp")
    if isinstance(psp, dict) and isinstance(psp.get("monitors"), list):
        return Finding("uptimerobot", f"{where} has psp.monitors (UptimeRobot)")
    data = doc.get("data")
    if isinstance(data, dict) and isinstance(data.get("components"), list) and "global_is_operational" in data:
        return Finding("uptimecom", f"{where} has data.components and data.global_is_operational (Uptime.com)",
                       page_id=_str(data.get("slug")), name=_str(data.get("name")))
    return None


def monitor_api_url(platform: str, base: str, page_id: str | None) -> str | None:
    """Where a monitor-first platform's current state lives, for ``api_url_for``."""
    if platform == "uptimekuma":
        root, slug = _root_and_kuma_slug(base, None)
        slug = slug or page_id
        return under(root, f"api/status-page/{slug}") if slug else None
    if platform == "uptimerobot":
        return monitor_probes(platform, base, None).get("uptimerobot") or (
            under(site_of(base), f"api/getMonitorList/{page_id}?page=1") if page_id else None)
    if platform in {"uptimecom", "gatus"}:
        return monitor_probes(platform, base, None)[platform]
    return None


# ------------------------------------------------------------------------------------------------
# Reading the page HTML
# ------------------------------------------------------------------------------------------------

# platform -> (pattern, what it is); several hits make a stronger case, the reasons list them.
HTML_HINTS: dict[str, list[tuple[re.Pattern[str], str]]] = {
    "statuspage": [
        (re.compile(r"dka575ofm4ao0\.cloudfront\.net"), "Statuspage asset CDN"),
        (re.compile(r"powered by\s*(<[^>]+>\s*)*(atlassian\s+)?statuspage", re.I), "'Powered by Statuspage'"),
        (re.compile(r"[?&;]host=[0-9a-z-]+\.statuspage\.io"), "assets for a *.statuspage.io host"),
        (re.compile(r"data-component-status=|component-inner-container"), "Statuspage component markup"),
        (re.compile(r"class=\"[^\"]*page-status status-(none|minor|major|critical|maintenance)"),
         "Statuspage page-status markup"),
    ],
    "incidentio": [
        (re.compile(r"powered by\s*(<[^>]+>\s*)*incident\.io", re.I), "'Powered by incident.io'"),
        (re.compile(r"incident-io-status-page|status-page-logos|incident\.io/status-pages", re.I),
         "incident.io status-page assets"),
        (re.compile(r"text-icon-(operational|degraded-performance|partial-outage|full-outage)"),
         "incident.io status icons"),
    ],
    "instatus": [
        (re.compile(r"powered by\s*(<[^>]+>\s*)*instatus", re.I), "'Powered by Instatus'"),
        (re.compile(r"instatus\.com|instatus-cdn", re.I), "Instatus assets"),
    ],
    "betterstack": [
        (re.compile(r"status-page__overview|text-statuspage-(green|yellow|red|blue)"), "Better Stack page markup"),
        (re.compile(r"betteruptime\.com|powered by\s*(<[^>]+>\s*)*better (stack|uptime)", re.I),
         "Better Stack / Better Uptime mention"),
    ],
    "statusio": [
        (re.compile(r"api\.status\.io/1\.0/status/[0-9a-f]{24}|cdn\.status\.io|powered by\s*(<[^>]+>\s*)*status\.io",
                    re.I), "status.io API or assets"),
        (re.compile(r"id=\"statusbar_text\"|class=\"component_name\""), "status.io page markup"),
    ],
    "statuspal": [(re.compile(r"statuspal\.(io|eu)", re.I), "Statuspal mention")],
    "statusiq": [(re.compile(r"enc_statuspage_id|statusiq", re.I), "StatusIQ page id / assets")],
    "hund": [(re.compile(r"hund\.io|/live/v2/status_page", re.I), "Hund assets or live endpoint")],
    "openstatus": [(re.compile(r"openstatus\.dev|powered by\s*(<[^>]+>\s*)*openstatus", re.I), "OpenStatus mention")],
    "cstate": [(re.compile(r"cstate", re.I), "cState mention")],
    "cachet": [(re.compile(r"powered by\s*(<[^>]+>\s*)*cachet|cachethq", re.I), "Cachet mention")],
    "sorry": [(re.compile(r"sorryapp\.com", re.I), "Sorry assets")],
    "statushub": [(re.compile(r"statushub\.(io|com)", re.I), "StatusHub mention")],
    **MONITOR_HTML_HINTS,
    # No adapter of their own: these are read as generic HTML, but say so.
    "statuscast": [(re.compile(r"status-list-component-status-text|statuscast", re.I), "StatusCast page markup")],
}
# Platforms named by HTML hints that have no adapter: they are read by the generic HTML one
# (and an UptimeRobot page whose page key the HTML does not give: see ``_best_hint``).
HTML_ONLY = {"statuscast"}

_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_LINK_RE = re.compile(r"<link\b[^>]*>", re.I)
_ATTR_RE = re.compile(r"([\w:-]+)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)")
_STATUSPAGE_HOST_RE = re.compile(r"\b([0-9a-z]{12})\.statuspage\.io")
_STATUSIO_ID_RES = (
    re.compile(r"api\.status\.io/1\.0/status/([0-9a-f]{24})"),
    re.compile(r"/pages/(?:history/)?([0-9a-f]{24})(?:/rss|/feed|\b)"),
    re.compile(r"statuspage_id\W{1,6}([0-9a-f]{24})\b"),
)
_STATUSIQ_ID_RE = re.compile(r"enc_statuspage_id\W{1,6}([0-9A-Za-z_-]{8,})")
_PASSWORD_RE = re.compile(r"<input\b[^>]*type=[\"']?password", re.I)
_STATUS_WORDS = ("operational", "outage", "degraded", "incident", "maintenance", "uptime", "all systems",
                 "service status", "system status")


@dataclass(slots=True)
class HtmlFacts:
    title: str = ""
    canonical: str | None = None
    feeds: list[str] = field(default_factory=list)
    hints: dict[str, list[str]] = field(default_factory=dict)
    statuspage_id: str | None = None
    statusio_id: str | None = None
    statusiq_id: str | None = None
    inactive: bool = False
    login_title: bool = False
    login_form: bool = False
    status_words: int = 0
    # Elements whose whole text is a component state ("Operational", "Partial outage"): the positive
    # evidence of components a generic status page must show (a marketing page uses the words in prose).
    component_states: int = 0
    # The hosting platform's own marketing page, served for an unclaimed subdomain (why we think so).
    platform_placeholder: str | None = None
    name: str | None = None
    kuma_slug: str | None = None
    uptimerobot_key: str | None = None


def _attrs(tag: str) -> dict[str, str]:
    return {k.lower(): html_lib.unescape(v.strip("\"'")) for k, v in _ATTR_RE.findall(tag)}


def _page_name(title: str) -> str | None:
    name = re.sub(r"\s*[-|–]\s*(page inactive|login|log in|sign in)\s*$", "", title, flags=re.I)
    name = re.sub(r"\s+(status(\s+page)?|system status)\s*$", "", name, flags=re.I).strip(" -|–")
    return name or None


def read_html(body: bytes, where: str) -> HtmlFacts:
    text = decode_text(body[:2_000_000])
    facts = HtmlFacts()
    if m := _TITLE_RE.search(text):
        facts.title = re.sub(r"\s+", " ", html_lib.unescape(m.group(1))).strip()
    facts.name = _page_name(facts.title)
    for tag in _LINK_RE.findall(text):
        attrs = _attrs(tag)
        rel = attrs.get("rel", "").lower().split()
        href = attrs.get("href")
        if not href:
            continue
        if "canonical" in rel and facts.canonical is None:
            facts.canonical = urljoin(where, href)
        if "alternate" in rel and attrs.get("type", "").lower() in {"application/rss+xml", "application/atom+xml"}:
            feed = urljoin(where, href)
            if feed not in facts.feeds:
                facts.feeds.append(feed)
    for platform, patterns in HTML_HINTS.items():
        found = [what for pattern, what in patterns if pattern.search(text)]
        if found:
            facts.hints[platform] = found
    if m := _STATUSPAGE_HOST_RE.search(text):
        facts.statuspage_id = m.group(1)
    if "status.io" in text or "statusio" in facts.hints:
        for pattern in _STATUSIO_ID_RES:
            if m := pattern.search(text):
                facts.statusio_id = m.group(1)
                break
        if facts.statusio_id and "statusio" not in facts.hints:
            facts.hints["statusio"] = [f"status.io page id {facts.statusio_id}"]
    if m := _STATUSIQ_ID_RE.search(text):
        facts.statusiq_id = m.group(1)
    facts.kuma_slug, facts.uptimerobot_key = monitor_page_ids(text, facts.hints)
    low_title = facts.title.lower()
    facts.inactive = "page inactive" in low_title or "this page is currently inactive" in text.lower()
    facts.login_title = bool(re.search(r"(^|[-|–:]\s*)(login|log in|sign in)\b", low_title))
    facts.login_form = bool(_PASSWORD_RE.search(text)) and not facts.hints
    visible = re.sub(r"<(script|style)\b.*?</\1>", " ", text[:500_000], flags=re.S | re.I).lower()
    facts.status_words = sum(1 for w in _STATUS_WORDS if w in visible)
    facts.component_states = len(_COMPONENT_STATE_RE.findall(visible))
    facts.platform_placeholder = _placeholder(facts, text)
    return facts


_COMPONENT_STATE_RE = re.compile(r">\s*(operational|degraded(?: performance)?|partial(?:ly)? (?:outage|degraded)|"
                                 r"major outage|full outage|outage|under maintenance|maintenance|up|down|online|"
                                 r"offline|ok|healthy|unhealthy|no issues|all good)\s*<")
# What hosting platforms serve for a subdomain nobody claimed: their own marketing page.
_PLACEHOLDER_TITLES = (
    (re.compile(r"^statuspage\s*\|\s*atlassian$", re.I), "Atlassian's Statuspage marketing page"),
    (re.compile(r"^instatus\b.*(status page|downtime)", re.I), "Instatus' marketing page"),
)
_PLACEHOLDER_CANONICAL = re.compile(r"^https?://(www\.)?(atlassian\.com/([a-z]{2}(-[a-z]+)?/)?software/statuspage|statuspage\.io|"
                                    r"instatus\.com)/?$", re.I)


def _placeholder(facts: HtmlFacts, text: str) -> str | None:
    for pattern, what in _PLACEHOLDER_TITLES:
        if pattern.search(facts.title):
            return f"{what} (title {facts.title!r})"
    if facts.canonical and _PLACEHOLDER_CANONICAL.match(facts.canonical) and not facts.hints:
        return f"a hosting platform's own page (canonical {facts.canonical})"
    return None


# Where an unclaimed subdomain of a hosting platform is sent: the platform's home or marketing page.
_PLACEHOLDER_FINAL_RE = re.compile(r"^https?://(www\.)?(atlassian\.com/([a-z]{2}(-[a-z]+)?/)?software/statuspage|statuspage\.io|"
                                   r"instatus\.com)/?(\?.*)?$", re.I)
_LOGIN_PATH_RE = re.compile(r"/(login|log-in|signin|sign-in|sso|auth/login|users/sign_in|access)(/|$|\?)", re.I)


# ------------------------------------------------------------------------------------------------
# The detector
# ------------------------------------------------------------------------------------------------

# Order in which platforms suggested by HTML or host are tried when several are.
CANDIDATE_ORDER = ("statuspage", "incidentio", "instatus", "betterstack", "statusio", "sorry", "statuspal",
                   "statusiq", "openstatus", "cachet", "statushub", "hund", "cstate", *MONITOR_PLATFORMS,
                   "statuscast")


_CONTROL_OR_SPACE = re.compile(r"[\s\x00-\x1f\x7f]")


class Detector:
    """``while probes := d.next_probes(): d.feed(key, response) ...; d.result()``: no I/O inside."""

    def __init__(self, url: str, apis: ApiRoots | None = None) -> None:
        url = url.strip()
        if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
            url = "https://" + url
        parts = urlsplit(url)  # which drops tabs and line breaks: refuse them first
        if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or _CONTROL_OR_SPACE.search(url):
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url = url
        self.base = page_base(url)
        self.apis = apis or ApiRoots()
        self.responses: dict[str, Response] = {}
        self.probes: dict[str, Probe] = {}
        self.reasons: list[str] = []
        self.moved_to: str | None = None
        self.html: HtmlFacts | None = None
        self.candidates: list[str] = []
        self._stage = 0
        self._result: Detection | None = None

    # --- the protocol ------------------------------------------------------------------------
    def next_probes(self) -> list[Probe]:
        """The probes to fetch now (concurrently); empty once the result is known."""
        while self._result is None:
            pending = [p for p in self.probes.values() if p.key not in self.responses]
            if pending:
                return pending
            self._advance()
        return []

    def feed(self, key: str, response: Response) -> None:
        if key not in self.probes:
            raise KeyError(f"no probe {key!r} was asked for")
        self.responses[key] = response

    def result(self) -> Detection:
        while self._result is None:
            if self.next_probes():
                raise RuntimeError("detection is not finished: probes are still unanswered")
        return self._result

    # --- steps -------------------------------------------------------------------------------
    def _ask(self, key: str, url: str, accept: str = "application/json") -> None:
        if key not in self.probes:
            self.probes[key] = Probe(key, url, accept)

    def _advance(self) -> None:
        stage, self._stage = self._stage, self._stage + 1
        if stage == 0:
            self._ask("page", self.url, HTML_ACCEPT)
            self._ask("summary", under(self.base, "api/v2/summary.json"))
        elif stage == 1:
            self._after_first_round()
        elif stage == 2:
            self._after_candidates()
        else:
            self._after_feed()

    def _after_first_round(self) -> None:
        page, summary = self.responses["page"], self.responses["summary"]
        if page.answered and _PLACEHOLDER_FINAL_RE.match(page.where) and not same_site(self.url, page.where):
            self._finish(Verdict.unclaimed, host_platform(self.url),
                         reason=f"{self.url} redirects to {page.where}, where a hosting platform sends "
                                "subdomains nobody claimed")
            return
        if page.answered and not same_site(self.url, page.where):
            self.moved_to = page_base(page.where)
            self.base = self.moved_to
            self.reasons.append(f"{self.url} redirects to another host: {page.where}")
        if not page.answered and not summary.answered:
            detection = self._finish(Verdict.unreachable,
                                     reason=f"the page did not answer ({page.error or 'no response'})")
            detection.network_error = page.error or "no response"
            return
        where_path = urlsplit(page.where).path.lower() if page.answered else ""
        if page.answered and where_path.rstrip("/").endswith("/inactive") and not urlsplit(
                self.url).path.rstrip("/").endswith("/inactive"):
            self._finish(Verdict.page_inactive, host_platform(self.url),
                         reason=f"the page redirects to {page.where} (an inactive page)")
            return
        if page.answered and _LOGIN_PATH_RE.search(urlsplit(page.where).path + "?") and not _LOGIN_PATH_RE.search(
                urlsplit(self.url).path + "?"):
            self._finish(Verdict.login_required, host_platform(self.url),
                         reason=f"the page redirects to a login screen ({page.where})")
            return
        host_rule = host_platform(page.where if page.answered else self.url) or host_platform(self.url)
        if page.ok and host_rule in BESPOKE:
            self._finish(Verdict.ok, host_rule, reason=f"host rule: {urlsplit(page.where).hostname} is {host_rule}")
            return
        if page.ok and is_feed(page.body):
            self._finish_feed(page)
            return
        if page.ok and (looks_like_html(page.body) or b"<html" in page.body[:4000].lower()):
            self.html = read_html(page.body, page.where)
        facts = self.html
        if facts is not None and facts.platform_placeholder:
            self._finish(Verdict.unclaimed, host_platform(self.url),
                         reason=f"the page is {facts.platform_placeholder}: what a hosting platform serves for a "
                                "subdomain nobody claimed, not a vendor's status page")
            return
        if facts is not None and facts.inactive:
            self._finish(Verdict.page_inactive, host_rule or self._best_hint(),
                         reason=f"the page says it is inactive (title {facts.title!r})")
            return
        if facts is not None and facts.login_title:
            self._finish(Verdict.login_required, host_rule or self._best_hint(),
                         reason=f"the page is a login screen (title {facts.title!r})")
            return
        found = read_json_shape(json_doc(summary), "/api/v2/summary.json")
        if found:
            self._finish_found(found)
            return
        if facts is not None and facts.login_form:
            self._finish(Verdict.login_required, host_rule,
                         reason="the page is a password form with no status-page markers")
            return
        if page.answered and not page.ok and not json_doc(page):
            if re.search(rb"page is (currently )?inactive|page inactive", page.body[:200_000], re.I):
                self._finish(Verdict.page_inactive, host_rule,
                             reason=f"the page answers HTTP {page.status} and says it is inactive")
            elif page.status == 401:
                self._finish(Verdict.login_required, host_rule, reason="the page answers HTTP 401 (login required)")
            else:
                self._finish(Verdict.unreachable, host_rule, reason=f"the page answers HTTP {page.status}")
            return
        if not page.answered:
            self._finish(Verdict.unreachable, host_rule, reason=f"the page did not answer ({page.error})")
            return
        found = read_json_shape(json_doc(page), "the page itself")
        if found:
            self._finish_found(found)
            return
        self._plan_candidates(host_rule, summary)

    def _best_hint(self) -> str | None:
        hints = self.html.hints if self.html else {}
        for platform in CANDIDATE_ORDER:
            if platform in hints:
                keyless = platform == "uptimerobot" and not (self.html and self.html.uptimerobot_key)
                return "html" if platform in HTML_ONLY or keyless else platform
        return None

    def _plan_candidates(self, host_rule: str | None, summary: Response) -> None:
        hints = self.html.hints if self.html else {}
        ordered = [p for p in CANDIDATE_ORDER if p == host_rule or p in hints]
        self.candidates = ordered
        base = self.base
        if self.moved_to and summary.where != under(base, "api/v2/summary.json"):
            self._ask("summary@moved", under(base, "api/v2/summary.json"))
        for platform in ordered:
            if platform == "instatus":
                self._ask("instatus", under(base, "summary.json"))
            elif platform in {"betterstack", "cstate"}:
                self._ask("index", under(base, "index.json"))
            elif platform == "statusio" and self.html and self.html.statusio_id:
                self._ask("statusio", self.apis.statusio + self.html.statusio_id)
            elif platform == "sorry":
                self._ask("sorry", under(base, "api/v1/status"))
            elif platform == "cachet":
                self._ask("cachet", under(base, "api/v1/components"))
            elif platform == "statushub":
                self._ask("statushub", under(base, "api/statuses"))
            elif platform == "statuspal" and (sub := self._statuspal_subdomain()):
                self._ask("statuspal", f"{self.apis.statuspal}{sub}/summary")
            elif platform == "openstatus" and (slug := self._subdomain(".openstatus.dev")):
                self._ask("openstatus", self.apis.openstatus + slug)
            elif platform == "statusiq" and self.html and self.html.statusiq_id:
                self._ask("statusiq", under(base, f"sp/api/public/summary_details/statuspages/{self.html.statusiq_id}"))
            elif platform in MONITOR_PLATFORMS:
                for key, url in monitor_probes(platform, base, self.html).items():
                    self._ask(key, url)
        if not ordered:
            # A Kuma page says so in its URL (``/status/<slug>``): one more cheap GET.
            for key, url in monitor_probes("uptimekuma", base, None).items():
                self._ask(key, url)
            # No hint at all: SPA shells of Instatus, Better Stack, cState and Sorry pages look alike,
            # their JSON does not. Three cheap GETs, all at once.
            self._ask("instatus", under(base, "summary.json"))
            self._ask("index", under(base, "index.json"))
            self._ask("sorry", under(base, "api/v1/status"))

    def _subdomain(self, suffix: str) -> str | None:
        host = (urlsplit(self.base).hostname or "").lower()
        return host[: -len(suffix)] if host.endswith(suffix) else None

    def _statuspal_subdomain(self) -> str | None:
        return self._subdomain(".statuspal.io") or self._subdomain(".statuspal.eu")

    def _after_candidates(self) -> None:
        findings: dict[str, Finding] = {}
        for key, resp in self.responses.items():
            if key == "page":
                continue
            found = read_json_shape(json_doc(resp), urlsplit(resp.url).path or resp.url)
            if found and found.platform not in findings:
                if found.platform == "statusio" and self.html and self.html.statusio_id:
                    found.page_id = self.html.statusio_id
                    found.api_url = resp.url
                elif key in {"statuspal", "openstatus", "statusiq", *MONITOR_PLATFORMS}:
                    found.api_url = resp.url
                    if key == "uptimerobot" and self.html:
                        found.page_id = found.page_id or self.html.uptimerobot_key
                findings[found.platform] = found
        for platform in self.candidates:
            if platform in findings:
                self._finish_found(findings[platform])
                return
        if findings:  # a platform the HTML did not hint at, proven by its JSON
            self._finish_found(next(iter(findings.values())))
            return
        hinted = self._best_hint()
        host_rule = host_platform(self.base)
        platform = host_rule or hinted
        if platform:
            why = self.html.hints.get(platform, []) if self.html else []
            if host_rule:
                why = [f"host rule ({urlsplit(self.base).hostname})", *why]
            probed = [urlsplit(p.url).path or p.url for k, p in self.probes.items() if k != "page"]
            suffix = f"; not confirmed by a probe ({', '.join(probed)} gave no {platform} document)"
            if hinted == "html":
                names = [p for p in (*HTML_ONLY, "uptimerobot") if self.html and p in self.html.hints]
                why = [f"{', '.join(names)} page: no public JSON, read as HTML", *why]
            self._finish(Verdict.ok, platform, reason="; ".join(why) + suffix)
            return
        if self.html and self.html.feeds:
            self._ask("feed", self.html.feeds[0], FEED_ACCEPT)
            return
        self._finish_unknown()

    def _after_feed(self) -> None:
        feed = self.responses.get("feed")
        if feed is not None and feed.ok and is_feed(feed.body):
            self._finish_feed(feed, from_page=True)
            return
        if feed is not None:
            self.reasons.append(f"the advertised feed {feed.url} did not answer with RSS/Atom")
        self._finish_unknown()

    def _finish_unknown(self) -> None:
        facts = self.html
        if facts and facts.component_states >= 2 and (
                facts.status_words >= 2 or re.search(r"status|health|uptime", facts.title, re.I)):
            self._finish(Verdict.ok, "html", reason=f"no platform matched, but the page lists components with their "
                                                    f"state ({facts.component_states} state cells, title "
                                                    f"{facts.title!r}): generic HTML")
            return
        if facts is not None and facts.status_words >= 2:
            self._finish(Verdict.not_status_page, None,
                         reason=f"the page talks about status, incidents or uptime but lists no components with a "
                                f"state (title {facts.title!r}): a product or marketing page, not a status page")
            return
        if facts is None:
            why = "the page is neither HTML nor a feed, and no status API answered"
        elif not facts.title and not facts.status_words:
            why = "the page is an empty shell (no title, no status words) and no status API answered"
        else:
            why = (f"no platform markers, no status API answered, and the page does not read like a status page "
                   f"(title {facts.title!r})")
        self._finish(Verdict.not_status_page, None, reason=why)

    # --- conclusions -------------------------------------------------------------------------
    def _finish_feed(self, resp: Response, from_page: bool = False) -> None:
        facts = read_feed(resp.body)
        reason = f"{resp.where} is an RSS/Atom feed" + (" advertised by the page" if from_page else "")
        if facts.generator:
            reason += f" (generator {facts.generator!r})"
        detection = self._finish(Verdict.ok, "feed", reason=reason)
        detection.feed_url = resp.where
        detection.name = detection.name or facts.title
        if not from_page:
            detection.base_url = resp.where

    def _finish_found(self, found: Finding) -> None:
        self._finish(Verdict.ok, found.platform, reason=found.reason, found=found)

    def _canonical_base(self, canonical: str) -> str | None:
        """A page's own idea of its URL replaces the one we fetched only where ours is a platform
        alias (``<id>.statuspage.io``, ``x.instatus.com``): elsewhere the vendor's field is often its
        homepage, and on the same site the URL that answered is the better one (scheme, path)."""
        if not canonical.startswith(("http://", "https://")) or same_site(canonical, self.base):
            return None
        if host_platform(self.base) in {None, *BESPOKE} or host_platform(canonical) is not None:
            return None
        return page_base(canonical)

    def _finish(self, verdict: Verdict, platform: str | None = None, reason: str | None = None,
                found: Finding | None = None) -> Detection:
        if reason:
            self.reasons.append(reason)
        if self.moved_to and verdict == Verdict.ok:
            verdict = Verdict.moved
        facts = self.html
        base = self.base
        usable = verdict in {Verdict.ok, Verdict.moved}
        for canonical in (found.canonical if found else None, facts.canonical if facts else None):
            if usable and canonical and (better := self._canonical_base(canonical)):
                base = better
                break
        page_id = found.page_id if found else None
        if page_id is None and platform == "statuspage":
            page_id = (facts.statuspage_id if facts else None) or self._subdomain_id()
        elif page_id is None and platform == "statusio" and facts:
            page_id = facts.statusio_id
        elif page_id is None and platform == "statusiq" and facts:
            page_id = facts.statusiq_id
        name = (found.name if found else None) or (facts.name if facts else None)
        detection = Detection(url=self.url, verdict=verdict, platform=platform, base_url=base,
                              page_id=page_id, name=name, moved_to=self.moved_to, reasons=self.reasons)
        if usable and platform:
            detection.api_url = (found.api_url if found else None) or api_url_for(platform, base, page_id, self.apis)
            detection.feed_url = feed_url_for(platform, base, page_id, facts.feeds if facts else [])
        self._result = detection
        return detection

    def _subdomain_id(self) -> str | None:
        sub = self._subdomain(".statuspage.io")
        return sub if sub and STATUSPAGE_ID_RE.fullmatch(sub) else None


def api_url_for(platform: str, base: str, page_id: str | None, apis: ApiRoots | None = None) -> str | None:
    """Where a platform's machine-readable current state lives, for a page at ``base``."""
    apis = apis or ApiRoots()
    host = (urlsplit(base).hostname or "").lower()
    if platform in {"statuspage", "incidentio"}:
        return under(base, "api/v2/summary.json")
    if platform == "instatus":
        return under(base, "summary.json")
    if platform in {"betterstack", "cstate"}:
        return under(base, "index.json")
    if platform == "statusio":
        return apis.statusio + page_id if page_id else None
    if platform == "sorry":
        return under(base, "api/v1/status")
    if platform == "cachet":
        return under(base, "api/v1/components")
    if platform == "statushub":
        return under(base, "api/statuses")
    if platform == "hund":
        return under(base, "live/v2/status_page")
    if platform == "statusiq":
        return under(base, f"sp/api/public/summary_details/statuspages/{page_id}") if page_id else None
    if platform == "statuspal" and host.endswith((".statuspal.io", ".statuspal.eu")):
        return f"{apis.statuspal}{host.split('.')[0]}/summary"
    if platform == "openstatus" and host.endswith(".openstatus.dev"):
        return apis.openstatus + host.split(".")[0]
    if platform == "gcp":
        return under(base if "appsstatus" in base else site_of(base), "incidents.json") if host else None
    if platform == "aws":
        return "https://health.aws.amazon.com/public/currentevents"
    if platform == "slack":
        return "https://slack-status.com/api/v2.0.0/current"
    if platform == "heroku":
        return "https://status.heroku.com/api/v4/current-status"
    if platform == "salesforce":
        return "https://api.status.salesforce.com/v1/instances/status/preview"
    if platform == "apple":
        dev = host == "developer.apple.com" or "/developer" in base
        return ("https://www.apple.com/support/systemstatus/data/" + ("developer/" if dev else "")
                + "system_status_en_US.js")
    if platform == "stripe":
        return "https://status.stripe.com/current"
    return monitor_api_url(platform, base, page_id)


def feed_url_for(platform: str, base: str, page_id: str | None, advertised: list[str]) -> str | None:
    """The page's RSS/Atom feed: the one the HTML advertises, else the platform's usual path."""
    if advertised:
        atom = [f for f in advertised if "atom" in f.lower()]
        return (atom or advertised)[0]
    if platform == "statuspage":
        return under(base, "history.atom")
    if platform == "incidentio":
        return under(base, "feed.atom")
    if platform == "betterstack":
        return under(base, "feed.rss")
    if platform == "statusio" and page_id:
        return under(base, f"pages/{page_id}/rss")
    if platform == "azure":
        return "https://rssfeed.azure.status.microsoft/en-us/status/feed/"
    if platform == "aws":
        return "https://status.aws.amazon.com/rss/all.rss"
    if platform == "slack":
        return "https://slack-status.com/feed/atom"
    return None


def site_of(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


# ------------------------------------------------------------------------------------------------
# Running it
# ------------------------------------------------------------------------------------------------

def detect_offline(url: str, responses: Mapping[str, Response], apis: ApiRoots | None = None) -> Detection:
    """Detection over captured responses keyed by URL; a URL with no capture is a 404."""
    try:
        detector = Detector(url, apis)
    except ValueError as exc:
        return Detection(url=url, verdict=Verdict.unreachable, reasons=[str(exc)])
    while probes := detector.next_probes():
        for probe in probes:
            detector.feed(probe.key, responses.get(probe.url) or Response(url=probe.url, status=404,
                                                                           error="HTTP 404"))
    return detector.result()


async def detect(url: str, http: Any, apis: ApiRoots | None = None) -> Detection:
    """Detect the platform at ``url`` with ``aggregator.http.HttpClient`` (its fetch never raises)."""
    import asyncio

    try:
        detector = Detector(url, apis)
    except ValueError as exc:
        return Detection(url=url, verdict=Verdict.unreachable, reasons=[str(exc)])
    while probes := detector.next_probes():
        fetched = await asyncio.gather(*(http.fetch(p.url, accept=p.accept) for p in probes))
        for probe, result in zip(probes, fetched, strict=True):
            detector.feed(probe.key, Response.of(result))
    return detector.result()


def detect_url(url: str, *, timeout: float = 15.0) -> Detection:
    """Synchronous ``detect`` with a client of its own."""
    import asyncio

    from aggregator.http import HttpClient

    async def run() -> Detection:
        async with HttpClient(timeout=timeout) as http:
            return await detect(url, http)

    return asyncio.run(run())
