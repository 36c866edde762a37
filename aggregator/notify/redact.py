"""Secrets are never shown in full: webhook secrets, tokens and passwords in URLs and commands.

A subscription's ``display`` (its target with secrets masked) is computed once when it is
created; list, show, logs and recorded errors only ever use it. ``scrub`` removes from any text
(an HTTP error, Apprise's log, a command's stderr) every fragment of the target that the display
hides.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

MASK = "***"
_SECRETISH_KEY = re.compile(r"(token|key|secret|sig|pass|pwd|auth|code|hash|credential)", re.I)
_WORD = re.compile(r"[A-Za-z0-9_\-+/=.]{6,}")


def mask_secret(secret: str | None) -> str:
    """``whsec_ab…``: enough to tell two secrets apart, never enough to use one."""
    if not secret:
        return "-"
    prefix = "whsec_" if secret.startswith("whsec_") else ""
    return f"{prefix}{secret[len(prefix):len(prefix) + 2]}…"


def _tokenish(text: str) -> bool:
    """Random-looking: long, or mixing letters and digits the way generated tokens do."""
    if len(text) >= 24:
        return True
    return len(text) >= 10 and bool(re.search(r"\d", text)) and bool(re.search(r"[A-Za-z]", text))


def _short(text: str) -> str:
    return f"{text[0]}...{text[-1]}" if len(text) > 4 else MASK


def redact_url(url: str) -> str:
    """The URL with its password, secret-looking path segments and query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        user = _short(user) if _tokenish(user) else user
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{user}@{host}"
    segments = [(_short(s) if _tokenish(unquote(s)) else s) for s in parts.path.split("/")]
    query = [(k, MASK if _SECRETISH_KEY.search(k) or _tokenish(v) else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    text_query = "&".join(f"{quote(k)}={v if v == MASK else quote(v)}" for k, v in query)
    return urlunsplit((parts.scheme, netloc, "/".join(segments), text_query, ""))


def redact_apprise(url: str) -> str:
    """An Apprise URL as Apprise itself prints it privately (it knows which part of each service's
    URL is a token), without the long tail of default options; our own masking when it cannot."""
    try:
        import apprise

        plugin = apprise.Apprise.instantiate(url)
        private = plugin.url(privacy=True) if plugin else None
    except Exception:  # noqa: BLE001 - Apprise's parsers raise anything; fall back to ours
        private = None
    if not private:
        return redact_url(url)
    return redact_url(private.split("?", 1)[0])


def redact_command(command: str) -> str:
    """A shell command with bearer tokens, ``key=value`` secrets and token-like words masked."""
    out = re.sub(r"(?i)(bearer\s+)[^\s'\"]+", rf"\1{MASK}", command)
    out = re.sub(r"(?i)\b([\w-]*(?:token|key|secret|password|passwd|pwd|auth)[\w-]*\s*[=:]\s*)(['\"]?)(?![Bb]earer\s|\*\*\*)[^\s'\"]+",
                 rf"\1\2{MASK}", out)
    out = re.sub(r"(https?://[^\s'\"]+)", lambda m: redact_url(m.group(1)), out)
    return " ".join(MASK if _tokenish(w) and "/" not in w and "=" not in w else w for w in out.split(" "))


def secret_fragments(target: str, display: str, secret: str | None = None) -> list[str]:
    """Every word of ``target`` (6+ characters) that ``display`` hides, longest first."""
    shown = set(_WORD.findall(display))
    found = {w for w in _WORD.findall(target) if w not in shown and w not in display}
    if secret:
        found.add(secret)
        found.add(secret.removeprefix("whsec_"))
    return sorted(found, key=len, reverse=True)


def scrub(text: str | None, fragments: list[str]) -> str | None:
    """``text`` with each secret fragment replaced by ***."""
    if not text:
        return text
    for fragment in fragments:
        text = text.replace(fragment, MASK)
    return text
