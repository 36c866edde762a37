"""Sinks: how one payload reaches one subscription. ``send`` never raises; it returns a SendResult.

* webhook: POST of the JSON payload, signed as Standard Webhooks specifies (``webhook-id`` = the
  idempotency key, ``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256 of
  id.timestamp.body>``). Any 2xx is success; redirects are not followed (they are failures).
* command: ``/bin/sh -c COMMAND`` with the payload JSON on stdin, UPSTREAM_EVENT_ID and
  UPSTREAM_EVENT_TYPE in its environment; exit status 0 is success.
* file: the payload appended as one line to an NDJSON file (created 0600), fsynced.
* apprise: a message rendered for people (render.py), sent by Apprise to any service it knows.

The blocking sinks (command, file, Apprise) run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aggregator.notify.redact import scrub
from aggregator.notify.render import render
from aggregator.notify.subscriptions import Subscription

USER_AGENT = "upstream/0.1 (status-page aggregator; notifications)"
WEBHOOK_TIMEOUT = float(os.environ.get("UPSTREAM_WEBHOOK_TIMEOUT") or 10.0)  # seconds per request
COMMAND_TIMEOUT = 30.0
_ERROR_CHARS = 300


@dataclass
class SendResult:
    ok: bool
    status: int | None = None  # HTTP status or exit code
    error: str | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait
    permanent: bool = False  # retrying cannot help (the receiver rejected the request itself)


# 4xx answers a retry cannot change; 408, 409, 425 and 429 are worth another try.
RETRYABLE_CLIENT_ERRORS = {408, 409, 425, 429}


def sign_headers(secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``."""
    from standardwebhooks.webhooks import Webhook

    ts = int(time.time()) if timestamp is None else timestamp
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, UTC), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


async def send(sub: Subscription, payload: dict[str, Any], body: bytes, *, http: Any = None) -> SendResult:
    """Deliver one payload; errors come back scrubbed of the subscription's secrets."""
    try:
        if sub.sink == "webhook":
            result = await _send_webhook(sub, payload, body, http)
        elif sub.sink == "command":
            result = await asyncio.to_thread(_run_command, sub.target, payload, body)
        elif sub.sink == "file":
            result = await asyncio.to_thread(_append_line, Path(sub.target), body)
        elif sub.sink == "apprise":
            result = await asyncio.to_thread(_apprise_notify, sub.target, payload)
        else:
            result = SendResult(False, error=f"unknown sink {sub.sink!r}")
    except Exception as exc:  # noqa: BLE001 - a sink failure is a failed attempt, never a crash
        result = SendResult(False, error=f"{type(exc).__name__}: {exc}")
    if result.error:
        result.error = (scrub(result.error, sub.fragments()) or "")[:_ERROR_CHARS]
    return result


async def _send_webhook(sub: Subscription, payload: dict[str, Any], body: bytes, http: Any) -> SendResult:
    import httpx

    from aggregator.http import parse_retry_after

    headers = {"content-type": "application/json", "user-agent": USER_AGENT,
               **sign_headers(sub.secret or "", payload["id"], body)}
    own = http is None
    client = http or httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, follow_redirects=False)
    try:
        response = await client.post(sub.target, content=body, headers=headers)
    except httpx.TimeoutException:
        return SendResult(False, error=f"timed out after {WEBHOOK_TIMEOUT:.0f}s")
    except httpx.HTTPError as exc:
        return SendResult(False, error=f"{type(exc).__name__}: {exc}")
    finally:
        if own:
            await client.aclose()
    if 200 <= response.status_code < 300:
        return SendResult(True, status=response.status_code)
    text = response.text[:120].strip().replace("\n", " ")
    status = response.status_code
    return SendResult(False, status=status, error=f"HTTP {status}" + (f": {text}" if text else ""),
                      retry_after=parse_retry_after(response.headers.get("retry-after")),
                      permanent=400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS)


def _run_command(command: str, payload: dict[str, Any], body: bytes) -> SendResult:
    env = {**os.environ, "UPSTREAM_EVENT_ID": payload["id"], "UPSTREAM_EVENT_TYPE": payload["type"]}
    proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        _, err = proc.communicate(body + b"\n", timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return SendResult(False, error=f"command timed out after {COMMAND_TIMEOUT:.0f}s")
    if proc.returncode == 0:
        return SendResult(True, status=0)
    tail = err.decode(errors="replace").strip().splitlines()[-1:] if err else []
    return SendResult(False, status=proc.returncode,
                      error=f"command exited with {proc.returncode}" + (f": {tail[0]}" if tail else ""))


def _append_line(path: Path, body: bytes) -> SendResult:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, body + b"\n")  # one write of one line: appends never interleave mid-line
        os.fsync(fd)
    finally:
        os.close(fd)
    return SendResult(True)


def _apprise_notify(url: str, payload: dict[str, Any]) -> SendResult:
    import apprise

    message = render(payload)
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return SendResult(False, error="Apprise does not understand this URL")
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = notifier.notify(title=message.title, body=message.body, notify_type=apprise.NotifyType(message.level),
                             body_format=apprise.NotifyFormat.TEXT)
        logged = captured.getvalue().strip().splitlines()
    if ok:
        return SendResult(True)
    return SendResult(False, error=(logged[-1] if logged else "Apprise reported a failure").strip())
