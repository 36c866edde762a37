"""One hierarchy of the errors upstream raises on purpose: each says, in one line, what a user can fix.

Everything upstream means to report derives from ``UpstreamError``; anything else escaping a
command is a bug. The command line prints ``str(error)`` and exits non-zero.
"""

from __future__ import annotations

from typing import ClassVar


class UpstreamError(Exception):
    """Base of every error upstream reports to its user."""


class UserError(UpstreamError):
    """A value given on the command line or to the library that cannot be used as given."""


class ConfigError(UpstreamError):
    """config.toml cannot be used: one line naming the file and the key."""


# --- reading pages ----------------------------------------------------------------------------
class AdapterError(UpstreamError):
    """A body an adapter cannot read; ``reason_code`` says which kind of failure for machines."""

    reason_code: ClassVar[str] = "parse_error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ParseError(AdapterError):
    reason_code = "parse_error"


class NotJSONError(AdapterError):
    """HTML (or other text) came back where JSON was expected."""

    reason_code = "not_json"


class PageInactiveError(AdapterError):
    reason_code = "page_inactive"


class LoginRequiredError(AdapterError):
    reason_code = "login_required"


class NotStatusPageError(AdapterError):
    reason_code = "not_status_page"


class ParseFilesError(UpstreamError):
    """Unknown platform, unreadable file or a body the adapter rejects: one line for users."""


# --- storage ----------------------------------------------------------------------------------
class StoreError(UpstreamError):
    """A database that cannot be used (corrupt, not ours, unwritable): one line for users."""


class QueryError(UpstreamError):
    """A query that cannot be answered (no database, unknown provider, bad time): one line."""


class OutdatedSchemaError(QueryError):
    """The database predates a migration the queries need: opening it read-write upgrades it."""


# --- features ---------------------------------------------------------------------------------
class CatalogError(UpstreamError):
    """The catalog (shipped or user) cannot be used as written."""


class SubscriptionError(UpstreamError):
    """A subscription, sink or filter that cannot be used as given."""


class ReportError(UpstreamError):
    """An uptime or incident report that cannot be made as asked."""


class ExportError(UpstreamError):
    """An export that cannot be written as asked."""
