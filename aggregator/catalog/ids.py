"""Provider ids and names: the one ``slugify``, how names are compared, a readable id for a page.

An id is what every next command takes, so ``upstream add``, ``follow`` and the shipped catalog
must make the same id of the same name: "Weights & Biases" is ``weights-and-biases`` and
"Zoë Cloud" ``zoe-cloud`` everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from aggregator.errors import UserError

ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
MAX_ID_LENGTH = 200


def fold(text: str) -> str:
    """Lower case, accents dropped: how names are compared."""
    if text.isascii():
        return text.casefold().strip()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().strip()


def squash(text: str) -> str:
    """Letters and digits only: 'Customer.io' == 'customerio', 'Weights & Biases' == 'weightsbiases'."""
    return re.sub(r"[^0-9a-z]+", "", fold(text))


def slugify(text: str) -> str:
    slug = re.sub(r"[^0-9a-z]+", "-", fold(text).replace("&", " and ")).strip("-")
    return slug or "provider"


def default_id(url: str, name: str | None = None) -> str:
    """A readable id for a page: its name, else its host without status./www./the platform's domain."""
    if name:
        return slugify(name)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host = re.sub(r"^(status|www|health|trust)\.", "", host)
    host = re.sub(r"\.(statuspage\.io|instatus\.com|betteruptime\.com|betterstack\.com|hund\.io|statuspal\.io|"
                  r"incident\.io|com|io|net|org|co|dev|app|ai|us|cloud)$", "", host)
    host = re.sub(r"\.(com|co|org|net)$", "", host)
    path = parts.path.strip("/")
    return slugify(f"{host}-{path}" if path else host)


def check_id(provider_id: str) -> str:
    """``provider_id`` if it is a usable id, else UserError in one line."""
    if len(provider_id) > MAX_ID_LENGTH:
        raise UserError(f"id too long ({len(provider_id)} characters; at most {MAX_ID_LENGTH}): choose a shorter one "
                        f"with --id")
    if not ID_RE.fullmatch(provider_id):
        raise UserError(f"bad id {provider_id!r}: use lowercase letters, digits, '.', '_' and '-'")
    return provider_id
