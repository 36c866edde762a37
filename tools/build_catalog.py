#!/usr/bin/env python3
"""Build providers/catalog.csv from the leads in ../shared/catalog, deterministically.

    .venv/bin/python tools/build_catalog.py [--shared ../shared/catalog] [--corpus ../shared/corpus]
                                            [--out providers/catalog.csv] [--quiet]

Inputs are the raw source lists in ``<shared>/sources`` (their trust is in sources/PROVENANCE.tsv
and in SOURCES below), the real captures in ``<corpus>`` (page ids, names and platforms as served),
RESEARCH below (vendors with bespoke dashboards and facts from docs/platforms.md) and
MAINTAINER_LEADS (a few well-known vendors no list has; always unverified). The shared
known-status-pages.csv is not read: it is one merge of the same sources, and this tool merges
them its own way (pages keyed by host *and* path, Statuspage ids, hosted aliases, names).

Rules
* A lead is one (source, name, URL[, platform, category, page id]) statement.
* Leads are merged (union-find) when they name the same page: same host+path (``www.`` ignored),
  same page id, a hosted alias seen for a custom domain (``<id>.statuspage.io`` -> status.x.com, a
  list's API URL on another host), or the same vendor name, unless the two sides carry different
  page ids or the name is one that DISTINCT_NAMES lists as shared by different companies.
* The page URL, name, platform, category and page id of a merged vendor each come from the most
  trustworthy lead that has one (orders below). Platform evidence is recorded in ``platform_from``;
  with no evidence at all the platform is ``html`` (the generic reader) and the row is unverified.
* confidence: ``verified`` only after ``upstream catalog verify --write`` probed the page (never
  here); ``curated`` with a tier-A source (curated public list, real capture, research notes) or two
  independent tier-B sources; ``unverified`` otherwise, and whenever the platform is a fallback.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aggregator.catalog.data import CATEGORIES, PLATFORMS, STRENGTHS, Entry, normalise_url, write_csv  # noqa: E402
from aggregator.catalog.detect import feed_url_for, host_platform, read_json_shape  # noqa: E402
from aggregator.catalog.ids import fold, slugify, squash  # noqa: E402
from aggregator.errors import AdapterError  # noqa: E402
from aggregator.page.reading import load_json  # noqa: E402

# ------------------------------------------------------------------------------------------------
# Sources and how far each is trusted (see <shared>/sources/PROVENANCE.tsv)
# ------------------------------------------------------------------------------------------------

SOURCES: dict[str, tuple[str, str]] = {
    # name: (strength, why). Strengths (aggregator.catalog.STRENGTHS), strongest first: probed (a
    # live check read this page's API), captured (a real recorded response), polled (a live tool
    # polls this page), curated (a hand-kept list), listed (an old, unlicensed or weak list),
    # guess (machine-written, or from memory).
    "w6w-apps": ("probed", "w6w-io/w6w-apps health checks written against the live pages (2026-08, MIT)"),
    "corpus": ("captured", "a real recorded response in ../shared/corpus names this page"),
    "stts": ("polled", "inket/stts services.json at HEAD: a maintained app that polls these pages (MIT)"),
    "statusphere": ("polled", "metoro-io/statusphere: the page list a live scraper polled in 2024 (MIT)"),
    "multi-status": ("polled", "lwindolf/multi-status feeds.opml: the feeds a maintained aggregator reads (2026-03)"),
    "instatus-out": ("polled", "instatushq/out: one typed class per service, polled by a 2021-22 menubar app (MIT)"),
    "research": ("curated", "docs/platforms.md research notes and vendor documentation (RESEARCH below)"),
    "sentry": ("curated", "getsentry/status-page-list: curated, one file per vendor (MIT)"),
    "statuspile": ("curated", "dogsbodytech/statuspile providers.js: small curated list (MIT)"),
    "awesome-status-pages": ("curated", "ivbeg/awesome-status-pages README: curated list (MIT)"),
    "stts-history": ("listed", "only in older stts versions: curated once, may be stale"),
    "mv3-extension": ("listed", "curated README table of an unidentified repository (licence unknown)"),
    "bbsetup-2021": ("listed", "2021 HTML snapshots of *.statuspage.io pages (real, but old)"),
    "sahin-2016": ("listed", "sahin/status-page 2016 list (no licence)"),
    "drdroid": ("listed", "DrDroidLab/status-page-aggregator catalog: several URLs are guesses (MIT)"),
    "statuscraft": ("guess", "jabbawocky/statuscraft: written with an AI agent; claims live checks"),
    "statuscraft-batch": ("guess", "statuscraft's 'BATCH EXPANSION' block: its own README calls it less reliable"),
    "new-vendors": ("guess", "unattributed machine-written guesses: names and categories only, never platforms"),
    "maintainers": ("guess", "well-known vendors absent from every list, added from memory (MAINTAINER_LEADS)"),
}
# When a source's word was last checked against the live page (shown in the evidence).
SOURCE_DATES: dict[str, str] = {"w6w-apps": "2026-08", "stts": "2026-03", "statusphere": "2024",
                                "multi-status": "2026-03", "instatus-out": "2022", "bbsetup-2021": "2021",
                                "sahin-2016": "2016"}
# Which lead's value wins, per field (first listed wins).
URL_ORDER = ["research", "w6w-apps", "stts", "sentry", "statuspile", "awesome-status-pages", "corpus",
             "multi-status", "instatus-out", "statusphere", "mv3-extension", "bbsetup-2021", "stts-history",
             "sahin-2016", "drdroid", "statuscraft", "statuscraft-batch", "new-vendors", "maintainers"]
# The 2024-26 lists name vendors last: their names are slugs or product names ("databricks sql
# warehouse"), and a row's id (its name's slug) should not change because a new list names it too.
NAME_ORDER = ["research", "stts", "sentry", "statuspile", "mv3-extension", "awesome-status-pages", "bbsetup-2021",
              "stts-history", "statuscraft", "corpus", "sahin-2016", "statuscraft-batch", "new-vendors", "instatus-out",
              "w6w-apps", "drdroid", "multi-status", "statusphere", "maintainers"]
PLATFORM_ORDER = ["research", "w6w-apps", "stts", "corpus", "instatus-out", "multi-status", "bbsetup-2021",
                  "statuspile", "stts-history", "sahin-2016", "statuscraft",
                  "statuscraft-batch"]  # new-vendors' parser column is a guess: never used
CATEGORY_ORDER = ["research", "mv3-extension", "multi-status", "drdroid", "new-vendors",
                  "statuscraft", "statuscraft-batch", "sahin-2016", "maintainers"]

# Names that different companies share in the sources: never merged on the name alone.
DISTINCT_NAMES = {"circle", "hex", "polly", "plane", "runway", "zip", "base", "one", "apollo", "density"}
# w6w-apps names apps, not pages: where an app's name is not its page's, the page's name.
W6W_PAGE_NAMES = {"linkedin": "LinkedIn API", "linkedin-ads": "LinkedIn API", "google-analytics": "Google Ads",
                  "facebook-lead-ads": "Meta", "whatsapp": "Meta", "zohomail": "Zoho", "s3": "Amazon Web Services"}
# One vendor under several names (renamed products, acquisitions, a company and its cloud, a page
# under two hosts): every lead named by one of a group is one vendor (REVIEW.md 3).
SAME_VENDOR: list[tuple[str, ...]] = [
    ("Jira Service Management", "Jira Service Desk"),
    ("Vonage API", "Nexmo", "Vonage/Nexmo"),
    ("Hetzner", "Hetzner Cloud"),
    ("balena", "Balena.io", "resin.io"),
    ("Lambda", "Lambda Labs"),
    ("Particle", "Spark"),
    ("Redis", "Redis Labs", "Redislabs"),
    ("Equinix Metal", "Packet"),
    ("Yandex Cloud", "Yandex"),
]
SAME_VENDOR_NAME = {name_key_early: group[0] for group in SAME_VENDOR for name_key_early in
                    (re.sub(r"[^0-9a-z]+", "", n.lower()) for n in group)}
# Vendors that shut down or whose product ended (REVIEW.md 4): kept so that a search finds them
# and says so, but never followed. Keyed by row id.
DEFUNCT: dict[str, str] = {
    "bintray": "JFrog shut Bintray down in May 2021",
    "equinix-metal": "Equinix Metal reached end of life in June 2026",
    "rjmetrics": "RJMetrics was shut down in 2018 (after Magento bought it)",
    "salesforceiq": "SalesforceIQ was retired by Salesforce",
    "stride": "Atlassian Stride was discontinued in 2019",
    "hipchat": "Atlassian HipChat was discontinued in 2019",
    "wunderlist": "Wunderlist was shut down in May 2020",
    "flowdock": "Flowdock was shut down in 2023",
    "parse": "Parse.com was shut down in January 2017",
    "typekit": "Typekit became Adobe Fonts in 2018; this old Pingdom page is not Adobe's (see adobe)",
}
# Hosts that serve several distinct pages by path (multi-tenant hosts, regional pages): the only
# hosts with more than one row. Elsewhere two paths on one host are views of one page.
PATH_PAGES_HOSTS = {"stats.pingdom.com", "stats.uptimerobot.com", "intercomstatus.com", "status.miro.com"}
# Sites that report on other companies' status (down-checkers, aggregators): never a vendor's page.
THIRD_PARTY_HOSTS = {"isitdownrightnow.com", "issitedownrightnow.com", "updownradar.com", "saashub.com",
                     "similarweb.com", "uptime.com", "statusgator.com", "downdetector.com", "feeds.feedburner.com",
                     "cloudharmony.com"}
# Statements a source gets wrong, checked by hand: (source, name, URL) leads that are dropped.
ERRATA: set[tuple[str, str, str]] = {
    ("sahin-2016", "Baremetrics", "https://status.aweber.com"),  # AWeber's page under Baremetrics' name
    ("multi-status", "Serverdensity", "https://status.density.io"),  # Density is another company
}

# Platform words used by the sources -> our platform names ("html" = no public API: the generic reader).
PLATFORM_WORDS: dict[str, str] = {
    "statuspage": "statuspage", "statuspageservice": "statuspage", "statuspage.io": "statuspage",
    "sendbird": "statuspage", "sendbirdservice": "statuspage",
    "incidentio": "incidentio", "incidentioservice": "incidentio", "miro": "incidentio", "miroservice": "incidentio",
    "instatus": "instatus", "instatusservice": "instatus",
    "betterstack": "betterstack", "betteruptime": "betterstack", "betterstackservice": "betterstack",
    "betteruptimeservice": "betterstack",
    "statusio": "statusio", "statusiov1": "statusio", "statusiov1service": "statusio", "status.io": "statusio",
    "sorry": "sorry", "sorryservice": "sorry",
    "statuspal": "statuspal", "statuspalservice": "statuspal",
    "site24x7": "statusiq", "site24x7service": "statusiq",
    "statushub": "statushub", "statushubservice": "statushub",
    "cstate": "cstate", "cstateservice": "cstate",
    "cachet": "cachet", "cachetservice": "cachet", "cachethq": "cachet",
    # Known platforms without an adapter of their own, and hand-made pages: read as HTML.
    "statuscast": "html", "statuscastservice": "html", "statuscake": "html", "statuscakeservice": "html",
    "lamb": "html", "lambstatusservice": "html", "uptimedotcomservice": "html", "pingdom": "html",
    "stashboard": "html", "runstatus": "html", "pagerduty": "html", "pagerdutyservice": "html",
    "independent": "html", "independentservice": "html", "inhouse": "html", "custom": "html",
    "exanaservice": "html", "apple": "apple", "gcp": "gcp", "aws": "aws", "azure": "azure", "slack": "slack",
    "heroku": "heroku",
}

# Hosted-platform hosts the detector does not need but the catalog meets.
EXTRA_HOST_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(^|\.)status\.atlassian\.com$|^metastatuspage\.com$"), "statuspage"),
    (re.compile(r"\.site24x7statuspage\.(com|eu)$"), "statusiq"),
    (re.compile(r"\.cachethq\.io$"), "cachet"),
    (re.compile(r"\.(statuscast\.com|freshstatus\.io)$|^stats\.uptimerobot\.com$"), "html"),
]
ALIAS_HOST_RE = re.compile(r"\.(statuspage\.io|instatus\.com|betteruptime\.com|status\.io|hund\.io|statuspal\.(io|eu)|"
                           r"sorryapp\.com|freshstatus\.io|statuscast\.com|cachethq\.io|status\.atlassian\.com|"
                           r"site24x7statuspage\.(com|eu))$")


def platform_of_host(url: str) -> str | None:
    found = host_platform(url)
    if found:
        return found
    host = urlsplit(url).hostname or ""
    return next((platform for pattern, platform in EXTRA_HOST_RULES if pattern.search(host)), None)


# Statuscraft's free-form tags -> category (the first tag that maps wins; generic tags map to nothing).
TAG_CATEGORY: dict[str, str] = {}
for _category, _tags in {
    "AI & ML": "ai llm ml gpu inference mlops image-generation conversational-ai agents vector-database embeddings "
               "text-to-speech tts speech-to-text transcription nlp ocr document-ai model-serving data-labeling "
               "training-data experiment-tracking vector chatbot",
    "Cloud & Hosting": "cloud hosting paas iaas serverless kubernetes compute vps infrastructure storage backup "
                       "cloud-storage object-storage bare-metal managed docker cloud-native",
    "CDN, DNS & Networking": "cdn dns networking network domains domain registrar connectivity edge vpn proxy "
                             "cellular waf ssl certificates",
    "DevTools & CI/CD": "developer-tools devtools ci-cd ci testing qa deployment git open-source coding ide "
                        "package-registry packages feature-flags feature-management devops iac terraform gitops "
                        "api-management api-gateway graphql developer-portal platform-engineering code-quality "
                        "mobile test-management load-testing api-docs documentation internal-tools app-builder "
                        "low-code no-code backend baas sdk-generation javascript python ruby elixir dotnet",
    "Monitoring & Observability": "monitoring observability logging apm error-tracking incident-management "
                                  "on-call alerting uptime tracing metrics performance",
    "Security & Identity": "security identity auth authentication authorization sso iam password-manager "
                           "privacy siem appsec sast cloud-security endpoint zero-trust access-management "
                           "fraud fraud-prevention fraud-detection mfa passwordless ciam pam mdr "
                           "vulnerability-management threat-intelligence cybersecurity secrets api-security "
                           "physical-security access-control identity-verification verification kyc "
                           "background-check consent consent-management cookies",
    "Databases & Data": "database data etl bi search sql postgres mysql nosql data-management data-governance "
                        "data-integration data-quality data-catalog data-visualization dashboards "
                        "time-series kafka cache olap web-scraping scraping data-enrichment enrichment "
                        "market-data financial-data",
    "Analytics & Product": "analytics product-analytics session-replay session-recording experimentation "
                           "ab-testing digital-adoption ux-research usability-testing feedback nps attribution "
                           "product roadmap product-management ux",
    "Email & Communication": "email sms messaging voice voip communications communication chat meetings "
                             "video-conferencing telephony contact-center ccaas cpaas ucaas push "
                             "push-notifications notifications transactional smtp deliverability "
                             "email-verification webrtc realtime phone cloud-phone dialer inbox",
    "Collaboration & Productivity": "productivity collaboration project-management scheduling calendar documents "
                                    "notes design whiteboard diagramming file-sharing e-signature esignature esign "
                                    "knowledge-base intranet workflow workflows automation ipaas integration "
                                    "integrations itsm it-management msp rmm mdm remote-access remote-desktop "
                                    "translation localization i18n okr field-service fsm cmms maintenance "
                                    "asset-management saas-management presentations writing forms surveys survey "
                                    "document-management ecm pdf prototyping creative workplace atlassian "
                                    "service-management",
    "CRM, Sales & Marketing": "crm sales marketing advertising adtech seo social-media social reviews reputation "
                              "loyalty rewards cdp personalization events event-management webinar webinars "
                              "virtual-events lead-generation sales-enablement abm outreach prospecting "
                              "affiliates affiliate marketing-automation email-marketing landing-pages "
                              "referrals direct-mail call-tracking programmatic retargeting gifting",
    "Customer Support": "customer-support helpdesk help-desk support live-chat cx customer-success "
                        "customer-experience ticketing customer-engagement",
    "Payments & Fintech": "payments payment fintech banking bnpl open-banking neobank lending mortgage insurance "
                          "insurtech trading investing exchange subscriptions billing payment-gateway "
                          "payment-processing card-issuing ach corporate-cards banking-as-a-service "
                          "money-transfer remittance stocks financing",
    "Finance & Accounting": "accounting finance tax erp expense-management expense expenses invoicing "
                            "spend-management procurement budgeting finops cloud-cost fpa financial-planning "
                            "ap-automation revenue",
    "E-commerce & Retail": "ecommerce e-commerce retail pos marketplace restaurant hospitality online-ordering "
                           "food-delivery hotel travel booking reservations tours shopify checkout inventory "
                           "order-management pim fulfillment print-on-demand salon gym-management",
    "HR & Payroll": "hr payroll recruiting ats workforce workforce-management benefits employee-benefits "
                    "employee-engagement time-tracking talent performance-management compensation eor "
                    "global-payroll staffing people employee-recognition employee-communication",
    "Education": "edtech education lms learning k12 courses elearning e-learning academic higher-education "
                 "classroom sis assessment training corporate-training quiz coaching",
    "Healthcare": "healthcare ehr health telehealth dental veterinary pharmacy life-sciences clinical-trials "
                  "mental-health patient-communication practice-management fitness wellness",
    "Media & Streaming": "video streaming media audio music podcast podcasting photography images entertainment "
                         "publishing creators creator creator-economy dam digital-asset-management gallery",
    "Gaming": "gaming esports games",
    "CMS & Web Builders": "cms headless-cms headless content content-management website-builder wordpress "
                          "blogging page-builder drupal website",
    "Crypto & Web3": "crypto blockchain web3 ethereum bitcoin nft defi layer2 l2 staking digital-assets on-ramp",
    "IoT & Hardware": "iot hardware smart-home telematics embedded wearable device-management digital-signage "
                      "energy",
    "Logistics & Supply Chain": "logistics supply-chain shipping delivery freight fleet fleet-management warehouse "
                                "last-mile postage tms mobility parking automotive maritime manufacturing",
    "Real Estate & Property": "real-estate property-management proptech construction landlord residential bim "
                              "facilities home-services hvac plumbing",
    "Legal & Compliance": "legal compliance grc contracts law-firm gdpr ediscovery esg audit governance "
                          "risk risk-management",
    "Government & Nonprofit": "government nonprofit govtech fundraising donations church faith",
}.items():
    for _tag in _tags.split():
        TAG_CATEGORY.setdefault(_tag, _category)

# Category labels of the curated taxonomies (mv3 README sections, NEW_VENDORS sections, sahin).
LABEL_CATEGORY: dict[str, str] = {
    "ai & llms": "AI & ML", "ai & ml platforms": "AI & ML",
    "ci/cd & developer tools": "DevTools & CI/CD", "developer tools & ci/cd": "DevTools & CI/CD",
    "package registries": "DevTools & CI/CD", "devops & infrastructure": "DevTools & CI/CD",
    "feature flags & experimentation": "DevTools & CI/CD", "developer apis & services": "DevTools & CI/CD",
    "mobile & frontend": "DevTools & CI/CD", "low-code / no-code": "DevTools & CI/CD",
    "devops / build, test, deploy": "DevTools & CI/CD",
    "collaboration & productivity": "Collaboration & Productivity", "productivity & office":
        "Collaboration & Productivity", "project management & collaboration": "Collaboration & Productivity",
    "saas suites": "Collaboration & Productivity", "design & creative tools": "Collaboration & Productivity",
    "automation & ipaas": "Collaboration & Productivity",
    "cloud & infrastructure": "Cloud & Hosting", "cloud infrastructure & hosting": "Cloud & Hosting",
    "serverless & edge computing": "Cloud & Hosting", "government & public cloud": "Cloud & Hosting",
    "storage & backup": "Cloud & Hosting",
    "cdn & dns & edge": "CDN, DNS & Networking", "networking & vpn": "CDN, DNS & Networking",
    "communication": "Email & Communication", "email": "Email & Communication",
    "communication & messaging": "Email & Communication", "email services": "Email & Communication",
    "telecom & cpaas": "Email & Communication", "collaboration & communication": "Email & Communication",
    "identity & security": "Security & Identity", "security": "Security & Identity",
    "identity & access management": "Security & Identity",
    "databases & storage": "Databases & Data", "databases & data platforms": "Databases & Data",
    "analytics & data": "Databases & Data", "data & analytics": "Databases & Data",
    "search platforms": "Databases & Data",
    "monitoring & observability": "Monitoring & Observability", "observability & monitoring":
        "Monitoring & Observability", "devops / monitoring": "Monitoring & Observability",
    "devops / error logging": "Monitoring & Observability", "devops / exception monitoring":
        "Monitoring & Observability",
    "cms & content": "CMS & Web Builders", "cms & headless cms": "CMS & Web Builders",
    "payments & commerce": "Payments & Fintech", "payments & fintech": "Payments & Fintech",
    "e-commerce & shipping": "E-commerce & Retail",
    "web3 & blockchain": "Crypto & Web3", "signing & compliance": "Legal & Compliance",
    "legal & compliance": "Legal & Compliance", "iot & smart home": "IoT & Hardware",
    "iot & hardware platforms": "IoT & Hardware",
    "email marketing & marketing tools": "CRM, Sales & Marketing", "crm & sales": "CRM, Sales & Marketing",
    "social media & management": "CRM, Sales & Marketing",
    "product analytics & user engagement": "Analytics & Product", "web analytics & testing": "Analytics & Product",
    "analytics / mobile analytics": "Analytics & Product",
    "customer support & helpdesk": "Customer Support", "education & lms": "Education",
    "hr & recruiting & payroll": "HR & Payroll", "healthcare & health it": "Healthcare",
    "video & streaming": "Media & Streaming", "gaming & game services": "Gaming",
    "application and data / assets and media": "Media & Streaming",
}

# Vendors whose dashboards are bespoke (their own adapters), and facts from docs/platforms.md.
# (id, name, url, platform, category, aliases, page_id)
RESEARCH: list[tuple[str, str, str, str, str, tuple[str, ...], str]] = [
    # Monitor-first platforms (issue 20): vendors the sources name as using them. UptimeRobot pages
    # carry their page key as page_id (status.bsky.app: the key in the captures' PROVENANCE; the
    # stats.uptimerobot.com pages: the key in statusphere's URLs); Uptime.com's page is the one
    # captured in ../shared/corpus/uptimecom.
    ("bluesky", "Bluesky", "https://status.bsky.app", "uptimerobot", "Other", (), "zwOvMT8x16"),
    ("ipregistry", "Ipregistry", "https://stats.uptimerobot.com/M90zYt5gGx", "uptimerobot", "DevTools & CI/CD",
     (), "M90zYt5gGx"),
    ("eps-internet-connections", "EPS - Internet Connections", "https://stats.uptimerobot.com/VkNVYS2vV6",
     "uptimerobot", "Other", (), "VkNVYS2vV6"),
    ("uptime-dot-com", "Uptime Dot Com", "https://status.uptime.com/statuspage/uptime-status", "uptimecom",
     "Monitoring & Observability", ("Uptime.com",), "uptime-status"),
    ("aws", "Amazon Web Services", "https://health.aws.amazon.com/health/status", "aws", "Cloud & Hosting",
     ("AWS", "Amazon AWS", "AWS Health Dashboard", "Amazon Web Services Health"), ""),
    ("google-cloud", "Google Cloud", "https://status.cloud.google.com", "gcp", "Cloud & Hosting",
     ("GCP", "Google Cloud Platform", "Google Cloud Service Health"), ""),
    ("google-workspace", "Google Workspace", "https://www.google.com/appsstatus/dashboard", "gcp",
     "Collaboration & Productivity", ("G Suite", "Google Apps", "Gmail", "Google Drive"), ""),
    ("firebase", "Firebase", "https://status.firebase.google.com", "gcp", "Cloud & Hosting", ("Google Firebase",), ""),
    ("google-play", "Google Play", "https://status.play.google.com", "gcp", "DevTools & CI/CD",
     ("Google Play Console",), ""),
    ("azure", "Microsoft Azure", "https://azure.status.microsoft/en-us/status", "azure", "Cloud & Hosting",
     ("Azure", "MS Azure", "Windows Azure"), ""),
    ("slack", "Slack", "https://slack-status.com", "slack", "Email & Communication", ("Slack Technologies",), ""),
    ("heroku", "Heroku", "https://status.heroku.com", "heroku", "Cloud & Hosting", ("Salesforce Heroku",), ""),
    ("salesforce", "Salesforce", "https://status.salesforce.com", "salesforce", "CRM, Sales & Marketing",
     ("Salesforce Trust", "SFDC", "trust.salesforce.com"), ""),
    ("apple", "Apple", "https://www.apple.com/support/systemstatus", "apple", "Cloud & Hosting",
     ("Apple System Status", "iCloud", "App Store", "Apple Services"), ""),
    ("apple-developer", "Apple Developer", "https://developer.apple.com/system-status", "apple", "DevTools & CI/CD",
     ("App Store Connect", "TestFlight", "Apple Developer System Status"), ""),
    ("stripe", "Stripe", "https://status.stripe.com", "stripe", "Payments & Fintech", (), ""),
    ("github", "GitHub", "https://www.githubstatus.com", "statuspage", "DevTools & CI/CD", ("GH", "GitHub.com"),
     "kctbh9vrtdwd"),
    ("openai", "OpenAI", "https://status.openai.com", "incidentio", "AI & ML", ("ChatGPT", "OpenAI API"),
     "01JMDK9XYNY6RXSED6SDWW50WY"),
    ("gitlab", "GitLab", "https://status.gitlab.com", "statusio", "DevTools & CI/CD", ("GitLab.com",),
     "5b36dc6502d06804c08349f7"),
    ("docker", "Docker", "https://status.docker.com", "statusio", "DevTools & CI/CD", ("Docker Hub",),
     "533c6539221ae15e3f000031"),
    ("zoom", "Zoom", "https://status.zoom.us", "statuspage", "Email & Communication", ("Zoom Video",),
     "14qjgk812kgk"),
    ("anthropic", "Anthropic", "https://status.claude.com", "statuspage", "AI & ML", ("Claude", "Claude API"),
     "tymt9n04zgry"),
    ("notion", "Notion", "https://www.notion-status.com", "incidentio", "Collaboration & Productivity",
     ("Notion Labs",), ""),
    ("better-stack", "Better Stack", "https://status.betterstack.com", "betterstack", "Monitoring & Observability",
     ("Better Uptime", "BetterStack"), "133002"),
    ("tor-project", "Tor Project", "https://status.torproject.org", "cstate", "Security & Identity", ("Tor",), ""),
    ("python-infrastructure", "Python Infrastructure", "https://status.python.org", "statuspage", "DevTools & CI/CD",
     ("PyPI", "Python Software Foundation", "python.org"), ""),
    ("atlassian", "Atlassian", "https://status.atlassian.com", "statuspage", "Collaboration & Productivity",
     ("Atlassian Cloud",), ""),
    ("cloudflare", "Cloudflare", "https://www.cloudflarestatus.com", "statuspage", "CDN, DNS & Networking",
     ("CF",), ""),
    ("twilio", "Twilio", "https://status.twilio.com", "statuspage", "Email & Communication", (), ""),
    ("digitalocean", "DigitalOcean", "https://status.digitalocean.com", "statuspage", "Cloud & Hosting", ("DO",), ""),
    ("discord", "Discord", "https://discordstatus.com", "statuspage", "Email & Communication", ("Discord App",), ""),
]
# Well-known vendors that no source lists (name, page URL, category). No platform is claimed: they
# stay unverified, on the generic reader or what their host implies, until `catalog verify` probes them.
MAINTAINER_LEADS: list[tuple[str, str, str]] = [
    ("xAI", "https://status.x.ai", "AI & ML"),
    ("OpenRouter", "https://status.openrouter.ai", "AI & ML"),
    ("RunPod", "https://uptime.runpod.io", "AI & ML"),
    ("Raygun", "https://status.raygun.com", "Monitoring & Observability"),
    ("Cronitor", "https://status.cronitor.io", "Monitoring & Observability"),
    ("Healthchecks.io", "https://status.healthchecks.io", "Monitoring & Observability"),
    ("FireHydrant", "https://status.firehydrant.com", "Monitoring & Observability"),
    ("AppDynamics", "https://status.appdynamics.com", "Monitoring & Observability"),
    ("Instabug", "https://status.instabug.com", "Monitoring & Observability"),
    ("Chromatic", "https://status.chromatic.com", "DevTools & CI/CD"),
    ("Trigger.dev", "https://status.trigger.dev", "DevTools & CI/CD"),
    ("Hookdeck", "https://status.hookdeck.com", "DevTools & CI/CD"),
    ("Google Maps Platform", "https://status.cloud.google.com/maps-platform", "DevTools & CI/CD"),
    ("Hostinger", "https://statuspage.hostinger.com", "Cloud & Hosting"),
    ("Contabo", "https://contabo-status.com", "Cloud & Hosting"),
    ("Filebase", "https://status.filebase.com", "Cloud & Hosting"),
    ("Freshworks", "https://status.freshworks.com", "Customer Support"),
    ("SAP Concur", "https://open.concur.com", "Finance & Accounting"),
    ("Bill.com", "https://status.bill.com", "Finance & Accounting"),
    ("HighLevel", "https://status.gohighlevel.com", "CRM, Sales & Marketing"),
    ("ArcGIS Online", "https://status.arcgis.com", "Databases & Data"),
]
# Categories for vendors no source categorises, from the maintainers' knowledge: squashed name
# prefix -> category (the longest prefix wins). Only used where every source is silent.
NAME_CATEGORY: dict[str, str] = {}
for _category, _names in {
    "Collaboration & Productivity": "atlassian jira miro confluence cloudapp clubhouse pivotaltracker mulesoft "
                                    "adobe autotask jive phraseapp textexpander wunderlist zight safetyculture "
                                    "brightidea retrium waffle processmaker daysmart booxi avocode eventboard",
    "Customer Support": "intercom desk freshdesk gotoassist chatlio sparkcentral",
    "Email & Communication": "sendbird airship hipchat nexmo flowdock ciscospark skype tropo uberconference "
                             "vonage mailru mandrill phaxio hoiio bluip sendhub layer contextio appboy",
    "Security & Identity": "onelogin securityurgentnotices authy bitium blockscore incapsula netskope stormpath "
                           "threatstack symantec siftscience hakiri socketdev swimlane kennasecurity evidentio "
                           "userify meldium clef barricade duocircle firefoxrelay",
    "DevTools & CI/CD": "beanstalk bintray buildjet fabric keygen opensuse quay smarty assembla bugherd cloud9 "
                        "codeship embedly ghostinspector ironio jfrog laravel loadimpact loaderio meteor "
                        "packagecloud parse replicated scrutinizer solanoci styleci superfeedr syncano xamarin "
                        "yarn clojars harborregistry nitrous deploybot appgyver appnotch builtio instaparser "
                        "ionicservices intuitdeveloper",
    "Cloud & Hosting": "canonical civo dogsbodytechnology engineyard filescom mediatemple onecom platformsh "
                       "primcloud sonassi uk2 wodby wpengine alibabacloud citrixcloud cloudshare microsoftcloud "
                       "modulus openshift pagodabox scalingo servint vmwarecloud gearhost binarylane "
                       "anchorhosting fortrabbit hirefire onapp carina bluebox catalyze anynines",
    "Monitoring & Observability": "instatus pingdom statuscast crittercism hostedgraphite librato opbeat sematext "
                                  "serverdensity signalfx stackify statusgator uptimedotcom vividcortex logmatic "
                                  "opsmatic appneta bmctruesight cribl",
    "Databases & Data": "nasdaqdatalink chartio compose fullcontact memcachier mlab redislabs redistogo redisgreen "
                        "scalegrid scrapinghub tableau flyingsphinx found fieldbook",
    "Analytics & Product": "keenio kissmetrics karte",
    "CRM, Sales & Marketing": "acoustic pardot facebook meta twitter basecrm closeio close dotmailer googleads "
                              "linkedin moz surveygizmo surveypal outbound rebrandly adzerk rubicon simplereach "
                              "leadgenius leadpages contactually clearslide autopilot crossbeam",
    "Payments & Fintech": "braintree chargify openexchangerates revolut venmo wepay xe binarycom "
                          "alternativepayments 2000charge fusebill",
    "Finance & Accounting": "odoo",
    "E-commerce & Retail": "magento bigcartel etsy vend twotap teespring brightpearl campspot mobi2go "
                           "beyondpeachworks",
    "CDN, DNS & Networking": "ntppool cloudfront dyn hover maxcdn ns1 opendns quotaguard ookla",
    "Crypto & Web3": "internetcomputer blockio counterparty korbit",
    "Real Estate & Property": "housecanary officernd onsitecom",
    "IoT & Hardware": "ciscokinetic balena resinio kontaktio electricimp skydio dronedeploy adafruit",
    "HR & Payroll": "recruiterbox staffjoy newtonsoftware gild",
    "Education": "codewars codeschool udacity treehouse haikulearning chalkup cambly orgsync",
    "Healthcare": "greenlightguru agilemd clockwisemd centralreach altascribe healthcarefinancedirect shiftcare",
    "Logistics & Supply Chain": "shipwire shiphawk",
    "Legal & Compliance": "avetta",
    "Gaming": "steam gameanalytics",
    "Media & Streaming": "trakt overdrive aquafadas",
    "CMS & Web Builders": "weebly designmodo",
    "Government & Nonprofit": "wikimedia wikipedia akvo australianbusinessregister",
}.items():
    for _name in _names.split():
        NAME_CATEGORY[_name] = _category
# The same, for the vendors the 2024-26 lists brought in (and a few famous ones the lists misfile).
for _category, _names in {
    "Security & Identity": "3ncrypt3d abuseipdb alienvault area1 armor authentic8 autospf avanan avast avigilon "
                           "axcient barracuda bitdefender breachsecurenow comodo cyberark cybersmart datadome "
                           "devolutions fingerprintjs forcepoint forticlient fortiweb foxpass guardrails hornetsecurity "
                           "iboss intruder ipvanish kolide mnemonic openvpn opswat prey prismacloud radware redcanary "
                           "secomea sectigo securecodewarr securew2 secureworks securly seon smoothwall sonicwall sophos "
                           "specops threatx tokenex trellix trendmicro vipre watchguard webroot wickr zerossl zscaler "
                           "appriver automox runpanther urlscan maxmind",
    "Cloud & Hosting": "20i alphavps amazee amazons3 catalystcloud cloudfanatic cloudnovi cloudrepo combell dediserve "
                       "dhosting digitalpacific dogado dongee dracoon ekco equinix flowswiss freistilbox glesys gportal "
                       "greencloud hawkhost heartinternet hostifi hostpapa hostpress hostry hyonix hypernode kinghost "
                       "kualo leaseweb lumaserv m247 macstadium magemojo magnusbox nestify netapp objectrocket otava "
                       "plusserver ploxhost presslabs quadranet racknerd rackspeed rocketnet servebolt serversaustralia "
                       "seravo shockbyte skysilk sugarsync teraswitch umbrellar unitedhoster velocityhost vgrid "
                       "vpsserver webcentral wordpressvip wpmudev yandex gitlabhost juicefs hightail ibmaspera "
                       "flywheel gcorelabs internetx registerit noip sherweb skykick",
    "CDN, DNS & Networking": "bigleaf cdn77 colt cradlepoint edgio eurafibre extremenetworks f5 fasterize "
                             "fragnetnetworks iristel mist ngenix stealth tpxcommunications verizondigitalmedia "
                             "iridium soracom easyredir eps",
    "DevTools & CI/CD": "8base adalo appwrite basedash cubecloud devpro elasticio gastby gatsby gimlet jenkins "
                        "jetbrains jitpack keypup licensespring liferay pgmustard popsql prefect prerender "
                        "pullrequest rookout sashido shakebugs tricentis waydev webappio formspree convertapi "
                        "patch patchmypc paperplane chieftools quilt unraid homeassistant rive tuple",
    "Monitoring & Observability": "alertmedia appsignal judoscale pingplotter squdcast squadcast sumologic "
                                  "webgazer currents gremlin",
    "Databases & Data": "blockchair coinapi datasift datasite graphenedb hginsights numerator opencage "
                        "opencorporates panoply scraperapi scrapingbee searchly trifacta webscrapingapi webshrinker "
                        "whoisxml wordnik zenscrape ipregistry locationiq locationkit timezonedb brandfetch "
                        "experian verisk illiz tomorrowio nearmap ordnancesurvey",
    "Collaboration & Productivity": "absurddesign adaptavist apwide ardoq athennian automationanywhere aveva "
                                    "bittitan brightly cherwell cloudradial codetwo connectwise digitalpigeon esa "
                                    "exalate gathercontent golinks gotomypc halp helpdocs herocoders itglue "
                                    "jamasoftware jexo leanix logmein milanote mohami n-able nable ninety nintex "
                                    "noko oneview planview proofhub printix printerlogic papercut pureservice "
                                    "roboyo scopestack servicerocket sharegate sysaid teamretro whimsical workspot "
                                    "xporter yasoon ziflow bossdesk itportal paribus sap ecostruxure tibco "
                                    "cimpress threekit dakboard lucidchart drmtoday ribose dropbox",
    "Email & Communication": "clearlyip documo hearsay loopup luxsci plumvoice ringover starhub threema voxeet "
                             "zenvia zingle pushover pushy tapglue",
    "Customer Support": "carrotquest elevio happyfox jitbit mojohelpdesk playvox trengo manychat blip",
    "CRM, Sales & Marketing": "airhead bettermode chartboost cint emarsys higherlogic infusionsoft joomag "
                              "littledata microsoftadvertisement postplanner qualifio raven similarweb "
                              "tackleio tribe voyado growthzone hubspot",
    "Payments & Fintech": "b2c2 bancolombia bitpanda bluefin capitalone coinbase coingate coingecko coinjar lmax "
                          "mastercard osl paribu pinelabs primexbt quadency remitano transbank usaepay zerohash "
                          "purseio schibsted magensa mango",
    "Finance & Accounting": "bexio freee pairsoft prosperstack chronograph",
    "E-commerce & Retail": "allegro amazonmarketplace amsoil cargurus check24 laredoute manomano meridian "
                           "tokopedia whatnot trendyol shopify xplor mealmagic",
    "HR & Payroll": "coachhub keeping nowsta payscale trinet viapeople instride tcptimeclock timeclockplus "
                    "upwork angellist",
    "Education": "comptia ellucian freecodecamp inspera mindflash parchment proctorio scormcloud ucsantabarbara "
                 "stateofminnesota",
    "Healthcare": "altopharmacy zenqms",
    "Media & Streaming": "bluesky bmj disqus hashnode otoy publitio reddit spacehey stackexchange twitch "
                         "vkontakte youtube webdam fontawesome typekit bloomberg",
    "Gaming": "csgo ggnetwork hypixel munzee nbatopshot playstation ripple enjin",
    "CMS & Web Builders": "govcms squiz neos",
    "Crypto & Web3": "hummingbot multiverse optimism thegraph voltage",
    "IoT & Hardware": "axiscommunications circuithub ciscoiot datacake irobot pix4d rhombus senso "
                      "hunterdouglas michelin",
    "Logistics & Supply Chain": "airgateway foreflight lyft",
    "Real Estate & Property": "plangrid bluebeam current-rms currentrms",
    "Legal & Compliance": "compliancealpha cority credsimple netdocuments protecht resolver tugboatlogic "
                          "oracletrust",
    "Government & Nonprofit": "cdc",
}.items():
    for _name in _names.split():
        NAME_CATEGORY[_name.replace("-", "")] = _category
for _category, _names in {
    "Collaboration & Productivity": "3stepit amplifiedit appian basecamp calcom collibra formstack freshservice "
                                    "quickbase roam golfgenius hennge ifs innovo jostle linear motion onesky raindrop savvycal "
                                    "splitwise tally tldv uniflow spoke empist endeavor reftab simplyq thru globo "
                                    "icewarp cloudblue lingk",
    "Email & Communication": "stride aircall front micloud nextcaller netfortris mxtoolbox smartpass",
    "DevTools & CI/CD": "anvil bettererrorpages broadcom cloudmqtt frigade handwritingio postbin runway "
                        "teradici threader trugrid xactus globant qualitest pdq maestroqa",
    "Security & Identity": "cisco crisisgo calix brave canary",
    "Databases & Data": "chronotrack readcube seequent pricehubble tradingtechnologies optimissa",
    "CMS & Web Builders": "ghost baserow",
    "CRM, Sales & Marketing": "eventbrite bloom opencrm vistage",
    "HR & Payroll": "seek fond",
    "Analytics & Product": "rjmetrics",
    "Media & Streaming": "x axios campuspress",
    "AI & ML": "deepl",
    "Finance & Accounting": "esker cloudcheckr visible",
    "Payments & Fintech": "iscorp scalepoint snapsheet",
    "Healthcare": "passare",
    "Cloud & Hosting": "docaposte docevent fluccs nisc ownco owncompany lumanox endlessgroup ainetworks",
    "E-commerce & Retail": "thg ticketinghub ncr clyde",
    "Education": "advancementform chute",
    "Legal & Compliance": "sertifi watershed",
    "Real Estate & Property": "jobber",
    "IoT & Hardware": "thorlabs inspectar poka",
    "Logistics & Supply Chain": "aspex",
    "Government & Nonprofit": "raptorsystems",
}.items():
    for _name in _names.split():
        NAME_CATEGORY.setdefault(_name.lower(), _category)
# Rows a source files under the wrong category, whatever the sources say (REVIEW.md 5).
CATEGORY_FIXES: dict[str, str] = {
    "hubspot": "CRM, Sales & Marketing", "shopify": "E-commerce & Retail", "zendesk": "Customer Support",
    "twitch": "Media & Streaming", "reddit": "Media & Streaming", "fastly": "CDN, DNS & Networking",
    "lyft": "Logistics & Supply Chain", "bluesky": "Media & Streaming", "disqus": "Media & Streaming",
    "dropbox": "Collaboration & Productivity", "notion": "Collaboration & Productivity",
    "spotify": "Media & Streaming", "netflix": "Media & Streaming", "youtube": "Media & Streaming",
}
# Words in a vendor name that say what it does without doubt.
NAME_WORD_CATEGORY: dict[str, str] = {
    "payroll": "HR & Payroll", "pay": "Payments & Fintech", "payments": "Payments & Fintech",
    "bank": "Payments & Fintech", "banking": "Payments & Fintech", "mail": "Email & Communication",
    "email": "Email & Communication", "sms": "Email & Communication", "hosting": "Cloud & Hosting",
    "dns": "CDN, DNS & Networking", "cdn": "CDN, DNS & Networking", "health": "Healthcare",
    "medical": "Healthcare", "learning": "Education", "school": "Education", "academy": "Education",
    "crypto": "Crypto & Web3", "bitcoin": "Crypto & Web3", "blockchain": "Crypto & Web3",
    "security": "Security & Identity", "analytics": "Analytics & Product", "monitoring": "Monitoring & Observability",
    "games": "Gaming", "gaming": "Gaming", "crm": "CRM, Sales & Marketing", "commerce": "E-commerce & Retail",
}


def fallback_category(name: str) -> str:
    key = squash(name)
    for prefix in sorted((p for p in NAME_CATEGORY if key.startswith(p)), key=len, reverse=True):
        return NAME_CATEGORY[prefix]
    for word in re.findall(r"[a-z0-9]+", fold(decamel(name))):
        if word in NAME_WORD_CATEGORY:
            return NAME_WORD_CATEGORY[word]
    return "Other"


# Extra aliases for vendors that come from the sources (matched by id after the build).
EXTRA_ALIASES: dict[str, tuple[str, ...]] = {
    "new-relic": ("NR", "NewRelic"),
    "mongodb-cloud": ("MongoDB", "MongoDB Atlas", "Atlas"),
}


# w6w-apps' "Vendor status" labels -> the platform its live check read (None: no page to list).
# "Statuspage" there means "answers /api/v2/*.json", which incident.io pages do too (REVIEW.md 1).
W6W_LABELS: dict[str, str | None] = {
    "statuspage": "statuspage", "statuspage-shaped": "statuspage", "instatus": "instatus",
    "better stack": "betterstack", "status.io": "statusio", "incident.io": "incidentio", "atom": "feed",
    "rss": "feed", "page": "", "json": "html", "structured json": "html", "status.page": "html",
    "google cloud dashboard": None, "incident feed": None,
}
# The page behind an API host w6w-apps' checks read, and the API tail of its other URLs.
W6W_PAGE_FOR: dict[str, str] = {"api.status.salesforce.com": "https://status.salesforce.com",
                                "health.aws.amazon.com": "https://health.aws.amazon.com/health/status"}
W6W_API_TAIL = re.compile(r"/(api/v\d.*|api/status|incidents\.json|[^/]*\.(json|rss|atom|xml)|rss|feed|pages/[0-9a-f]{24}/rss|"
                          r"\d+/status|_apis/.*)$")
# Hosts w6w-apps' checks measured as decoys (transcribed from the notes in its service.ts files,
# 2026-08): unclaimed *.statuspage.io / *.instatus.com subdomains answering with the platform's
# marketing page (127,7xx B / 216,836 B), one claimed by another company, and one inactive page.
W6W_DECOY_HOSTS: dict[str, str] = {
    **{f"{sub}.statuspage.io": "unclaimed Statuspage subdomain (Atlassian's marketing page)" for sub in (
        "basecamp", "basecamphq", "bc3", "campaignmonitor", "circleso", "discourse", "flodesk", "freshservice",
        "freshworks", "getgrist", "grist", "gristlabs", "lemlist", "mailcheck", "microsofttodo", "pushover",
        "quickbase", "splitwise", "ticktick", "tidycal", "tldv")},
    **{f"{sub}.instatus.com": "unclaimed Instatus subdomain (Instatus' marketing page)" for sub in (
        "attio", "kajabi", "mailcheck", "ticktick", "tidycal")},
    "microsoft.statuspage.io": "a claimed but inactive Statuspage (HTTP 401 'Your page is inactive')",
    "circle.statuspage.io": "the page of another company (Circle, a Discord bot: status.circlebot.xyz)",
}
# multi-status' OPML groups -> category.
MULTI_STATUS_CATEGORY: dict[str, str] = {
    "AI": "AI & ML", "Analytics": "Analytics & Product", "Automation": "Collaboration & Productivity",
    "CDN": "CDN, DNS & Networking", "CI/CD": "DevTools & CI/CD", "CRM": "CRM, Sales & Marketing",
    "Cloud": "Cloud & Hosting", "Code Quality": "DevTools & CI/CD", "Communications": "Email & Communication",
    "DNS": "CDN, DNS & Networking", "DevOps": "DevTools & CI/CD", "E-commerce": "E-commerce & Retail",
    "Email": "Email & Communication", "IAM": "Security & Identity",
    "Incident Management": "Monitoring & Observability", "Logging / SIEM": "Monitoring & Observability",
    "Messaging": "Email & Communication", "Monitoring": "Monitoring & Observability",
    "Project Management": "Collaboration & Productivity", "Remote Access": "Collaboration & Productivity",
    "Search": "Databases & Data", "Status Page": "Monitoring & Observability", "Storage": "Cloud & Hosting",
    "Testing": "DevTools & CI/CD", "git Hosting": "DevTools & CI/CD",
}
# Feeds whose site root is not the page.
MULTI_STATUS_PAGE: dict[str, str] = {
    "www.google.com": "https://www.google.com/appsstatus/dashboard",
    "rssfeed.azure.status.microsoft": "https://azure.status.microsoft/en-us/status",
    "azure.status.microsoft": "https://azure.status.microsoft/en-us/status",
}
# instatus out's base classes -> platform ("" = a custom class: no platform claimed).
OUT_BASES: dict[str, str] = {"StatusPage": "statuspage", "StatusIo": "statusio", "Instatus": "instatus",
                             "Cachet": "cachet", "Hund": "hund", "": ""}
DRDROID_TAGS: dict[str, str] = {
    "Database Provider": "Databases & Data", "Voice AI API": "AI & ML", "CDN & Hosting": "Cloud & Hosting",
    "LLM Provider": "AI & ML", "LLM Inference Layer Companies": "AI & ML", "Vector Database": "Databases & Data",
    "Voice/Calls Communication API": "Email & Communication", "SMS Communication API": "Email & Communication",
    "Push Communication API": "Email & Communication", "Invoicing FinTech API": "Finance & Accounting",
    "Email Communication API": "Email & Communication", "Data Warehouse Provider": "Databases & Data",
    "Checkouts & Payment Gateway FinTech API": "Payments & Fintech",
    "Billing & Subscriptions FinTech API": "Payments & Fintech", "Project Management": "Collaboration & Productivity",
    "ITSM": "Collaboration & Productivity", "Documentation": "Collaboration & Productivity",
    "Communication": "Email & Communication", "Cloud": "Cloud & Hosting", "Authentication": "Security & Identity",
    "API Platform": "DevTools & CI/CD", "API Marketplace": "DevTools & CI/CD", "API Management": "DevTools & CI/CD",
    "API Gateway": "DevTools & CI/CD", "AI/ML": "AI & ML", "AI-Code Editor": "AI & ML",
}
# DrDroid URLs that several of its products share (PROVENANCE: "status.azure.com for 5 products"):
# they say nothing about the product named.
DRDROID_GENERIC_URLS = {"https://status.azure.com", "https://status.google.com", "https://status.cloud.google.com",
                        "https://health.aws.amazon.com/health/status", "https://status.aws.amazon.com"}


def slug_name(name: str) -> str:
    """'permit-io' -> 'Permit.io', 'codefresh' -> 'Codefresh': a list's lower-case slug as a name
    (a name with capitals is kept as written)."""
    name = name.strip()
    if name != name.lower():
        return name
    name = re.sub(r"-(io|ai|dev|app|co|so)$", r".\1", name)
    return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[-_ ]+", name) if w)


# ------------------------------------------------------------------------------------------------
# Leads
# ------------------------------------------------------------------------------------------------

@dataclass
class Lead:
    source: str
    name: str
    url: str
    platform: str = ""
    platform_note: str = ""
    category: str = ""
    page_id: str = ""
    aliases: tuple[str, ...] = ()
    same_as: tuple[str, ...] = ()
    feed_url: str = ""
    fixed_id: str = ""


_DROP_SUFFIX_RE = re.compile(r"/(api|api/v\d.*|index\.html?|history\.(rss|atom)|feed\.(rss|atom)|summary\.json|"
                             r"index\.json)$", re.I)
STATUSPAGE_ID_RE = re.compile(r"(?=[0-9a-z]*\d)(?=[0-9a-z]*[a-z])[0-9a-z]{12}")
STATUSIO_ID_RE = re.compile(r"[0-9a-f]{24}")
ULID_RE = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
PLATFORM_HOMES = {"statuspage.io", "instatus.com", "betteruptime.com", "betterstack.com", "status.io",
                  "hund.io", "statuspal.io", "incident.io"}


def clean_url(raw: str) -> str | None:
    """A source's URL as the page URL: https, no query, no API/feed suffix; None if unusable."""
    raw = (raw or "").strip().strip("\"'")
    if not raw or "{" in raw or "\\(" in raw or " " in raw:
        return None
    try:
        url = normalise_url(raw)
    except ValueError:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if "." not in host or host in PLATFORM_HOMES:
        return None
    path = _DROP_SUFFIX_RE.sub("", parts.path).rstrip("/")
    return f"https://{parts.netloc}{path}"


def url_key(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}".lower()


def decamel(text: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text).strip()


def display_name(name: str) -> str:
    """'Sematext Status' -> 'Sematext': the vendor, not its page (a bare 'Status' stays)."""
    short = re.sub(r"\s+(-\s+)?(status( page)?|service status|system status)$", "", name.strip(), flags=re.I)
    return short.strip(" -") or name.strip()


def name_key(name: str) -> str:
    text = fold(name)
    text = re.sub(r"\s+(status( page)?|system status|service status|inc\.?|ltd\.?|llc)$", "", text)
    return squash(text)


def platform_word(word: str) -> str:
    return PLATFORM_WORDS.get((word or "").strip().lower(), "")


def label_category(label: str) -> str:
    return LABEL_CATEGORY.get((label or "").strip().lower(), "")


def tags_category(tags: str) -> str:
    for tag in (t.strip().lower() for t in (tags or "").split(",")):
        if tag in TAG_CATEGORY:
            return TAG_CATEGORY[tag]
    return ""


class Loader:
    def __init__(self, shared: Path, corpus: Path | None) -> None:
        self.src = shared / "sources"
        self.corpus = corpus
        self.leads: list[Lead] = []
        self.dropped: collections.Counter[str] = collections.Counter()
        self._check_provenance()

    def _check_provenance(self) -> None:
        listed = {row["file"] for row in csv.DictReader((self.src / "PROVENANCE.tsv").open(), delimiter="\t")}
        needed = {"inket_stts_services_union.json", "inket_stts_swift_history.json", "getsentry_status-page-list.csv",
                  "ivbeg_awesome-status-pages_public.csv", "sahin_status-page_services.csv",
                  "dogsbodytech_statuspile_providers.csv", "mv3-status-pages-extension_readme.tsv",
                  "jabbawocky_statuscraft_services.tsv", "bbsetup_public-bugbounty-data_statuspage_titles.tsv",
                  "unattributed_NEW_VENDORS.tsv", "metoro-io_statusphere_status_pages.go",
                  "lwindolf_multi-status_feeds.opml", "w6w-io_w6w-apps_HEALTHCHECKS.md",
                  "w6w-io_w6w-apps_health_services.ts.txt", "DrDroidLab_status-page-aggregator_servicesCatalog.ts",
                  "instatushq_out_services.ts.txt"}
        missing = needed - listed
        if missing:
            raise SystemExit(f"PROVENANCE.tsv does not describe {sorted(missing)}: check the sources before trusting them")

    def add(self, source: str, name: str, raw_url: str, **kw: object) -> Lead | None:
        url = clean_url(raw_url)
        name = re.sub(r"\s+", " ", (name or "").strip())
        if not url or not name:
            self.dropped[f"{source}: no usable URL or name"] += 1
            return None
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        if host in THIRD_PARTY_HOSTS:
            self.dropped[f"{source}: a third party's page about the vendor, not the vendor's"] += 1
            return None
        if (source, name, url) in ERRATA:
            self.dropped[f"{source}: known error in the source (ERRATA)"] += 1
            return None
        if host in W6W_DECOY_HOSTS:
            self.dropped[f"{source}: decoy host ({host}: {W6W_DECOY_HOSTS[host]}, measured by w6w-apps)"] += 1
            return None
        lead = Lead(source, name, url, **kw)  # type: ignore[arg-type]
        self.leads.append(lead)
        return lead

    def rows(self, name: str, delimiter: str = ",") -> list[dict[str, str]]:
        with (self.src / name).open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle, delimiter=delimiter))

    # --- one loader per source ---------------------------------------------------------------
    def stts(self) -> None:
        union = json.loads((self.src / "inket_stts_services_union.json").read_text())
        head = set(union["head"])
        for url, item in sorted(union["all"].items()):
            platform = platform_word(item.get("platform", ""))
            raw_id = str(item.get("id") or "")
            page_id = raw_id if (platform == "statuspage" and STATUSPAGE_ID_RE.fullmatch(raw_id)) or (
                platform == "statusio" and STATUSIO_ID_RE.fullmatch(raw_id)) or platform == "sorry" else ""
            olds = tuple(decamel(o) for o in item.get("old_names", []) if isinstance(o, str))
            self.add("stts" if url in head else "stts-history", item.get("name", ""), item.get("url") or url,
                     platform=platform, platform_note=item.get("platform", ""), page_id=page_id, aliases=olds)
        swift = json.loads((self.src / "inket_stts_swift_history.json").read_text())
        for path, item in sorted(swift.items()):
            if "/Super/" in path:
                continue
            classes = [c[1] for c in item.get("cls", [])]
            platform = next((platform_word(c) for c in classes if platform_word(c)), "")
            pages = [u for u in item.get("urls", []) if not re.search(r"/api(/|$)|\.json$|\.js$|/v\d/|rss|feed", u)]
            apis = [u for u in item.get("urls", []) if u not in pages]
            url = pages[0] if pages else (f"https://{urlsplit(apis[0]).hostname}" if apis else "")
            spids = [s for s in item.get("spid", []) if STATUSPAGE_ID_RE.fullmatch(s)]
            self.add("stts-history", decamel(Path(path).stem), url, platform=platform,
                     platform_note=",".join(classes), page_id=spids[0] if spids and platform == "statuspage" else "")

    def sentry(self) -> None:
        for row in self.rows("getsentry_status-page-list.csv"):
            if row.get("defunct", "false").strip().lower() == "true":
                self.dropped["sentry: marked defunct"] += 1
                continue
            self.add("sentry", row["name"], row["url"])

    def awesome(self) -> None:
        for row in self.rows("ivbeg_awesome-status-pages_public.csv"):
            self.add("awesome-status-pages", row["name"], row["url"])

    def sahin(self) -> None:
        for row in self.rows("sahin_status-page_services.csv"):
            self.add("sahin-2016", row["name"], row["url"], platform=platform_word(row["provider"]),
                     platform_note=row["provider"], category=label_category(row["category"]))

    def statuspile(self) -> None:
        for row in self.rows("dogsbodytech_statuspile_providers.csv"):
            self.add("statuspile", row["name"], row["url"], platform=platform_word(row["type"]),
                     platform_note=row["type"])

    def mv3(self) -> None:
        for row in self.rows("mv3-status-pages-extension_readme.tsv", "\t"):
            self.add("mv3-extension", row["name"], row["url"], category=label_category(row["category"]))

    def statuscraft(self) -> None:
        for row in self.rows("jabbawocky_statuscraft_services.tsv", "\t"):
            source = "statuscraft-batch" if row["section"] == "batch" else "statuscraft"
            kind = row["type"] or "statuspage"
            platform = platform_word(kind)
            note = f"type {kind}"
            same_as: tuple[str, ...] = ()
            page_id = ""
            api = row["status_url"].strip()
            if api:
                if m := re.search(r"api\.status\.io/1\.0/status/([0-9a-f]{24})", api):
                    platform, page_id, note = "statusio", m.group(1), "status.io API URL"
                else:
                    api_page = clean_url(api)
                    page = clean_url(row["page"])
                    # An API on another host is that page under a second name (a hosted alias);
                    # on the same host it is only an endpoint.
                    if api_page and page and urlsplit(api_page).hostname != urlsplit(page).hostname:
                        same_as = (f"https://{urlsplit(api_page).netloc}",)
                    by_host = platform_of_host(api)
                    if by_host and by_host != "html":
                        platform, note = by_host, f"API URL on {urlsplit(api).hostname}"
            self.add(source, row["name"], row["page"], platform=platform, platform_note=note,
                     category=tags_category(row["tags"]), same_as=same_as, page_id=page_id)

    def bbsetup(self) -> None:
        for row in self.rows("bbsetup_public-bugbounty-data_statuspage_titles.tsv", "\t"):
            title = row["title"].strip()
            low = title.lower()
            if "inactive" in low or low == "status page" or "sign in" in low or re.search(r"\blog ?in\b", low):
                self.dropped["bbsetup-2021: inactive, untitled or login page"] += 1
                continue
            name = re.sub(r"\s+(public\s+)?status(\s+page)?(\s+status)?$", "", title, flags=re.I).strip()
            sub_url = f"https://{row['subdomain_host']}"
            sub = row["subdomain_host"].split(".")[0]
            canonical = row["canonical"].strip()
            self.add("bbsetup-2021", name, canonical or sub_url, platform="statuspage",
                     platform_note="captured Statuspage HTML",
                     page_id=sub if STATUSPAGE_ID_RE.fullmatch(sub) else "",
                     same_as=(clean_url(sub_url) or "",) if canonical else ())

    def new_vendors(self) -> None:
        for row in self.rows("unattributed_NEW_VENDORS.tsv", "\t"):
            self.add("new-vendors", row["name"], row["url"], category=label_category(row["section"]))

    def corpus_pages(self) -> None:
        """Page ids, names and platforms from real captures (only documents that name their page URL)."""
        if self.corpus is None or not self.corpus.is_dir():
            return
        for path in sorted(self.corpus.rglob("*.json")):
            try:
                doc = load_json(path.read_bytes())
            except AdapterError:
                continue
            found = read_json_shape(doc, path.name)
            if "demo" in path.name:  # a platform's demo page, not a vendor
                continue
            if found and found.canonical and found.name:
                self.add("corpus", found.name, found.canonical, platform=found.platform,
                         platform_note=f"{path.parent.name}/{path.name}", page_id=found.page_id or "")

    def research(self) -> None:
        for pid, name, url, platform, category, aliases, page_id in RESEARCH:
            self.add("research", name, url, platform=platform, platform_note="docs/platforms.md",
                     category=category, aliases=aliases, page_id=page_id, fixed_id=pid)

    def maintainers(self) -> None:
        for name, url, category in MAINTAINER_LEADS:
            self.add("maintainers", name, url, category=category)

    # --- the 2024-26 lists ----------------------------------------------------------------------
    def w6w(self) -> None:
        """w6w-apps HEALTHCHECKS.md: per app, the status URL its live check reads and the platform it
        found. 'page' rows name a page with no machine-readable API; 'none' rows name no page."""
        names: dict[str, str] = {}
        text = (self.src / "w6w-io_w6w-apps_health_services.ts.txt").read_text(encoding="utf-8")
        for app, body in re.findall(r"^// ===== FILE: apps/([^/]+)/health/service\.ts\n(.*?)(?=^// ===== FILE|\Z)",
                                    text, re.M | re.S):
            if m := re.search(r"\*\s+Is (.+?) up\?", body):
                # "Baserow's hosted service" -> "Baserow"; "this org's Salesforce instance" -> the app slug
                name = re.sub(r"['’]s\b.*$", "", m.group(1)).strip(" *")
                if name and not name[0].islower():
                    names[app] = name
        table = (self.src / "w6w-io_w6w-apps_HEALTHCHECKS.md").read_text(encoding="utf-8")
        for app, label, url in re.findall(r"^\| \[([^\]]+)\]\([^)]*\) \| \[([^\]]+)\]\((https?://[^)\s]+)\)",
                                          table, re.M):
            platform = W6W_LABELS.get(label.lower())
            if platform is None:
                self.dropped[f"w6w-apps: {label} check, not a status page"] += 1
                continue
            page_id = ""
            if m := re.search(r"/pages/([0-9a-f]{24})/rss", url):
                platform, page_id = "statusio", m.group(1)
            host = urlsplit(url).hostname or ""
            if host == "api.status.io":  # the API names only a page id, not the page
                self.dropped["w6w-apps: status.io API URL without the page's own URL"] += 1
                continue
            page = W6W_PAGE_FOR.get(host) or re.sub(W6W_API_TAIL, "", url.split("?")[0])
            name = W6W_PAGE_NAMES.get(app) or names.get(app) or slug_name(app)
            lead = self.add("w6w-apps", name, page, platform=platform,
                            platform_note=f"w6w-apps {app} check reads {url}", page_id=page_id)
            if lead and platform == "feed":
                lead.feed_url = url

    def statusphere(self) -> None:
        text = (self.src / "metoro-io_statusphere_status_pages.go").read_text(encoding="utf-8")
        for block in re.findall(r"\{([^{}]*)\}", text):
            url = re.search(r'URL:\s*"([^"]+)"', block)
            name = re.search(r'Name:\s*"([^"]+)"', block)
            if not url or not name:
                self.dropped["statusphere: entry without URL or name"] += 1
                continue
            self.add("statusphere", slug_name(name.group(1)), url.group(1).split("#")[0])

    def multi_status(self) -> None:
        """Feeds by category: the page is the feed's site; the feed path says the platform where it is
        the platform's own (Statuspage's /history.atom, status.io's /pages/<id>/rss)."""
        import xml.etree.ElementTree as ET

        root = ET.parse(self.src / "lwindolf_multi-status_feeds.opml").getroot()
        for group in root.iter("outline"):
            if group.get("xmlUrl"):
                continue
            category = MULTI_STATUS_CATEGORY.get(group.get("text", ""), "")
            for item in group.findall("outline"):
                feed = (item.get("xmlUrl") or "").strip()
                parts = urlsplit(feed)
                if not parts.hostname:  # a sub-group: its own turn comes in iter()
                    continue
                path = parts.path
                page, platform, page_id, note = f"https://{parts.netloc}", "feed", "", f"feed {feed}"
                if re.search(r"^/history\.(atom|rss)$", path):
                    platform, note = "statuspage", f"Statuspage feed path {path}"
                elif m := re.fullmatch(r"/pages/([0-9a-f]{24})/rss", path):
                    platform, page_id, note = "statusio", m.group(1), "status.io feed path"
                elif parts.hostname in MULTI_STATUS_PAGE:
                    page, platform = MULTI_STATUS_PAGE[parts.hostname], ""
                lead = self.add("multi-status", slug_name(item.get("text", "")), page, platform=platform,
                                platform_note=note, category=category, page_id=page_id)
                if lead is not None:
                    lead.feed_url = feed if feed.startswith("https://") else ""

    def instatus_out(self) -> None:
        text = (self.src / "instatushq_out_services.ts.txt").read_text(encoding="utf-8")
        # A page id two classes share is a copy-paste slip (Dropbox carries Notion's): trust neither.
        ids = collections.Counter(re.findall(r"super\('[^']*', '[^']*', '([0-9a-z]{12})'\)", text))
        for cls, base, args in re.findall(r"class (\w+) extends (\w*)Service \{\s*constructor\(\) \{\s*"
                                          r"super\(([^)]*)\)", text):
            values = re.findall(r"'([^']*)'|\"([^\"]*)\"", args)
            strings = [a or b for a, b in values]
            if len(strings) < 2:
                self.dropped["instatus-out: service without a literal name and URL"] += 1
                continue
            platform = OUT_BASES.get(base, "")
            page_id = ""
            if len(strings) > 2 and (platform == "statuspage" and STATUSPAGE_ID_RE.fullmatch(strings[2]) or
                                     platform == "statusio" and STATUSIO_ID_RE.fullmatch(strings[2])):
                page_id = strings[2] if ids[strings[2]] <= 1 else ""
            self.add("instatus-out", strings[0], strings[1], platform=platform,
                     platform_note=f"{cls} extends {base or 'custom '}Service", page_id=page_id)

    def drdroid(self) -> None:
        text = (self.src / "DrDroidLab_status-page-aggregator_servicesCatalog.ts").read_text(encoding="utf-8")
        for block in re.findall(r"\{([^{}]*statusUrl[^{}]*)\}", text):
            name = re.search(r'name:\s*"([^"]+)"', block)
            url = re.search(r'statusUrl:\s*"([^"]+)"', block)
            tag_list = re.search(r"tags:\s*\[([^\]]*)\]", block)
            tags = re.findall(r'"([^"]+)"', tag_list.group(1)) if tag_list else []
            if not name or not url:
                self.dropped["drdroid: entry without name or statusUrl"] += 1
                continue
            if url.group(1).rstrip("/") in DRDROID_GENERIC_URLS:
                self.dropped["drdroid: a generic URL shared by several products"] += 1
                continue
            category = next((DRDROID_TAGS[t] for t in tags if t in DRDROID_TAGS), "")
            self.add("drdroid", name.group(1), url.group(1), category=category)

    def load_all(self) -> list[Lead]:
        for step in (self.research, self.corpus_pages, self.stts, self.sentry, self.statuspile, self.awesome,
                     self.mv3, self.bbsetup, self.sahin, self.statuscraft, self.new_vendors, self.maintainers,
                     self.w6w, self.statusphere, self.multi_status, self.instatus_out, self.drdroid):
            step()
        return self.leads


# ------------------------------------------------------------------------------------------------
# Merging
# ------------------------------------------------------------------------------------------------

def id_family(lead: Lead) -> str:
    if STATUSIO_ID_RE.fullmatch(lead.page_id):
        return "statusio"
    if ULID_RE.fullmatch(lead.page_id):
        return "incidentio"
    if lead.platform == "sorry":
        return "sorry"
    return "statuspage"


class Clusters:
    """Union-find over leads; a union that would join two different page ids is refused."""

    def __init__(self, leads: list[Lead]) -> None:
        self.leads = leads
        self.parent = list(range(len(leads)))
        self.ids: list[dict[str, str]] = [{id_family(lead): lead.page_id} if lead.page_id else {} for lead in leads]
        # stts at HEAD lists each service once: two of its entries are two pages (Sendbird's regions).
        self.listed_apart: list[frozenset[str]] = [frozenset({url_key(lead.url)}) if lead.source == "stts"
                                                   else frozenset() for lead in leads]
        self.refused = 0
        self.kept_apart = 0
        self.conflicts: list[str] = []
        self.reasons: collections.Counter[str] = collections.Counter()

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int, why: str, force: bool = False) -> bool:
        """Join two leads' clusters. Without ``force`` (name matches) clusters that carry different
        page ids stay apart: they are two pages. Same URL, id or alias always join (conflicting ids
        are then settled by source trust, and counted)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        apart_a, apart_b = self.listed_apart[ra], self.listed_apart[rb]
        if apart_a and apart_b and apart_a.isdisjoint(apart_b) and why != "same host and path":
            self.kept_apart += 1
            return False
        ida, idb = self.ids[ra], self.ids[rb]
        if any(ida[f] != idb[f] for f in ida.keys() & idb.keys()):
            if not force:
                self.refused += 1
                return False
            self.conflicts.append(f"{self.leads[a].url}: {ida} vs {idb}")
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.ids[ra] = {**self.ids[rb], **self.ids[ra]}
        self.listed_apart[ra] = apart_a | apart_b
        self.reasons[why] += 1
        return True

    def groups(self) -> list[list[Lead]]:
        out: dict[int, list[Lead]] = {}
        for i, lead in enumerate(self.leads):
            out.setdefault(self.find(i), []).append(lead)
        return list(out.values())


def merge(leads: list[Lead]) -> Clusters:
    clusters = Clusters(leads)

    def union_all(index: dict[str, list[int]], why: str, force: bool) -> None:
        for members in index.values():
            for other in members[1:]:
                clusters.union(members[0], other, why, force)

    by_url: dict[str, list[int]] = collections.defaultdict(list)
    for i, lead in enumerate(leads):
        by_url[url_key(lead.url)].append(i)
    union_all(by_url, "same host and path", True)
    by_host: dict[str, list[int]] = collections.defaultdict(list)
    for i, lead in enumerate(leads):
        host = url_key(lead.url).split("/", 1)[0]
        if host not in PATH_PAGES_HOSTS:
            by_host[host].append(i)
    union_all(by_host, "same host (paths on it are views of one page)", False)
    by_id: dict[str, list[int]] = collections.defaultdict(list)
    for i, lead in enumerate(leads):
        if lead.page_id:
            by_id[f"{id_family(lead)}:{lead.page_id}"].append(i)
    union_all(by_id, "same page id", True)
    for i, lead in enumerate(leads):
        for other in lead.same_as:
            if other and url_key(other) in by_url:
                clusters.union(i, by_url[url_key(other)][0], "hosted alias of the same page", True)
    by_name: dict[str, list[int]] = collections.defaultdict(list)
    for i, lead in enumerate(leads):
        key = name_key(lead.name)
        if key and key not in DISTINCT_NAMES:
            by_name[key].append(i)
    union_all(by_name, "same vendor name", False)
    for group in SAME_VENDOR:
        members = [i for name in group for i in by_name.get(name_key(name), [])]
        for other in members[1:]:
            clusters.union(members[0], other, "one vendor under several names (SAME_VENDOR)", True)
    # A former name recorded by a curated list (stts old_names) joins the old page to the new one.
    for i, lead in enumerate(leads):
        for alias in lead.aliases if lead.source == "stts" else ():
            for j in by_name.get(name_key(alias), []):
                if leads[j].source in {"stts-history", "sentry", "awesome-status-pages", "sahin-2016"}:
                    clusters.union(i, j, "former name in a curated list")
    return clusters


# ------------------------------------------------------------------------------------------------
# One catalog row per cluster
# ------------------------------------------------------------------------------------------------

def order(lst: list[str], source: str) -> int:
    return lst.index(source) if source in lst else len(lst)


def strength(source: str) -> str:
    return SOURCES[source][0]


def tier(source: str) -> str:
    """A: a live or curated source's word; B: a weak list's; C: a guess."""
    return {"listed": "B", "guess": "C"}.get(strength(source), "A")


def evidence_of(sources: list[str]) -> tuple[str, ...]:
    """'<strength>:<source>[@<when checked>]' per source, strongest first."""
    ranked = sorted(sources, key=lambda s: (STRENGTHS.index(strength(s)), s))
    return tuple(f"{strength(s)}:{s}" + (f"@{SOURCE_DATES[s]}" if s in SOURCE_DATES else "") for s in ranked)


def platforms_agree(claimed: str, platform: str) -> bool:
    """incident.io pages answer the Statuspage API too: a 'statuspage' reading of one agrees."""
    return claimed == platform or (claimed == "statuspage" and platform == "incidentio")


def choose_platform(leads: list[Lead], url: str) -> tuple[str, str]:
    """(platform, platform_from). platform_from is '<strength>:<source>' of the lead whose word
    settled it, 'guess:host' when only the host name says it, 'none' with no evidence at all."""
    def said_by(lead: Lead) -> str:
        return f"{strength(lead.source)}:{lead.source}"

    research = [lead for lead in leads if lead.source == "research"]
    if research:
        return research[0].platform, said_by(research[0])
    claims = sorted((lead for lead in leads if lead.platform), key=lambda lead: order(PLATFORM_ORDER, lead.source))
    strong = [lead for lead in claims if tier(lead.source) in {"A", "B"}]
    # w6w-apps read /api/v2/*.json: another source's incident.io is the more precise word.
    if strong and strong[0].platform == "statuspage" and (
            better := [lead for lead in strong if lead.platform == "incidentio"]):
        strong = better
    by_host = platform_of_host(url)
    if by_host:
        agreeing = [lead for lead in claims if platforms_agree(lead.platform, by_host)]
        return by_host, said_by(agreeing[0]) if agreeing else "guess:host"
    if strong:
        return strong[0].platform, said_by(strong[0])
    hosted = [(lead, p) for lead in sorted(leads, key=lambda x: order(URL_ORDER, x.source))
              if (p := platform_of_host(lead.url))]
    if hosted and tier(hosted[0][0].source) in {"A", "B"}:
        return hosted[0][1], "guess:host"
    if claims:
        return claims[0].platform, said_by(claims[0])
    if hosted:
        return hosted[0][1], "guess:host"
    return "html", "none"


def confidence_of(leads: list[Lead], url: str, platform: str, platform_from: str) -> str:
    """The rule in README "How far a row is trusted":
    verified   - a live probe (w6w-apps' check) read this very page as this platform;
    curated    - else a captured, polled or curated source names the page, or two weak lists do, and
                 the platform is not a machine's guess (a host rule such as *.statuspage.io counts);
    unverified - everything else: machine guesses alone, one weak list, or no platform evidence."""
    if platform_from == "none":
        return "unverified"
    if any(strength(lead.source) == "probed" and lead.platform and platforms_agree(lead.platform, platform)
           and url_key(lead.url) == url_key(url) for lead in leads):
        return "verified"
    kinds = collections.Counter(strength(s) for s in {lead.source for lead in leads})
    if platform_from.startswith("guess:") and platform_from != "guess:host":
        return "unverified"  # the page may be real, but its platform is a machine's guess (REVIEW.md 1)
    if kinds["captured"] or kinds["polled"] or kinds["curated"] or kinds["listed"] >= 2:
        return "curated"
    return "unverified"


PAGE_ID_ORDER = ["research", "w6w-apps", "stts", "corpus", "multi-status", "instatus-out", "bbsetup-2021",
                 "stts-history", "statuscraft"]
# How trusted the source of each row's page id is (by row URL), for settling an id two rows claim.
PAGE_ID_RANK: dict[str, int] = {}


def build_row(leads: list[Lead]) -> Entry:
    def best(field_order: list[str], has: object) -> list[Lead]:
        return sorted((lead for lead in leads if has(lead)), key=lambda lead: order(field_order, lead.source))

    # URL: the most trusted lead's, a custom domain before a hosted alias at equal trust.
    url_lead = min(leads, key=lambda lead: (order(URL_ORDER, lead.source), bool(ALIAS_HOST_RE.search(
        urlsplit(lead.url).hostname or "")), len(lead.url), lead.url))
    url = url_lead.url
    # Paths on one host are views of one page: the host's root view, where a lead names it.
    roots = [lead.url for lead in leads if urlsplit(lead.url).netloc == urlsplit(url).netloc
             and url.startswith(lead.url.rstrip("/")) and len(lead.url) < len(url)]
    url = min(roots, key=len) if roots else url
    name = display_name(best(NAME_ORDER, lambda lead: True)[0].name)
    name = SAME_VENDOR_NAME.get(name_key(name), name)  # a renamed or acquired vendor under today's name

    platform, platform_from = choose_platform(leads, url)
    categories = best(CATEGORY_ORDER, lambda lead: lead.category)
    category = categories[0].category if categories else fallback_category(name)

    page_id = ""
    # The newest trustworthy statement of an id wins (stts HEAD is 2026, most captures are older).
    for lead in best(PAGE_ID_ORDER, lambda lead: lead.page_id):
        if (platform == "statuspage" and STATUSPAGE_ID_RE.fullmatch(lead.page_id)) or (
                platform == "incidentio" and ULID_RE.fullmatch(lead.page_id)) or (
                platform == "statusio" and STATUSIO_ID_RE.fullmatch(lead.page_id)) or (
                platform == "sorry" and lead.page_id.isdigit()) or (
                # An UptimeRobot page key / Uptime.com slug, from the research list only.
                platform in {"uptimerobot", "uptimecom"} and lead.source == "research"):
            page_id = lead.page_id
            PAGE_ID_RANK[url] = order(PAGE_ID_ORDER, lead.source)
            break

    aliases: list[str] = []
    seen = {name_key(name)}
    for lead in sorted(leads, key=lambda x: order(NAME_ORDER, x.source)):
        for alias in (lead.name, *lead.aliases):
            key = name_key(alias)
            if key and key not in seen and len(alias) <= 60:
                seen.add(key)
                aliases.append(alias)

    alt = sorted({u for lead in leads for u in (lead.url, *lead.same_as) if u and url_key(u) != url_key(url)})
    sources = sorted({lead.source for lead in leads}, key=lambda s: order(URL_ORDER, s))
    evidence = evidence_of(sources)
    confidence = confidence_of(leads, url, platform, platform_from)
    feed_url = ""
    if platform == "feed":
        feed_url = next((lead.feed_url for lead in sorted(leads, key=lambda x: order(URL_ORDER, x.source))
                         if lead.feed_url), "")
        if not feed_url:  # a feed platform with no feed to read is no platform at all
            platform, platform_from, confidence = "html", "none", "unverified"
    elif platform_from != "none" and platform != "incidentio":  # incident.io vanity hosts may not serve the feed
        feed_url = feed_url_for(platform, url, page_id or None, []) or ""
    fixed = next((lead.fixed_id for lead in leads if lead.fixed_id), "")
    return Entry(id=fixed, name=name, url=url, platform=platform, category=category, aliases=tuple(aliases),
                 page_id=page_id or None, feed_url=feed_url or None, confidence=confidence, sources=tuple(sources),
                 alt_urls=tuple(alt), platform_from=platform_from, evidence=evidence)


def registrable(host: str) -> str:
    parts = host.removeprefix("www.").split(".")
    if len(parts) >= 3 and parts[-2] in {"co", "com", "org", "net", "gov", "ac"} and len(parts[-1]) == 2:
        return ".".join(parts[-3:])
    return ".".join(parts[-2:])


def assign_ids(entries: list[Entry]) -> list[Entry]:
    """Slug of the name; where names collide the best-ranked row keeps it, others add their domain."""
    from dataclasses import replace

    taken = {e.id for e in entries if e.id}
    rank = {"verified": 0, "curated": 1, "unverified": 2}
    ordered = sorted((e for e in entries if not e.id),
                     key=lambda e: (slugify(e.name), rank[e.confidence], -len(e.sources), e.url))
    out = [e for e in entries if e.id]
    for entry in ordered:
        base = slugify(entry.name)
        candidates = [base]
        domain = slugify(registrable(urlsplit(entry.url).hostname or ""))
        candidates.append(domain if domain.startswith(base) else f"{base}-{domain}")
        candidates += [f"{base}-{n}" for n in range(2, 100)]
        pid = next(c for c in candidates if c not in taken)
        taken.add(pid)
        out.append(replace(entry, id=pid))
    return out


def build(shared: Path, corpus: Path | None) -> tuple[list[Entry], dict[str, object]]:
    from dataclasses import replace

    loader = Loader(shared, corpus)
    leads = loader.load_all()
    clusters = merge(leads)
    groups = clusters.groups()
    entries = assign_ids([build_row(g) for g in groups])
    by_id = {e.id: e for e in entries}
    for pid, extra in EXTRA_ALIASES.items():
        if pid in by_id:
            entry = by_id[pid]
            seen = {name_key(a) for a in (entry.name, *entry.aliases)}
            by_id[pid] = replace(entry, aliases=(*entry.aliases, *(a for a in extra if name_key(a) not in seen)))
    # A page id two rows claim belongs to the one with the better source for it (an old stts version
    # once gave Sendbird Canada the Frankfurt page's id); the other row loses it, and its id-based feed.
    claimed: dict[str, list[Entry]] = collections.defaultdict(list)
    for entry in by_id.values():
        if entry.page_id:
            claimed[entry.page_id].append(entry)
    for rows in claimed.values():
        for loser in sorted(rows, key=lambda e: (PAGE_ID_RANK.get(e.url, 99), e.id))[1:]:
            feed = loser.feed_url if loser.feed_url and loser.page_id not in loser.feed_url else None
            by_id[loser.id] = replace(loser, page_id=None, feed_url=feed)
    for pid, category in CATEGORY_FIXES.items():
        if pid in by_id:
            by_id[pid] = replace(by_id[pid], category=category)
    for pid, why in DEFUNCT.items():
        if pid in by_id:
            by_id[pid] = replace(by_id[pid], defunct=why)
    entries = drop_colliding_aliases(list(by_id.values()))
    bad = [e for e in entries if e.platform not in PLATFORMS or e.category not in CATEGORIES]
    if bad:
        raise SystemExit(f"internal error: rows with unknown platform/category: {bad[:3]}")
    stats = {
        "leads": len(leads),
        "leads per source": collections.Counter(lead.source for lead in leads).most_common(),
        "dropped": dict(loader.dropped),
        "vendors": len(entries),
        "leads merged away": len(leads) - len(entries),
        "merges by reason": dict(clusters.reasons),
        "name merges refused (different page ids)": clusters.refused,
        "merges refused (two stts entries)": clusters.kept_apart,
        "page-id conflicts settled by trust": clusters.conflicts,
        "multi-URL vendors": sum(1 for e in entries if e.alt_urls),
        "confidence": collections.Counter(e.confidence for e in entries).most_common(),
        "platform": collections.Counter(e.platform for e in entries).most_common(),
        "platform_from": collections.Counter(e.platform_from for e in entries).most_common(),
        "category": collections.Counter(e.category for e in entries).most_common(),
        "with page_id": sum(1 for e in entries if e.page_id),
        "with feed_url": sum(1 for e in entries if e.feed_url),
    }
    return entries, stats


def drop_colliding_aliases(entries: list[Entry]) -> list[Entry]:
    """An alias that is another vendor's name would make that name ambiguous: drop it."""
    from dataclasses import replace

    names = collections.Counter(name_key(e.name) for e in entries)
    out = []
    for entry in entries:
        keep = tuple(a for a in entry.aliases if names[name_key(a)] == 0)
        out.append(replace(entry, aliases=keep) if keep != entry.aliases else entry)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "catalog")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--out", type=Path, default=REPO / "providers" / "catalog.csv")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not (args.shared / "sources").is_dir():
        print(f"no sources under {args.shared}", file=sys.stderr)
        return 1
    entries, stats = build(args.shared, args.corpus)
    write_csv(entries, args.out)
    if not args.quiet:
        for key, value in stats.items():
            print(f"{key}: {value}")
        print(f"wrote {len(entries)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
