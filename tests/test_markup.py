"""Update text to safe HTML (aggregator.history.markup): markdown rendered, vendor HTML kept where it is
allowed, anything that could run in the reader's browser removed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.history.markup import ALLOWED_TAGS, to_html, to_rich, to_terminal_markdown

POST_MORTEM = """# Post-mortem: delivery delays

## Summary

Between **14:02** and *15:40* UTC, messages were delayed. See [the runbook](https://example.com/runbook).

| Region | Delay | Messages |
|--------|------:|----------|
| us-east | 38 min | 1,204 |
| eu-west | 12 min | 310 |

1. Detect
2. Mitigate
   - drain the queue
   - `kubectl rollout restart`

```
SELECT count(*) FROM deliveries WHERE delayed;
```

<b>Vendor bold</b><br>and a line break.
"""

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<b onmouseover="alert(1)">hover</b>',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>text",
    '<div onclick="x()">d</div>',
    '<table><tr><td onclick="x()">c</td></tr></table>',
    "<!-- <script>alert(1)</script> -->",
    '<a href="https://ok.example" target="_blank" onfocus="x()">ok</a>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<form action="https://evil.example"><input name=q></form>',
]


class _Collector(HTMLParser):
    """Every tag and attribute the output really has, as a browser's tokenizer reads it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)


def parsed(markup: str) -> _Collector:
    collector = _Collector()
    collector.feed(markup)
    collector.close()
    return collector


def assert_safe(markup: str) -> None:
    assert "<script" not in markup.lower()
    assert not re.search(r"(?i)\son\w+\s*=", markup)
    found = parsed(markup)
    assert set(found.tags) <= ALLOWED_TAGS, set(found.tags) - ALLOWED_TAGS
    for name, value in found.attributes:
        assert not name.startswith("on")
        assert name != "style"
        if name == "href":
            assert value.split(":", 1)[0].lower() in {"http", "https", "mailto"} or ":" not in value, value


def test_a_post_mortem_keeps_its_structure() -> None:
    rendered = to_html(POST_MORTEM)
    found = parsed(rendered)
    assert {"h1", "h2", "table", "thead", "tbody", "th", "td", "ol", "ul", "li", "code", "pre", "strong", "em",
            "a", "b", "br"} <= set(found.tags)
    assert found.tags.count("tr") == 3  # header and two rows
    assert '<a href="https://example.com/runbook" rel="noopener noreferrer nofollow">the runbook</a>' in rendered
    assert "SELECT count(*) FROM deliveries WHERE delayed;" in rendered
    assert "<b>Vendor bold</b>" in rendered
    assert_safe(rendered)


def test_plain_text_keeps_its_line_breaks_and_escapes_angle_brackets() -> None:
    rendered = to_html("We are investigating.\nNext update in 30 min.\n\nx < y & z")
    assert rendered == "<p>We are investigating.<br>\nNext update in 30 min.</p>\n<p>x &lt; y &amp; z</p>"


def test_empty_text_renders_to_nothing() -> None:
    assert to_html("") == ""
    assert to_html("   \n ") == ""
    assert to_html(None) == ""


def test_hostile_inputs_are_defused() -> None:
    for hostile in HOSTILE:
        rendered = to_html(hostile)
        assert_safe(rendered)
    # What is allowed survives the sanitiser, minus what is not.
    assert to_html('<b onmouseover="alert(1)">hover</b>') == "<p><b>hover</b></p>"
    assert to_html('<a href="javascript:alert(1)">click</a>') == '<p><a rel="noopener noreferrer nofollow">click</a></p>'
    assert "text" in to_html("<style>body{display:none}</style>text")
    assert "display:none" not in to_html("<style>body{display:none}</style>text")


_PIECES = st.sampled_from([
    "<script>", "</script>", "<scr", "ipt>", "<img src=x ", "onerror=", "onload=", '"', "'", ">", "<", "/",
    "javascript:", "JaVaScRiPt:", "&#106;", "<a href=", "[x](", ")", "| a | b |\n|---|---|\n", "\n", "**",
    "`", "```\n", "<b>", "</b>", "<br>", "<p style=", "<svg ", "<!--", "-->", " ", "alert(1)", "# ", "- ",
    "<table><tr><td ", "</td></tr></table>", "<div ", "<iframe ", "&lt;script&gt;",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=30).map("".join))
def test_no_input_yields_script_or_handlers(text: str) -> None:
    assert_safe(to_html(text))


def test_a_markdown_table_becomes_a_table() -> None:
    rendered = to_html("| Component | Minutes |\n|---|---|\n| API | 12 |")
    assert rendered.startswith("<table>")
    assert "<td>API</td>" in rendered


def test_terminal_markdown_translates_vendor_html() -> None:
    body = ('<b>Status: Resolved</b><br/><br/>Fixed, see <a href="https://x.example/i">the incident</a>.'
            "<script>steal()</script><ul><li>API (Operational)</li><li>Login</li></ul>")
    assert to_terminal_markdown(body) == (
        "**Status: Resolved**  \n  \nFixed, see [the incident](https://x.example/i).\n- API (Operational)\n- Login")
    # Markdown is passed as it is: rich renders it.
    assert to_terminal_markdown(POST_MORTEM.split("<b>")[0]) == POST_MORTEM.split("<b>")[0].strip()


def test_rich_renders_the_post_mortem_table() -> None:
    from rich.console import Console

    console = Console(width=80, record=True, color_system=None)
    console.print(to_rich(POST_MORTEM))
    text = console.export_text()
    assert "Post-mortem: delivery delays" in text
    assert "us-east" in text and "38 min" in text
    assert "<b>" not in text and "**" not in text
