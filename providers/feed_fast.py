"""A fast reader for ordinary RSS 2.0 and Atom 1.0 feeds: the ``FeedDocument`` feedparser's path gives.

feedparser spends most of its time in Python-level SAX callbacks and in its sgmllib-based HTML
sanitizer. This reader parses with the C ``xml.etree`` (expat), sanitizes entry HTML with
``nh3`` (the Rust ``ammonia`` sanitizer; ``providers.feed_html`` checks it first) and builds
``providers.feed_model.FeedDocument`` directly. It uses no private part of feedparser or of any other package.

What it gives is what ``providers.feed`` builds from feedparser's result, value for value, except
the sanitized HTML, which is ammonia's serialization instead of feedparser's (``<br>`` for
``<br />``, ``&amp;``/``&nbsp;`` where feedparser kept other entity forms): the text in it, and so
every title, status, time, link and update body taken from it, is the same. The few feedparser
steps that change values are re-done here from what they do: the latin-1/UTF-8 and cp1252 repairs
of text, the extra slashes after ``scheme://`` in links, the ``&amp;`` fixes in RSS links, which
link and id stand in for which, which text constructs are HTML.

It works from an allow-list: any element, attribute, namespace, encoding or markup it has not
been written for makes it decline (``read_feed_fast`` returns None) and the caller uses
feedparser. It declines in particular on

* bodies that are not UTF-8 (or declared US-ASCII and pure ASCII), carry NUL bytes, a
  non-UTF-8 BOM, an XML declaration other than version 1.0, or any ``<!DOCTYPE``;
* anything expat cannot parse (undeclared entities, bad nesting, junk after the root);
* roots other than ``{http://www.w3.org/2005/Atom}feed`` and ``<rss version="2.0"><channel>``
  (RSS 0.9x/1.0 and Atom 0.3 stay with feedparser), namespaces that make feedparser pick another
  version, and the prefixes ``content``, ``dc`` and ``atom`` bound to anything but their usual
  namespaces;
* ``xml:base`` / ``base`` attributes, elements or attributes off the allow-list, repeated
  single-valued elements, markup inside text constructs (``type="xhtml"``), content types other
  than text and HTML (``src``, base64), dates that ``aggregator.page.adapter.parse_time`` cannot read;
* markup that an HTML5 parser (ammonia's) and feedparser's sgmllib would read into different
  text: elements whose content is not ordinary markup (``script``, ``style``, ``textarea``,
  ``svg``, ``math``, ``iframe``, tables, forms, ...), comments, CDATA, processing instructions,
  ``<`` that does not start a well-formed tag, unquoted attributes, end tags that do not close
  the open element, blocks opened inside ``<p>``, ``&`` that is not a known entity or a character
  reference with its ``;``, mis-decoded UTF-8 next to markup, ``<`` in titles.

Security: this module never gives expat a DTD. It runs after ``providers.feed`` has refused bodies
declaring entities, and declines on its own any body containing ``<!DOCTYPE`` (searched in a body
already known to be UTF-8 without NUL bytes, so no other encoding can hide one) before expat is
called; ``xml.etree`` fetches no external resource. Every HTML value it puts in a ``FeedEntry``
went through nh3 (its default allow-list of tags and attributes, URLs restricted to http, https
and mailto), or is made only of text, entity references and closed tags without attributes
from that same allow-list, which nh3 would keep as they are; either way it holds no script, no
event-handler attribute and no ``javascript:`` link. Text constructs typed as plain text are
taken only when they hold no ``<`` at all, and titles only without markup.
"""

from __future__ import annotations

import codecs
import io
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from aggregator.page.reading import parse_time, strip_html, text_or_none
from providers.feed_html import Decline as _Decline
from providers.feed_html import check_text as _check_text
from providers.feed_html import repair as _repair
from providers.feed_html import sanitize_html
from providers.feed_model import FeedDocument, FeedEntry, make_entry

ATOM_NS = "http://www.w3.org/2005/Atom"
_ATOM = "{" + ATOM_NS + "}"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
_CONTENT = "{" + CONTENT_NS + "}"
_DC = "{" + DC_NS + "}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# ------------------------------------------------------------------------------------------------
# The body: encoding, declaration, DOCTYPE, namespaces
# ------------------------------------------------------------------------------------------------

_DOCTYPE_RE = re.compile(rb"<!doctype", re.I)
_XML_DECL_RE = re.compile(rb"<\?xml\s[^>]*>")
_DECL_VERSION_RE = re.compile(rb"""version\s*=\s*["']1\.0["']""")
_DECL_ENCODING_RE = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
# feedparser reads a declared encoding from the first line only; expat from the whole declaration.
_FIRST_LINE_ENCODING_RE = re.compile(rb"""^<\?[^\n]*encoding\s*=\s*["']([^"']*)["']""")
_ENCODINGS = frozenset({"utf-8", "us-ascii"})


def _check_body(body: bytes) -> None:
    data = body[3:] if body.startswith(codecs.BOM_UTF8) else body
    if b"\x00" in data:  # UTF-16/32 without a BOM, or not XML at all
        raise _Decline
    try:
        data.decode("utf-8")  # strict: feedparser would try windows-1252 next, expat would fail
    except UnicodeDecodeError:
        raise _Decline from None
    if _DOCTYPE_RE.search(data):
        raise _Decline
    declared = [m.group(1) for m in _FIRST_LINE_ENCODING_RE.finditer(data[:1024])]
    if decl := _XML_DECL_RE.match(data):
        if not _DECL_VERSION_RE.search(decl.group(0)):
            raise _Decline
        declared += _DECL_ENCODING_RE.findall(decl.group(0))
    names = {name.decode("ascii", "replace").lower() for name in declared}
    if not names <= _ENCODINGS:
        raise _Decline
    if "us-ascii" in names and not data.isascii():
        raise _Decline


# Namespaces whose declaration makes feedparser call the document RSS 1.0 / 0.90.
_VERSION_NAMESPACES = frozenset({"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"})
# feedparser files elements by prefix where it knows one: these must mean what they usually mean.
_USUAL_PREFIXES = {"content": CONTENT_NS, "dc": DC_NS, "atom": ATOM_NS}


def _parse(body: bytes) -> ET.Element:
    events = ET.iterparse(io.BytesIO(body), events=("start-ns",))
    try:
        for _event, (prefix, uri) in events:
            if uri.lower() in _VERSION_NAMESPACES or "backend.userland.com" in uri.lower():
                raise _Decline
            if prefix in _USUAL_PREFIXES and uri != _USUAL_PREFIXES[prefix]:
                raise _Decline
    except ET.ParseError:
        raise _Decline from None
    root: ET.Element = events.root  # type: ignore[attr-defined]
    return root


# ------------------------------------------------------------------------------------------------
# Text values as feedparser leaves them
# ------------------------------------------------------------------------------------------------

_EXTRA_SLASHES_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)/+")


def _resolve(uri: str) -> str:
    # feedparser joins every link and id onto the document's base URI, which is empty without
    # xml:base (declined): that only drops extra slashes after "scheme://".
    return _EXTRA_SLASHES_RE.sub(r"\1", uri) if ":///" in uri else uri


_LINK_ENTITY_RE = re.compile("&([A-Za-z0-9_]+);")

# ------------------------------------------------------------------------------------------------
# Elements
# ------------------------------------------------------------------------------------------------

def _role(table: dict[str, str], tag: Any) -> str:
    if not isinstance(tag, str):
        raise _Decline
    role = table.get(tag)
    if role is None:
        # feedparser lowercases local names: "{ns}PubDate" reads as pubdate.
        if tag[:1] == "{":
            namespace, _, local = tag.partition("}")
            role = table.get(f"{namespace}}}{local.lower()}")
        else:
            role = table.get(tag.lower())
        if role is None:
            raise _Decline
    return role


_NO_ATTRS: frozenset[str] = frozenset()


def _attrs(element: ET.Element, allowed: frozenset[str]) -> dict[str, str]:
    """The element's attributes by lowercased name; declines on any not allowed (xml:lang is)."""
    attrib = element.attrib
    if not attrib:
        return {}
    found: dict[str, str] = {}
    for name, value in attrib.items():
        if name == _XML_LANG:
            continue
        low = name.lower()
        if low not in allowed or low in found:
            raise _Decline
        found[low] = value
    return found


def _leaf(element: ET.Element) -> str:
    if len(element):
        raise _Decline
    return (element.text or "").strip()


def _inert(element: ET.Element) -> None:
    """An element feedparser stores somewhere this reader does not look: no children, no base."""
    if len(element):
        raise _Decline
    for name in element.attrib:
        if name != _XML_LANG and (name[:1] == "{" or name.lower() == "base"):
            raise _Decline


def _inert_tree(element: ET.Element, children: frozenset[str]) -> None:
    _attrs(element, _NO_ATTRS)
    for child in element:
        if not isinstance(child.tag, str) or child.tag not in children:
            raise _Decline
        _inert(child)


# A text construct: its value and whether feedparser takes it as HTML.
Text = tuple[str, bool]

_TEXT_TYPES = {"text": False, "html": True, "text/plain": False, "text/html": True}
_TYPE_ONLY = frozenset({"type"})
_LOOKS_LIKE_MARKUP_RE = re.compile(r"</\w+>|&#?\w+;")


def _atom_text(element: ET.Element) -> Text:
    """An Atom text construct (title, summary, content) of ``type`` text or html."""
    is_html = _TEXT_TYPES.get(_attrs(element, _TYPE_ONLY).get("type", "text").lower())
    if is_html is None:
        raise _Decline  # xhtml, base64, other media types
    return _leaf(element), is_html


def _rss_text(element: ET.Element, is_html: bool) -> Text:
    """RSS title (HTML only if it looks like it, as feedparser decides) or description (HTML)."""
    _attrs(element, _NO_ATTRS)
    value = _leaf(element)
    return value, is_html or bool(_LOOKS_LIKE_MARKUP_RE.search(value))


def _title(text: Text | None) -> str | None:
    """A title as feedparser stores it. Titles with markup are declined, so that no HTML
    sanitizer's choices show in them; entities stay as they are, as feedparser leaves them."""
    if text is None:
        return None
    value, is_html = text
    if is_html:
        _check_text(value)
        if "&#" in value:
            raise _Decline  # feedparser rewrites some character references
    return _repair(value)


def _html(text: Text | None) -> str:
    """An entry's summary or content as its HTML: sanitized if HTML, plain text if it has no '<'."""
    if text is None:
        return ""
    value, is_html = text
    if is_html:
        return sanitize_html(value)
    if "<" in value:
        raise _Decline  # plain text that downstream code would read as markup
    return _repair(value).replace("\r\n", "\n")


def _entry_html(content: Text | None, summary: Text | None) -> str:
    # The first content value when it is not empty, else the summary.
    return _html(content) or _html(summary)


def _plain(element: ET.Element, allowed: frozenset[str] = _NO_ATTRS) -> str:
    """A value feedparser neither sanitizes nor resolves (dates, generator, category text)."""
    _attrs(element, allowed)
    return _repair(_leaf(element))


def _entry_time(element: ET.Element) -> datetime | None:
    # feedparser's own date parser reads what parse_time cannot; where that matters, it reads.
    value = _plain(element)
    if not value:
        return None
    if (parsed := parse_time(value)) is None:
        raise _Decline
    return parsed


_LINK_ATTRS = frozenset({"href", "rel", "type", "hreflang", "title", "length"})
_HTML_TYPES = frozenset({"text/html", "html", "application/xhtml+xml", "xhtml"})


def _atom_link(element: ET.Element) -> str | None:
    """The href feedparser takes as the context's ``link`` from an Atom link, else None."""
    if len(element):
        raise _Decline
    attrs = _attrs(element, _LINK_ATTRS)
    if "href" not in attrs:
        raise _Decline  # the element's text would be the link
    rel = attrs.get("rel", "alternate").lower()
    kind = attrs.get("type", "application/atom+xml" if rel == "self" else "text/html").lower()
    if rel == "alternate" and kind in _HTML_TYPES:
        return _resolve(attrs["href"])
    return None


def _id(element: ET.Element, allowed: frozenset[str]) -> tuple[str, bool]:
    """(value, whether feedparser also takes it as the link): Atom id, RSS guid."""
    attrs = _attrs(element, allowed)
    is_link = attrs.get("ispermalink", "true") == "true"
    value = _leaf(element)
    if value and is_link:
        value = _resolve(value)
    return _repair(value), is_link


def _rss_link(element: ET.Element) -> str:
    _attrs(element, _NO_ATTRS)
    value = _leaf(element)
    if value:
        value = _resolve(value)
    return _repair(value)


def _add_tag(tags: list[list[str | None]], term: str | None, scheme: str | None, label: str | None) -> None:
    if not term and not scheme and not label:
        return
    value = [term, scheme, label]
    if value not in tags:
        tags.append(value)


def _category(element: ET.Element, tags: list[list[str | None]], allowed: frozenset[str]) -> None:
    """Categories as feedparser lists them: [term, scheme, label], text filling a missing term."""
    attrs = _attrs(element, allowed)
    _add_tag(tags, attrs.get("term"), attrs.get("scheme", attrs.get("domain")), attrs.get("label"))
    value = _repair(_leaf(element))
    if not value:
        return
    if tags and not tags[-1][0]:
        tags[-1][0] = value
    else:
        _add_tag(tags, value, None, None)


class _Once:
    """Single-valued elements: a second one (which feedparser resolves by depth rules) declines."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, role: str) -> None:
        if role in self.seen:
            raise _Decline
        self.seen.add(role)


class _Entry:
    """An entry's values while its elements are read."""

    __slots__ = ("id", "link", "title", "content", "summary", "published", "updated", "tags")

    def __init__(self) -> None:
        self.id: str | None = None
        self.link: str | None = None
        self.title: str | None = None
        self.content: Text | None = None
        self.summary: Text | None = None
        self.published: datetime | None = None
        self.updated: datetime | None = None
        self.tags: list[list[str | None]] = []

    def build(self) -> FeedEntry | None:
        link = text_or_none(self.link)
        html = _entry_html(self.content, self.summary)
        if html and text_or_none(self.id) is None and link is None and not strip_html(self.title):
            raise _Decline  # the entry's id would be the start of its HTML, which is nh3's here
        return make_entry(link=link, raw_id=self.id, title=self.title or "", html=html,
                          published=self.published, updated=self.updated, terms=[tag[0] for tag in self.tags])


class _Channel:
    __slots__ = ("version", "title", "link", "updated", "published", "generator", "entries")

    def __init__(self, version: str) -> None:
        self.version = version
        self.title: str | None = None
        self.link: str | None = None
        self.updated: str | None = None
        self.published: str | None = None
        self.generator: str | None = None
        self.entries: list[FeedEntry | None] = []

    def build(self) -> FeedDocument:
        return FeedDocument(
            title=text_or_none(self.title),
            link=text_or_none(self.link),
            updated=parse_time(self.updated or self.published),
            generator=text_or_none(self.generator),
            version=self.version,
            entries=[e for e in self.entries if e is not None],
        )


# --- Atom 1.0 -------------------------------------------------------------------------------------

def _atom_roles(names: dict[str, str]) -> dict[str, str]:
    return {_ATOM + name: role for name, role in names.items()}


_ATOM_FEED = _atom_roles({
    "title": "title", "link": "link", "id": "id", "updated": "updated", "published": "published",
    "generator": "generator", "entry": "entry",
    "subtitle": "inert", "rights": "inert", "icon": "inert", "logo": "inert", "category": "inert",
    "author": "person", "contributor": "person",
})
_ATOM_ENTRY = _atom_roles({
    "title": "title", "link": "link", "id": "id", "updated": "updated", "published": "published",
    "summary": "summary", "content": "content", "category": "category",
    "rights": "inert", "author": "person", "contributor": "person",
})
_ATOM_PERSON = frozenset(_ATOM + name for name in ("name", "email", "uri"))
_GENERATOR_ATTRS = frozenset({"uri", "version"})
_ATOM_CATEGORY_ATTRS = frozenset({"term", "scheme", "label"})


def _atom_feed(root: ET.Element) -> FeedDocument:
    _attrs(root, _NO_ATTRS)
    feed = _Channel("atom10")
    once = _Once()
    id_link: str | None = None
    for child in root:
        role = _role(_ATOM_FEED, child.tag)
        if role == "entry":
            feed.entries.append(_atom_entry(child))
            continue
        if role not in ("link", "inert", "person"):
            once(role)
        if role == "title":
            feed.title = _title(_atom_text(child))
        elif role == "link":
            if (href := _atom_link(child)) is not None:
                feed.link = href
        elif role == "id":
            id_link = _id(child, _NO_ATTRS)[0]
        elif role == "updated":
            feed.updated = _plain(child)
        elif role == "published":
            feed.published = _plain(child)
        elif role == "generator":
            feed.generator = _plain(child, _GENERATOR_ATTRS)
        elif role == "person":
            _inert_tree(child, _ATOM_PERSON)
        else:
            _inert(child)
    if feed.link is None:  # the id stands in for the link (feedparser's guidislink)
        feed.link = id_link
    return feed.build()


def _atom_entry(element: ET.Element) -> FeedEntry | None:
    _attrs(element, _NO_ATTRS)
    entry = _Entry()
    once = _Once()
    alternate: str | None = None
    for child in element:
        role = _role(_ATOM_ENTRY, child.tag)
        if role not in ("link", "category", "inert", "person"):
            once(role)
        if role == "title":
            entry.title = _title(_atom_text(child))
        elif role == "link":
            if (href := _atom_link(child)) is not None:
                alternate = href
        elif role == "id":
            entry.id = _id(child, _NO_ATTRS)[0]
        elif role == "updated":
            entry.updated = _entry_time(child)
        elif role == "published":
            entry.published = _entry_time(child)
        elif role == "summary":
            entry.summary = _atom_text(child)
        elif role == "content":
            entry.content = _atom_text(child)
        elif role == "category":
            _category(child, entry.tags, _ATOM_CATEGORY_ATTRS)
        elif role == "person":
            _inert_tree(child, _ATOM_PERSON)
        else:
            _inert(child)
    entry.link = alternate if alternate is not None else entry.id
    return entry.build()


# --- RSS 2.0 ------------------------------------------------------------------------------------

def _with_camel_case(roles: dict[str, str], *names: str) -> dict[str, str]:
    table = dict(roles)
    for name in names:  # the spelling feeds use, besides the lowercased one feedparser matches
        table[name] = roles[name.lower()]
    return table


_RSS_CHANNEL = _with_camel_case({
    "title": "title", "link": "link", _ATOM + "link": "atomlink", "pubdate": "published",
    "lastbuilddate": "updated", "generator": "generator", "item": "item", "image": "image",
    "description": "inert", "language": "inert", "copyright": "inert", "managingeditor": "inert",
    "webmaster": "inert", "category": "inert", "docs": "inert", "cloud": "inert", "ttl": "inert",
}, "pubDate", "lastBuildDate", "managingEditor", "webMaster")
_RSS_ITEM = _with_camel_case({
    "title": "title", "link": "link", "description": "summary", _CONTENT + "encoded": "content",
    "pubdate": "published", "guid": "id", "category": "category",
    "author": "inert", "comments": "inert", "enclosure": "inert", _DC + "creator": "inert",
}, "pubDate")
# Children of <image> that leave feedparser in its image context (any other one would not).
_RSS_IMAGE = frozenset({"title", "link", "description", "url", "width", "height"})
_RSS_ROOT_ATTRS = frozenset({"version"})
_GUID_ATTRS = frozenset({"ispermalink"})
_RSS_CATEGORY_ATTRS = frozenset({"domain"})


def _rss_feed(root: ET.Element) -> FeedDocument:
    if _attrs(root, _RSS_ROOT_ATTRS).get("version") != "2.0":
        raise _Decline
    channels = list(root)
    if len(channels) != 1 or channels[0].tag != "channel":
        raise _Decline
    channel = channels[0]
    _attrs(channel, _NO_ATTRS)
    feed = _Channel("rss20")
    once = _Once()
    for child in channel:
        role = _role(_RSS_CHANNEL, child.tag)
        if role == "item":
            feed.entries.append(_rss_item(child))
            continue
        if role not in ("atomlink", "inert"):
            once(role)
        if role == "title":
            feed.title = _title(_rss_text(child, is_html=False))
        elif role == "link":
            feed.link = _LINK_ENTITY_RE.sub(r"&\g<1>", _rss_link(child))
        elif role == "atomlink":
            if (href := _atom_link(child)) is not None:
                feed.link = href
        elif role == "published":
            feed.published = _plain(child)
        elif role == "updated":
            feed.updated = _plain(child)
        elif role == "generator":
            feed.generator = _plain(child)
        elif role == "image":
            _inert_tree(child, _RSS_IMAGE)
        else:
            _inert(child)
    return feed.build()


def _rss_item(element: ET.Element) -> FeedEntry | None:
    _attrs(element, _NO_ATTRS)
    entry = _Entry()
    once = _Once()
    link: str | None = None
    guid_link: str | None = None
    for child in element:
        role = _role(_RSS_ITEM, child.tag)
        if role not in ("category", "inert"):
            once(role)
        if role == "title":
            entry.title = _title(_rss_text(child, is_html=False))
        elif role == "link":
            # feedparser unescapes "&amp;" in RSS links and drops the ';' of other references.
            link = _LINK_ENTITY_RE.sub(r"&\g<1>", _rss_link(child).replace("&amp;", "&"))
        elif role == "summary":
            entry.summary = _rss_text(child, is_html=True)
        elif role == "content":
            entry.content = _rss_text(child, is_html=True)
        elif role == "published":
            entry.published = _entry_time(child)
        elif role == "id":
            entry.id, is_link = _id(child, _GUID_ATTRS)
            if is_link:
                guid_link = entry.id
        elif role == "category":
            _category(child, entry.tags, _RSS_CATEGORY_ATTRS)
        else:
            _inert(child)
    entry.link = link if link is not None else guid_link
    return entry.build()


# ------------------------------------------------------------------------------------------------

def read_feed_fast(body: bytes) -> FeedDocument | None:
    """The ``FeedDocument`` of an ordinary RSS 2.0 / Atom 1.0 body, or None to use feedparser.

    Call it only after ``providers.feed.check_feed_safety`` (``read_feed`` does); it declines
    any DOCTYPE itself before parsing.
    """
    try:
        _check_body(body)
        root = _parse(body)
        if root.tag == _ATOM + "feed":
            return _atom_feed(root)
        if root.tag == "rss":
            return _rss_feed(root)
    except _Decline:
        return None
    return None
