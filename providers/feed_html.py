"""Entry HTML for the fast feed reader: checked for what feedparser and an HTML5 parser read
alike, then sanitized by nh3.

feedparser sanitizes with its own sgmllib-based HTML processor; nh3 (the Rust ``ammonia``
sanitizer) parses as browsers do, by the HTML5 rules, which repair bad markup differently
(stray end tags dropped, ``<p>`` closed by a block, tables' text moved). ``check_markup`` accepts
only markup both read into the same text and raises ``Decline`` on the rest, so that feedparser
reads that body; what it accepts goes through nh3, unless it is made only of text, entity
references and closed tags without attributes from nh3's own allow-list, which nh3 would keep
as they are.
"""

from __future__ import annotations

import contextlib
import html.entities
import re

import nh3


class Decline(Exception):
    """Raised to hand the body to feedparser."""


# The C1 controls as windows-1252 reads their bytes (feedparser maps them so in every value).
_CP1252 = {code: bytes([code]).decode("cp1252") for code in range(0x80, 0xA0)
           if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}


def repair(text: str) -> str:
    """feedparser's last steps for every text value: undo UTF-8 read as latin-1, map cp1252."""
    if text.isascii():
        return text
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text.translate(_CP1252)


# ------------------------------------------------------------------------------------------------
# HTML: checked for what both HTML readers read alike, then sanitized by nh3
# ------------------------------------------------------------------------------------------------

# Elements whose content an HTML5 parser does not read as ordinary markup, which it moves or
# closes by rules of their own, or which feedparser drops with their text.
_DECLINED_ELEMENTS = frozenset({
    "script", "style", "applet", "svg", "math", "iframe", "noscript", "noembed", "noframes", "xmp",
    "textarea", "title", "plaintext", "template", "object", "embed", "frameset", "frame", "html",
    "head", "body", "meta", "link", "base", "form", "button", "select", "option", "optgroup",
    "input", "keygen", "table", "caption", "colgroup", "col", "tbody", "thead", "tfoot", "tr",
    "td", "th", "nobr", "image", "isindex", "listing", "pre", "param", "source", "track",
    "marquee", "ruby", "rb", "rp", "rt", "rtc",
})
_VOID_ELEMENTS = frozenset({"br", "img", "hr", "wbr", "area", "basefont", "bgsound", "spacer"})
# Start tags that close an open <p> in an HTML5 parser (sgmllib leaves it open).
_CLOSES_P = frozenset({
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl",
    "fieldset", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "hr", "main", "menu", "nav", "ol", "p", "search", "section", "summary", "ul",
})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# List items are read alike only directly inside their list.
_LIST_PARENTS = {"li": frozenset({"ul", "ol", "menu"}), "dd": frozenset({"dl"}), "dt": frozenset({"dl"})}
_NAMED_ENTITIES = frozenset(html.entities.name2codepoint) | {"apos"}
# The names an HTML5 parser decodes without a ';' ("&copy2" reads "©2"), longest first.
_LEGACY_ENTITIES = frozenset(name for name in html.entities.html5 if not name.endswith(";"))
_LEGACY_LENGTHS = sorted({len(name) for name in _LEGACY_ENTITIES}, reverse=True)

# Every "<" and "&" with what follows it; each distinct token is classified once (_token).
_SCAN_RE = re.compile(r"<[^<>]*>?|&(?:\#[xX]?[0-9a-zA-Z]*|[a-zA-Z][-.a-zA-Z0-9]*+)?;?")
_TAG_RE = re.compile(r"""<(/?)([a-zA-Z][a-zA-Z0-9]*)
    (?:\s+[a-zA-Z_:][-.:a-zA-Z0-9_]*\s*=\s*(?:"[^"<>]*"|'[^'<>]*'))*\s*(/?)>""", re.X)
_BARE_TAG_RE = re.compile(r"</?[a-z][a-z0-9]*\s*/?>")
_CHARREF_RE = re.compile(r"&\#(?:([0-9]{1,7})|[xX]([0-9a-fA-F]{1,6}));")
# A token's meaning: None (an entity or character reference both readers read alike, or a tag
# without attributes that nh3 keeps as it is and that opens nothing: <br>, <hr>), or
# (name, is_end_tag, kept_as_is) for any other tag; kept_as_is: it has no attributes and nh3's
# allow-list has it.
Token = tuple[str, bool, bool] | None
_TOKENS: dict[str, Token] = {}
_DECLINED_TOKEN: Token = ("", True, False)  # cached for tokens that decline
_CLEANED_VOID: Token = ("", False, False)  # a void tag nh3 rewrites (<img src=...>, <basefont>)
_KEPT_TAGS = frozenset(nh3.ALLOWED_TAGS)

def _plain_codepoint(code: int) -> bool:
    """A character reference both readers decode to the same character (no controls; the C1
    range as windows-1252 reads it, as HTML5 and feedparser do)."""
    return (code in (9, 10) or 0x20 <= code < 0x7F or code in _CP1252 or 0xA0 <= code < 0xD800
            or (0xE000 <= code <= 0x10FFFF and not 0xFDD0 <= code <= 0xFDEF and code & 0xFFFE != 0xFFFE))


def _check_entity(name: str, semicolon: bool) -> None:
    """``&name;`` or ``&name``: declined unless both readers give the same text for it."""
    if semicolon:
        if name not in _NAMED_ENTITIES:
            raise Decline  # feedparser writes "&amp;name" and drops the ';'
        return
    # Without ';' feedparser decodes a known name ("&amp,") and keeps any other as text ("Q&A,");
    # an HTML5 parser decodes the longest legacy name the text starts with ("&notit").
    legacy = next((name[:n] for n in _LEGACY_LENGTHS if name[:n] in _LEGACY_ENTITIES), None)
    if legacy is None:
        if name in _NAMED_ENTITIES:
            raise Decline
    elif legacy != name or name not in _NAMED_ENTITIES:
        raise Decline


def _token(text: str) -> Token:
    """What one "<..." or "&..." token is, or ``_DECLINED_TOKEN``."""
    if text[0] == "<":
        tag = _TAG_RE.fullmatch(text)
        if tag is None:
            return _DECLINED_TOKEN  # "<" that starts no well-formed tag, an unquoted attribute
        name, is_end = tag.group(2).lower(), bool(tag.group(1))
        if name in _DECLINED_ELEMENTS:
            return _DECLINED_TOKEN
        kept_as_is = name in _KEPT_TAGS and tag.group(2) == name and _BARE_TAG_RE.fullmatch(text) is not None
        if name in _VOID_ELEMENTS:  # "<br>", "<br/>" and "<img ...>" open nothing
            return None if kept_as_is and not is_end else _CLEANED_VOID
        if tag.group(3) and not is_end:
            return _DECLINED_TOKEN  # "<p/>": an HTML5 parser opens a <p>, feedparser writes <p></p>
        return name, is_end, kept_as_is
    if text in ("&", "&;"):
        return None  # a bare ampersand
    if text[1] == "#":
        ref = _CHARREF_RE.fullmatch(text)
        if ref is None:
            return _DECLINED_TOKEN
        code = int(ref.group(1)) if ref.group(1) else int(ref.group(2), 16)
        return None if _plain_codepoint(code) else _DECLINED_TOKEN
    semicolon = text[-1] == ";"
    try:
        _check_entity(text[1:-1] if semicolon else text[1:], semicolon)
    except Decline:
        return _DECLINED_TOKEN
    return None


def check_markup(source: str) -> bool:
    """Decline markup that an HTML5 parser and sgmllib would turn into different text; True when
    every tag in it is one that nh3 keeps as it is (lowercase, no attributes, on its allow-list)."""
    kept_as_is = True
    open_elements: list[str] = []
    tokens = _TOKENS
    for text in _SCAN_RE.findall(source):
        try:
            token = tokens[text]
        except KeyError:
            token = _token(text)
            if len(tokens) < 4096:
                tokens[text] = token
        if token is None:
            continue
        if token is _DECLINED_TOKEN:
            raise Decline
        name, is_end, kept = token
        kept_as_is = kept_as_is and kept
        if token is _CLEANED_VOID:
            continue
        if is_end:
            if not open_elements or open_elements[-1] != name:
                raise Decline  # a stray or mis-nested end tag: the two parsers repair it apart
            open_elements.pop()
            continue
        if open_elements:
            if (name in _CLOSES_P and "p" in open_elements) or (name == "a" and "a" in open_elements) \
                    or (name in _HEADINGS and not _HEADINGS.isdisjoint(open_elements)):
                raise Decline  # an HTML5 parser closes the open one first
            if name in _LIST_PARENTS and open_elements[-1] not in _LIST_PARENTS[name]:
                raise Decline
        elif name in _LIST_PARENTS:
            raise Decline
        open_elements.append(name)
    return kept_as_is and not open_elements  # an HTML5 serializer would close what is left open


def check_text(source: str) -> None:
    """Text outside markup: the same entity rules, and no ``<`` at all."""
    if "<" in source:
        raise Decline
    if "&" in source:
        check_markup(source)


# nh3's default allow-list of tags and attributes; links only to the web and to mail. One
# cleaner for every call: building its options is most of a short value's cost.
_CLEANER = nh3.Cleaner(url_schemes={"http", "https", "mailto"})


def sanitize_html(source: str) -> str:
    """Entry HTML as the fast reader stores it: checked (``Decline``), repaired, sanitized by nh3."""
    source = source.strip()
    if "\r" in source or "<!" in source or "<?" in source:
        raise Decline  # a CR that XML kept (&#13;), comments, declarations, CDATA, PIs
    has_markup = "<" in source or "&" in source
    if not source.isascii():
        if has_markup and max(map(ord, source)) <= 0xFF:
            raise Decline  # feedparser repairs after sanitizing: dropped markup could join bytes
        source = repair(source)
    if not has_markup:
        return source
    if check_markup(source):
        return source  # nothing in it that nh3 would remove or rewrite: no attributes, known tags
    return _CLEANER.clean(source).strip()
