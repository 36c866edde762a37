"""``upstream parse``: normalise saved responses offline, with no database."""

from __future__ import annotations

from pathlib import Path

from aggregator.model import Snapshot


class ParseFilesError(Exception):
    """Unknown platform, unreadable file or a body the adapter rejects: one line for users."""


def parse_files(platform: str, files: list[Path], url: str | None = None) -> Snapshot:
    """Key each file by what it answers (``adapter.classify``) and parse them together."""
    from providers.base import AdapterError, get_adapter

    try:
        adapter = get_adapter(platform)
    except KeyError as exc:
        raise ParseFilesError(str(exc.args[0])) from None
    bodies: dict[str, bytes] = {}
    for path in files:
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise ParseFilesError(f"cannot read {path}: {exc.strerror or exc}") from None
        key = adapter.classify(body, path.name)
        if key in bodies:
            raise ParseFilesError(f"{path}: a second {key!r} document; give one file per endpoint")
        bodies[key] = body
    try:
        return adapter.parse(bodies, url)
    except AdapterError as exc:
        names = ", ".join(str(p) for p in files)
        raise ParseFilesError(f"{names}: {exc.reason}") from None
