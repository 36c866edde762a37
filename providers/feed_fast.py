"""A fast reader for ordinary RSS 2.0 and Atom 1.0 feeds that gives what feedparser gives.

feedparser spends most of its time in Python-level SAX callbacks and in its sgmllib-based HTML
sanitizer. This module parses with the C ``xml.etree`` (expat, no DTD) and reproduces, for the
small part of the format space that status pages use, exactly the values ``providers.feed``
reads from feedparser's result: the version string; the channel's title, link, updated,
published and generator; each entry's id, link, title, HTML (content, else summary), published,
updated and category terms. Text goes through the same steps as in feedparser's ``_FeedParserMixin.pop``
(strip, relative-URI fixing, HTML sanitizing, the latin-1/UTF-8 and cp1252 repairs, the link
``&amp;`` fixes), and HTML is re-serialised as ``feedparser.sanitizer._sanitize_html`` would.

It works from an allow-list: any element, attribute, namespace, encoding or HTML construct it
has not been written for makes it decline (``read_plain_feed`` returns None) and the caller
uses feedparser. It declines in particular on

* bodies that are not UTF-8 (or declared US-ASCII and pure ASCII), carry NUL bytes, a
  non-UTF-8 BOM, an XML declaration other than version 1.0, or any ``<!DOCTYPE``;
* anything expat cannot parse (undeclared entities, bad nesting, junk after the root);
* roots other than ``{http://www.w3.org/2005/Atom}feed`` and ``<rss version="2.0"><channel>``
  (RSS 0.9x/1.0 and Atom 0.3 stay with feedparser), and namespace declarations that make
  feedparser pick another version or map a prefix it reads elsewhere;
* ``xml:base`` / ``base`` attributes, elements or attributes off the allow-list, repeated
  single-valued elements, markup inside text constructs (``type="xhtml"``), content types other
  than text and HTML (``src``, base64);
* HTML in entries that feedparser's sanitizer would treat in ways not reproduced here: elements
  whose text it drops (``script``, ``style``, ``applet``: ``unacceptable_elements_with_end_tag``),
  SVG and MathML, comments, processing instructions, declarations and CDATA sections, ``style``
  attributes, unquoted or value-less attributes, ``<`` starting anything but a well-formed tag.

Security: this module never sees a DTD. It is meant to run after ``providers.feed`` has refused
bodies declaring entities, and it declines on its own on any ``<!DOCTYPE`` (searched in a body
already known to be UTF-8 without NUL bytes, so no other encoding can hide one) before expat is
called. ``xml.etree`` does not fetch external resources.
"""

from __future__ import annotations

import codecs
import contextlib
import html.entities
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import feedparser
from feedparser.encodings import RE_XML_PI_ENCODING
from feedparser.html import _BaseHTMLProcessor, _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.sanitizer import _HTMLSanitizer
from feedparser.urls import _urljoin, make_safe_absolute_uri

# What is reproduced here was read in, and is tested against, feedparser 6.0.x: another release
# may sanitize or map differently, so until it has been checked again every body goes to it.
VERIFIED_FEEDPARSER = feedparser.__version__.startswith("6.0.")

ATOM_NS = "http://www.w3.org/2005/Atom"
_ATOM = "{" + ATOM_NS + "}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(slots=True)
class PlainEntry:
    """The raw strings feedparser would store for one entry (None where it stores nothing)."""

    id: str | None = None
    link: str | None = None
    title: str | None = None
    # What providers.feed reads as the entry's HTML: the first content value when it is not
    # empty, else the summary (feedparser's "summary" is the description, else a copy of the
    # content). Unused summaries are not sanitized.
    html: str = ""
    published: str | None = None
    updated: str | None = None
    tags: list[list[str | None]] = field(default_factory=list)  # [term, scheme, label]


@dataclass(slots=True)
class PlainFeed:
    version: str
    title: str | None = None
    link: str | None = None
    updated: str | None = None
    published: str | None = None
    generator: str | None = None
    entries: list[PlainEntry] = field(default_factory=list)


class _Decline(Exception):
    """Raised anywhere below to hand the body to feedparser."""


# ------------------------------------------------------------------------------------------------
# The body: encoding, declaration, DOCTYPE
# ------------------------------------------------------------------------------------------------

_DOCTYPE_RE = re.compile(rb"<!doctype", re.I)
_XML_DECL_RE = re.compile(rb"<\?xml\s[^>]*>")
_DECL_VERSION_RE = re.compile(rb"""version\s*=\s*["']1\.0["']""")
_DECL_ENCODING_RE = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
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
    declared: list[str] = []
    # feedparser's own reading of the declared encoding (first line only, last match wins) ...
    if match := RE_XML_PI_ENCODING.match(data):
        declared.append(match.group(1).decode("utf-8").lower())
    # ... and expat's (the whole declaration).
    if decl := _XML_DECL_RE.match(data):
        if not _DECL_VERSION_RE.search(decl.group(0)):
            raise _Decline
        if match := _DECL_ENCODING_RE.search(decl.group(0)):
            declared.append(match.group(1).decode("utf-8").lower())
    if any(name not in _ENCODINGS for name in declared):
        raise _Decline
    if "us-ascii" in declared and not data.isascii():
        raise _Decline


# Namespaces whose declaration makes feedparser call the document RSS 1.0 / 0.90.
_VERSION_NAMESPACES = frozenset({"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"})
_KNOWN_NAMESPACES = {uri.lower(): name for uri, name in _FeedParserMixin.namespaces.items()}
# Prefixes of the namespaced elements read below: feedparser maps a prefix bound to another
# known namespace onto that namespace's handlers.
_READ_PREFIXES = frozenset({"content", "dc"})


def _canonical_prefix(uri: str) -> str | None:
    low = uri.lower()
    if "backend.userland.com/rss" in low:
        return ""
    return _KNOWN_NAMESPACES.get(low)


def _parse(body: bytes) -> ET.Element:
    events = ET.iterparse(io.BytesIO(body), events=("start-ns",))
    try:
        for _event, (prefix, uri) in events:
            if not uri:
                continue
            if uri.lower() in _VERSION_NAMESPACES:
                raise _Decline
            canonical = _canonical_prefix(uri)
            if prefix in _READ_PREFIXES and canonical is not None and canonical != prefix:
                raise _Decline
    except ET.ParseError:
        raise _Decline from None
    root: ET.Element = events.root  # type: ignore[attr-defined]
    return root


# ------------------------------------------------------------------------------------------------
# Text values as feedparser's pop() leaves them
# ------------------------------------------------------------------------------------------------

def _repair(text: str) -> str:
    """feedparser's last steps for every text value: undo UTF-8 read as latin-1, map cp1252."""
    if text.isascii():
        return text
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text.translate(_cp1252)


def _resolve(uri: str) -> str:
    # feedparser joins every link and id onto the base URI, which is empty without xml:base
    # (declined): that only drops extra slashes after "scheme://".
    return _urljoin("", uri) if ":///" in uri else uri


_LINK_ENTITY_RE = re.compile("&([A-Za-z0-9_]+);")

# ------------------------------------------------------------------------------------------------
# HTML as feedparser.sanitizer._sanitize_html(html, "utf-8", "text/html") writes it
# ------------------------------------------------------------------------------------------------

_ACCEPTABLE_ELEMENTS = frozenset(_HTMLSanitizer.acceptable_elements)
_ACCEPTABLE_ATTRIBUTES = frozenset(_HTMLSanitizer.acceptable_attributes)
_TEXT_DROPPING_ELEMENTS = frozenset(_HTMLSanitizer.unacceptable_elements_with_end_tag) | {"svg", "math"}
_NO_END_TAG = frozenset(_BaseHTMLProcessor.elements_no_end_tag)
_HTML_ENTITIES = frozenset(html.entities.name2codepoint) | {"apos"}
_BARE_AMPERSAND_RE = _BaseHTMLProcessor.bare_ampersand
_SHORTTAG_RE = re.compile(r"<([^<>\s]+?)\s*/>")  # as _BaseHTMLProcessor.feed
_ATTR_CHARREF_RE = re.compile(r"&#([0-9]+)(?![0-9;])")  # sgmllib adds the missing ';'
_ATTR_RE = re.compile(r"""\s+([a-zA-Z_][-:.a-zA-Z_0-9]*)\s*=\s*(?:"([^"<>]*)"|'([^'<>]*)')""")
# Every "<" and "&" as sgmllib's goahead() reads it; the text between them is kept as it is.
_MARKUP_RE = re.compile(r"""
    (?=[<&])  # lets the search skip text quickly
    (?:
    &\#(?P<charref>[0-9]+|[xX][0-9a-fA-F]+);
  | (?P<partial>&\#[0-9]*)                             # not a character reference: kept as text
  | &(?P<entity>[a-zA-Z][-.a-zA-Z0-9]*)(?=[^a-zA-Z0-9]);?  # "&amp;", also "Q&A," ("&A" + ",")
  | (?P<tail>&[a-zA-Z][a-zA-Z0-9]*)\Z                  # "&abc" at the very end: kept as text
  | (?P<amp>&)(?![a-zA-Z\#])
  | (?P<tag><[a-zA-Z][-_.:a-zA-Z0-9]*
             (?:\s+[a-zA-Z_][-:.a-zA-Z_0-9]*\s*=\s*(?:"[^"<>]*"|'[^'<>]*'))*\s*/?>
           | </[a-zA-Z][-_.:a-zA-Z0-9]*\s*>)
  | (?P<lt><)(?![a-zA-Z/!?>])
  | (?P<other>[<&])                                     # anything else: decline
    )
""", re.X)
_START_TAG_RE = re.compile(r"<([a-zA-Z][-_.:a-zA-Z0-9]*)(.*?)\s*/?>", re.S)
_END_TAG_RE = re.compile(r"</([a-zA-Z][-_.:a-zA-Z0-9]*)\s*>")
# Tags as the sanitizer writes them, by their source text ("<br>" -> "<br />", "<var data-var='x'>"
# -> "<var>"); kept small, the same few tags make up nearly all status page markup.
_TAG_CACHE: dict[str, str] = {}


def _shorttag(match: re.Match[str]) -> str:
    tag = match.group(1)
    return f"<{tag} />" if tag in _NO_END_TAG else f"<{tag}></{tag}>"


def _start_tag(tag: str, raw_attrs: str) -> str:
    # A trailing "/" is ignored as sgmllib ignores it: "<br />" is what the shorttag step wrote
    # for "<br/>", and "<p class='x'/>" opens a <p>.
    if tag in _TEXT_DROPPING_ELEMENTS:
        raise _Decline
    if tag not in _ACCEPTABLE_ELEMENTS:
        return ""  # the sanitizer drops the tag and keeps its text
    if not raw_attrs:
        return f"<{tag} />" if tag in _NO_END_TAG else f"<{tag}>"
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw_attrs):
        value = match.group(2) if match.group(2) is not None else match.group(3)
        attrs[match.group(1).lower()] = _ATTR_CHARREF_RE.sub(r"&#\1;", value)
    pieces = []
    for key in sorted(attrs):
        value = attrs[key]
        if key in ("rel", "type"):
            value = value.lower() or value
        if key == "style":
            raise _Decline  # feedparser filters CSS property by property
        if key not in _ACCEPTABLE_ATTRIBUTES:
            continue
        if key == "href":
            value = make_safe_absolute_uri(value)
        value = value.replace(">", "&gt;").replace("<", "&lt;").replace('"', "&quot;")
        pieces.append(f' {key}="{_BARE_AMPERSAND_RE.sub("&amp;", value)}"')
    joined = "".join(pieces)
    return f"<{tag}{joined} />" if tag in _NO_END_TAG else f"<{tag}{joined}>"


def _tag(source: str) -> str:
    if (written := _TAG_CACHE.get(source)) is not None:
        return written
    if end := _END_TAG_RE.fullmatch(source):
        tag = end.group(1).lower()
        if tag in _TEXT_DROPPING_ELEMENTS:
            raise _Decline
        written = f"</{tag}>" if tag in _ACCEPTABLE_ELEMENTS and tag not in _NO_END_TAG else ""
    else:
        start = _START_TAG_RE.fullmatch(source)
        assert start is not None  # _MARKUP_RE matched it as a tag
        written = _start_tag(start.group(1).lower(), start.group(2))
    if len(_TAG_CACHE) < 512:
        _TAG_CACHE[source] = written
    return written


def _markup(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind == "tag":
        return _tag(match.group(kind))
    if kind == "entity":
        # _BaseHTMLProcessor.handle_entityref: HTML 4 names stay; others become "&amp;name"
        # (and lose a ";", which sgmllib consumes).
        name = match.group(kind)
        return f"&{name};" if name in _HTML_ENTITIES else f"&amp;{name}"
    if kind == "charref":
        ref = match.group(kind).lower()
        if len(ref) > 10:
            raise _Decline
        value = int(ref[1:], 16) if ref[0] == "x" else int(ref)
        return f"&#{hex(ord(_cp1252[value]))[1:]};" if value in _cp1252 else f"&#{ref};"
    if kind == "other":
        raise _Decline
    return match.group(0)  # partial, tail, amp, lt: text


def sanitize_html(source: str) -> str:
    """``feedparser.sanitizer._sanitize_html(source, "utf-8", "text/html")`` for plain markup.

    Raises ``_Decline`` where the markup holds anything not reproduced here.
    """
    if "<" not in source and "&" not in source:
        return source.strip().replace("\r\n", "\n")
    if "<!" in source or "<?" in source:
        raise _Decline  # comments (kept by feedparser), declarations, CDATA, PIs
    if "/>" in source:
        source = _SHORTTAG_RE.sub(_shorttag, source)
    if "&#" in source:
        source = source.replace("&#39;", "'").replace("&#34;", '"')
    return _MARKUP_RE.sub(_markup, source).strip().replace("\r\n", "\n")


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


_TEXT_TYPES = {"text": "text/plain", "html": "text/html", "text/plain": "text/plain", "text/html": "text/html"}
_TYPE_ONLY = frozenset({"type"})


def _atom_text(element: ET.Element) -> tuple[str, bool]:
    """An Atom text construct (title, summary, content) of ``type`` text or html: (value, is_html)."""
    kind = _TEXT_TYPES.get(_attrs(element, _TYPE_ONLY).get("type", "text").lower())
    if kind is None:
        raise _Decline  # xhtml, base64, other media types
    return _leaf(element), kind == "text/html"


def _rss_text(element: ET.Element, html: bool) -> tuple[str, bool]:
    """RSS title (plain text unless it looks like HTML) or description/content:encoded (HTML)."""
    _attrs(element, _NO_ATTRS)
    value = _leaf(element)
    return value, html or _FeedParserMixin.looks_like_html(value)


def _finish(text: tuple[str, bool] | None) -> str | None:
    """A text construct's value as feedparser stores it: sanitized if HTML, then repaired."""
    if text is None:
        return None
    value, is_html = text
    return _repair(sanitize_html(value) if is_html else value)


def _entry_html(content: tuple[str, bool] | None, summary: tuple[str, bool] | None) -> str:
    if (value := _finish(content)):
        return value
    return _finish(summary) or ""


def _plain(element: ET.Element, allowed: frozenset[str] = _NO_ATTRS) -> str:
    """A value feedparser neither sanitizes nor resolves (dates, generator, category text)."""
    _attrs(element, allowed)
    return _repair(_leaf(element))


_LINK_ATTRS = frozenset({"href", "rel", "type", "hreflang", "title", "length"})


def _atom_link(element: ET.Element) -> str | None:
    """The href feedparser takes as the context's ``link`` from an Atom link, else None."""
    if len(element):
        raise _Decline
    attrs = _attrs(element, _LINK_ATTRS)
    if "href" not in attrs:
        raise _Decline  # the element's text would be the link
    rel = attrs.get("rel", "alternate").lower()
    kind = attrs.get("type", "application/atom+xml" if rel == "self" else "text/html").lower()
    if rel == "alternate" and _FeedParserMixin.map_content_type(kind) in _FeedParserMixin.html_types:
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


def _atom_feed(root: ET.Element) -> PlainFeed:
    _attrs(root, _NO_ATTRS)
    feed = PlainFeed(version="atom10")
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
            feed.title = _finish(_atom_text(child))
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
    return feed


def _atom_entry(element: ET.Element) -> PlainEntry:
    _attrs(element, _NO_ATTRS)
    entry = PlainEntry()
    once = _Once()
    alternate: str | None = None
    content: tuple[str, bool] | None = None
    summary: tuple[str, bool] | None = None
    for child in element:
        role = _role(_ATOM_ENTRY, child.tag)
        if role not in ("link", "category", "inert", "person"):
            once(role)
        if role == "title":
            entry.title = _finish(_atom_text(child))
        elif role == "link":
            if (href := _atom_link(child)) is not None:
                alternate = href
        elif role == "id":
            entry.id = _id(child, _NO_ATTRS)[0]
        elif role == "updated":
            entry.updated = _plain(child)
        elif role == "published":
            entry.published = _plain(child)
        elif role == "summary":
            summary = _atom_text(child)
        elif role == "content":
            content = _atom_text(child)
        elif role == "category":
            _category(child, entry.tags, _ATOM_CATEGORY_ATTRS)
        elif role == "person":
            _inert_tree(child, _ATOM_PERSON)
        else:
            _inert(child)
    entry.link = alternate if alternate is not None else entry.id
    entry.html = _entry_html(content, summary)
    return entry


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


def _rss_feed(root: ET.Element) -> PlainFeed:
    if _attrs(root, _RSS_ROOT_ATTRS).get("version") != "2.0":
        raise _Decline
    channels = list(root)
    if len(channels) != 1 or channels[0].tag != "channel":
        raise _Decline
    channel = channels[0]
    _attrs(channel, _NO_ATTRS)
    feed = PlainFeed(version="rss20")
    once = _Once()
    for child in channel:
        role = _role(_RSS_CHANNEL, child.tag)
        if role == "item":
            feed.entries.append(_rss_item(child))
            continue
        if role not in ("atomlink", "inert"):
            once(role)
        if role == "title":
            feed.title = _finish(_rss_text(child, html=False))
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
    return feed


def _rss_item(element: ET.Element) -> PlainEntry:
    _attrs(element, _NO_ATTRS)
    entry = PlainEntry()
    once = _Once()
    link: str | None = None
    guid_link: str | None = None
    content: tuple[str, bool] | None = None
    summary: tuple[str, bool] | None = None
    for child in element:
        role = _role(_RSS_ITEM, child.tag)
        if role not in ("category", "inert"):
            once(role)
        if role == "title":
            entry.title = _finish(_rss_text(child, html=False))
        elif role == "link":
            value = _rss_link(child).replace("&amp;", "&")
            link = _LINK_ENTITY_RE.sub(r"&\g<1>", value)
        elif role == "summary":
            summary = _rss_text(child, html=True)
        elif role == "content":
            content = _rss_text(child, html=True)
        elif role == "published":
            entry.published = _plain(child)
        elif role == "id":
            entry.id, is_link = _id(child, _GUID_ATTRS)
            if is_link:
                guid_link = entry.id
        elif role == "category":
            _category(child, entry.tags, _RSS_CATEGORY_ATTRS)
        else:
            _inert(child)
    entry.link = link if link is not None else guid_link
    entry.html = _entry_html(content, summary)
    return entry


# ------------------------------------------------------------------------------------------------

def read_plain_feed(body: bytes) -> PlainFeed | None:
    """What feedparser would read from an ordinary RSS 2.0 / Atom 1.0 body, or None to use it."""
    if not VERIFIED_FEEDPARSER:
        return None
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
