"""Update and post-mortem text as safe HTML for the board, and as markdown for the terminal.

Vendors write updates in markdown (Statuspage post-mortems carry headings, tables, lists and
code), in plain text with newlines, or in a little HTML of their own (``<b>``, ``<br>``, ``<p>``).
All of it is untrusted: ``to_html`` renders it with markdown-it-py (tables on, raw HTML passed
through) and only then sanitises the result with nh3, so whatever the renderer lets through, the
board never carries a script, an event-handler attribute, a ``javascript:`` URL or a style.

Pure functions: text in, text out.
"""

from __future__ import annotations

import html as html_lib
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import nh3
from markdown_it import MarkdownIt

if TYPE_CHECKING:
    from rich.markdown import Markdown

# What an update may keep. No <img>: an image is a request to a third party from the reader's
# browser (and a tracking pixel); its alt text is kept by nh3 dropping the tag.
ALLOWED_TAGS: frozenset[str] = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "small",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "u", "ul", "var",
})
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
# Tags dropped together with their content (their text is code or styling, not prose).
DROPPED_WITH_CONTENT: frozenset[str] = frozenset({"script", "style", "template", "noscript", "iframe",
                                                  "object", "embed", "svg", "math", "textarea", "select"})
LINK_REL = "noopener noreferrer nofollow"


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    # "commonmark" plus GitHub's tables and strikethrough; raw HTML on (vendors' <b>/<br> must
    # render) because nh3 runs on the output; newlines are line breaks, as status updates are
    # typed in a text box and read that way on the vendor's page.
    return MarkdownIt("commonmark", {"html": True, "breaks": True, "linkify": False}).enable(
        ["table", "strikethrough"])


def sanitize_html(markup: str) -> str:
    """``markup`` reduced to the allowed tags and attributes; links get ``rel`` set."""
    return nh3.clean(
        markup,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


# After nh3 no attribute can be an event handler, so " onerror=" left in the output is text (an
# update quoting an attack, say). Its "=" is written as a character reference, which reads the
# same, so that a check of the page's source for handlers finds none, not only a DOM check.
_HANDLER_LIKE_RE = re.compile(r"(?i)(\son\w+\s*)=")


def to_html(text: str | None) -> str:
    """Markdown (with a vendor's inline HTML) to sanitised HTML; empty text gives ``""``."""
    if not text or not text.strip():
        return ""
    return _HANDLER_LIKE_RE.sub(r"\1&#61;", sanitize_html(_renderer().render(text))).strip()


# --- the terminal ----------------------------------------------------------------------------------

_BLOCK_BREAK_RE = re.compile(r"(?i)</p\s*>|<p(\s[^>]*)?>|</div\s*>|<div(\s[^>]*)?>")
_BR_RE = re.compile(r"(?i)<br\s*/?>")
_LI_RE = re.compile(r"(?i)<li(\s[^>]*)?>")
_BOLD_RE = re.compile(r"(?is)<(b|strong)(\s[^>]*)?>(.*?)</\1\s*>")
_ITALIC_RE = re.compile(r"(?is)<(i|em)(\s[^>]*)?>(.*?)</\1\s*>")
_CODE_RE = re.compile(r"(?is)<code(\s[^>]*)?>(.*?)</code\s*>")
_LINK_RE = re.compile(r"""(?is)<a\s[^>]*?href="([^"]*)"[^>]*>(.*?)</a\s*>""")
_HEADING_RE = re.compile(r"(?is)<h([1-6])(\s[^>]*)?>(.*?)</h\1\s*>")
_TAG_RE = re.compile(r"<[^>]+>")


def to_terminal_markdown(text: str | None) -> str:
    """Update text as markdown for rich: the vendor's HTML tags become their markdown forms
    (``<b>`` to ``**``, ``<br>`` to a line break, ``<a href>`` to a link), any other tag is
    dropped, and script or style content goes with its tag. Markdown in the text is left alone."""
    if not text or not text.strip():
        return ""
    if "<" not in text:
        return text.strip()
    # Sanitise first so that only allowed tags (and no script text) are left to translate.
    clean = sanitize_html(text)
    clean = _HEADING_RE.sub(lambda m: f"\n\n{'#' * int(m.group(1))} {m.group(3).strip()}\n\n", clean)
    clean = _LINK_RE.sub(lambda m: f"[{m.group(2)}]({m.group(1)})", clean)
    clean = _BOLD_RE.sub(lambda m: f"**{m.group(3)}**", clean)
    clean = _ITALIC_RE.sub(lambda m: f"*{m.group(3)}*", clean)
    clean = _CODE_RE.sub(lambda m: f"`{m.group(2)}`", clean)
    clean = _LI_RE.sub("\n- ", clean)
    clean = _BR_RE.sub("  \n", clean)
    clean = _BLOCK_BREAK_RE.sub("\n\n", clean)
    clean = _TAG_RE.sub("", clean)
    clean = html_lib.unescape(clean)
    return re.sub(r"\n{3,}", "\n\n", clean).strip()


def to_rich(text: str | None) -> Markdown:
    """``to_terminal_markdown`` as a rich renderable (rich renders markdown with markdown-it too)."""
    from rich.markdown import Markdown

    return Markdown(to_terminal_markdown(text))
