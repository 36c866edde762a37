"""When to poll each provider next: pure, clock-injected, and configured from config.toml.

Every provider has its own next-due time. After a poll it is set from:

* its interval: the provider's own (``upstream set-interval``), else its platform's
  (``[poll.platforms]``), else ``[poll] interval`` (60 s);
* the server's word: ``Cache-Control: max-age`` / ``Expires`` longer than the interval push the
  next poll out to when the answer goes stale (capped by ``max_cache_delay``); ``Retry-After`` on
  a 429/503 is honoured (capped by ``max_retry_after``);
* failures: each consecutive failure doubles the delay (interval x 2^failures) up to
  ``max_backoff``; the first good answer brings the provider back to its interval;
* jitter: the delay is spread by +-``jitter`` (a fraction) so that pages polled together once
  drift apart instead of being hit in bursts forever.

Nothing here reads a clock or a file except ``load_settings``; ``next_poll`` takes ``now`` and
a ``random.Random``, so tests drive it with a fake clock and a seeded generator.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

Clock = Callable[[], float]
"""Unix seconds now: ``time.time`` in production, a fake in tests."""

MIN_INTERVAL = 5.0



@dataclass(frozen=True)
class PollSettings:
    interval: float = 60.0
    platforms: Mapping[str, float] = field(default_factory=dict)
    jitter: float = 0.1
    max_backoff: float = 3600.0
    max_retry_after: float = 6 * 3600.0
    max_cache_delay: float = 900.0
    concurrency: int = 64
    per_host: int = 4
    timeout: float = 15.0
    summary_every: float = 60.0
    # Worker processes that fetch and parse during large polls (aggregator.poll.workers); 0: none.
    poll_processes: int = field(default_factory=lambda: default_poll_processes())
    # Multiplies every interval and delay (``upstream watch --interval-scale``): demos and tests.
    scale: float = 1.0

    def interval_for(self, platform: str | None, own: float | None = None) -> float:
        """The provider's interval in seconds: its own, else its platform's, else the default."""
        if own:
            base = float(own)
        elif platform and platform in self.platforms:
            base = float(self.platforms[platform])
        else:
            base = self.interval
        return base * self.scale

    def longest_wait(self, longest_own_interval: float = 0.0) -> float:
        """The longest delay ``next_poll`` can set for a provider (its own interval at most
        ``longest_own_interval``): a next-due time further ahead was not set by this clock."""
        interval = max([self.interval, *self.platforms.values(), longest_own_interval])
        longest = max(interval, self.max_backoff, self.max_cache_delay, self.max_retry_after) * self.scale
        return longest * (1.0 + self.jitter) + 1.0

    def scaled(self, scale: float) -> PollSettings:
        return replace(self, scale=self.scale * scale)


def default_poll_processes() -> int:
    """Two worker processes wherever there are two cores or more (see aggregator.poll.workers)."""
    return 2 if (os.cpu_count() or 1) > 1 else 0


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a poll told the scheduler."""

    ok: bool
    retry_after: float | None = None  # seconds, from Retry-After
    fresh_for: float | None = None  # seconds, from Cache-Control max-age / Expires


def next_poll(now: float, interval: float, failures: int, verdict: Verdict, settings: PollSettings,
              rng: random.Random) -> tuple[float, int]:
    """(next due time, consecutive failures) after a poll that ended at ``now``."""
    scale = settings.scale
    if verdict.ok:
        failures = 0
        delay = interval
        if verdict.fresh_for and verdict.fresh_for * scale > interval:
            delay = min(verdict.fresh_for * scale, max(interval, settings.max_cache_delay * scale))
    else:
        failures += 1
        cap = max(interval, settings.max_backoff * scale)
        # 2^failures without overflow for a page that has failed for months.
        delay = cap if failures >= 60 else min(interval * math.pow(2.0, failures), cap)
    delay *= rng.uniform(1.0 - settings.jitter, 1.0 + settings.jitter)
    if not verdict.ok and verdict.retry_after:
        # The server's own word is a floor that jitter never undercuts.
        delay = max(delay, min(verdict.retry_after, settings.max_retry_after) * scale)
    return now + delay, failures


def first_due(now: float, interval: float, rng: random.Random, spread: bool) -> float:
    """Due time of a provider never polled: now, or (``spread``) somewhere in its first interval."""
    return now + rng.uniform(0.0, interval) if spread else now


def wall_clock() -> float:
    return time.time()
