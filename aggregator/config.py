"""The one loader of upstream's configuration: ``config.toml``, the config folder, the environment.

The facade (``aggregator.core.Upstream``) loads it once, for every command, so a bad file gets
the same one-line error whichever command reads it. ``UPSTREAM_CONFIG_DIR`` overrides the
config folder (platformdirs' user config folder otherwise); the user catalog lives there too.
Unknown tables and keys are refused, never ignored.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from aggregator.errors import ConfigError
from aggregator.poll.schedule import MIN_INTERVAL, PollSettings

# Tables of config.toml and who reads them.
KNOWN_TABLES = {"poll": "polling: intervals, caps, timeouts, worker processes (see the README)",
                "serve": "upstream serve: token (a bearer token the API asks for)"}


@dataclass(frozen=True)
class Config:
    """Everything upstream reads from its configuration."""

    poll: PollSettings = field(default_factory=PollSettings)
    serve_token: str | None = None  # [serve] token: the bearer token ``upstream serve`` asks for
    # [poll] deliver = true: ``upstream poll`` sends the notifications due after polling (cron users).
    deliver: bool = False
    source: Path | None = None  # the file it came from, None where there was none



def config_dir() -> Path:
    env = os.environ.get("UPSTREAM_CONFIG_DIR")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("upstream", appauthor=False))


def config_path() -> Path:
    return config_dir() / "config.toml"


_NUMBER_KEYS = {f.name: f.type for f in fields(PollSettings) if f.name not in {"platforms", "scale"}}
_INT_KEYS = {"concurrency", "per_host", "poll_processes"}


def settings_from(doc: Mapping[str, Any], source: str = "config.toml") -> PollSettings:
    """``PollSettings`` from a parsed config document (its ``[poll]`` table)."""
    poll = doc.get("poll", {})
    if not isinstance(poll, dict):
        raise ConfigError(f"{source}: [poll] must be a table")
    values: dict[str, Any] = {}
    for key, value in poll.items():
        if key == "deliver":  # not a polling setting: read by config_from
            continue
        if key == "platforms":
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: [poll.platforms] must be a table of platform = seconds")
            platforms = {}
            for name, seconds in value.items():
                platforms[str(name)] = _number(f"poll.platforms.{name}", seconds, source, minimum=MIN_INTERVAL)
            values["platforms"] = platforms
            continue
        if key not in _NUMBER_KEYS:
            known = ", ".join(sorted([*_NUMBER_KEYS, "platforms", "deliver"]))
            raise ConfigError(f"{source}: unknown key poll.{key} (known: {known})")
        minimum = MIN_INTERVAL if key == "interval" else (
            0 if key == "poll_processes" else 1 if key in _INT_KEYS else 0.0)
        number = _number(f"poll.{key}", value, source, minimum=minimum)
        if key == "jitter" and number >= 1:
            raise ConfigError(f"{source}: poll.jitter is a fraction of the interval, below 1 (e.g. 0.1)")
        values[key] = int(number) if key in _INT_KEYS else number
    return PollSettings(**values)


def _number(key: str, value: Any, source: str, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{source}: {key} must be a number, not {value!r}")
    if value < minimum:
        raise ConfigError(f"{source}: {key} must be at least {minimum:g}, not {value!r}")
    return float(value)


def load_settings(path: Path | None = None) -> PollSettings:
    """The ``[poll]`` settings of ``load_config(path)``."""
    return load_config(path).poll


def user_catalog_path() -> Path:
    return config_dir() / "catalog.toml"


def config_from(doc: Mapping[str, Any], source: str = "config.toml") -> Config:
    """A ``Config`` from a parsed document; ConfigError naming the file and key for anything unknown."""
    unknown = sorted(set(doc) - set(KNOWN_TABLES))
    if unknown:
        raise ConfigError(f"{source}: unknown table [{unknown[0]}] (known: {', '.join(sorted(KNOWN_TABLES))})")
    deliver = doc.get("poll", {}).get("deliver", False) if isinstance(doc.get("poll"), dict) else False
    if not isinstance(deliver, bool):
        raise ConfigError(f"{source}: poll.deliver must be true or false, not {deliver!r}")
    serve = doc.get("serve", {})
    if not isinstance(serve, dict):
        raise ConfigError(f"{source}: [serve] must be a table")
    unknown_keys = sorted(set(serve) - {"token"})
    if unknown_keys:
        raise ConfigError(f"{source}: unknown key serve.{unknown_keys[0]} (known: token)")
    token = serve.get("token")
    if token is not None and not isinstance(token, str):
        raise ConfigError(f"{source}: serve.token must be a string")
    return Config(poll=settings_from(doc, source), serve_token=token or None, deliver=deliver)


def load_config(path: Path | None = None) -> Config:
    """The configuration from ``path`` (default: config.toml in the config folder); defaults where
    the file or a key is absent."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except IsADirectoryError:
        raise ConfigError(f"cannot read {path}: it is a directory") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    loaded = config_from(doc, str(path))
    return Config(poll=loaded.poll, serve_token=loaded.serve_token, deliver=loaded.deliver, source=path)
