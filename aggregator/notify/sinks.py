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
import contextlib
import logging
import os
import selectors
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
WEBHOOK_TIMEOUT = float(os.environ.get("UPSTREAM_WEBHOOK_TIMEOUT") or 10.0)  # per connect or read
WEBHOOK_DEADLINE = 30.0  # the whole send, however the receiver paces its answer
APPRISE_DEADLINE = 60.0
ANSWER_READ_LIMIT = 4096  # bytes of an error body or a command's stderr ever read into memory
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
            # Apprise's own timeouts are per socket read; the thread cannot be stopped, but the
            # delivery stops waiting for it (and is retried, under the same id) at the deadline.
            try:
                result = await asyncio.wait_for(asyncio.to_thread(_apprise_notify, sub.target, payload),
                                                APPRISE_DEADLINE)
            except TimeoutError:
                result = SendResult(False, error=f"timed out after {APPRISE_DEADLINE:g}s (whole send)")
        else:
            result = SendResult(False, error=f"unknown sink {sub.sink!r}")
    except Exception as exc:  # noqa: BLE001 - a sink failure is a failed attempt, never a crash
        result = SendResult(False, error=f"{type(exc).__name__}: {exc}")
    if result.error:
        result.error = (scrub(result.error, sub.fragments()) or "")[:_ERROR_CHARS]
    return result


def webhook_client() -> Any:
    """The httpx client webhooks go out on: over upstream's guarded connector (netguard.py), so a
    webhook URL, which the user configured, may be internal but never link-local or metadata."""
    import httpx

    from aggregator.http import AiohttpTransport

    return httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, follow_redirects=False, transport=AiohttpTransport())


async def _send_webhook(sub: Subscription, payload: dict[str, Any], body: bytes, http: Any) -> SendResult:
    import httpx

    from aggregator.http import parse_retry_after

    headers = {"content-type": "application/json", "user-agent": USER_AGENT,
               **sign_headers(sub.secret or "", payload["id"], body)}
    own = http is None
    client = http or webhook_client()
    deadline = WEBHOOK_DEADLINE
    try:
        # The client's timeout is per read: a receiver that drips a byte at a time would never
        # hit it. The deadline bounds the whole exchange, connect to last byte read.
        async with asyncio.timeout(deadline):
            async with client.stream("POST", sub.target, content=body, headers=headers) as response:
                status = response.status_code
                head = b""
                if not 200 <= status < 300:
                    # Only the start of an error body is ever shown: never read more of it.
                    async for chunk in response.aiter_raw():
                        head += chunk
                        if len(head) >= ANSWER_READ_LIMIT:
                            break
                retry_after = response.headers.get("retry-after")
    except TimeoutError:
        return SendResult(False, error=f"timed out after {deadline:g}s (whole send)")
    except httpx.TimeoutException:
        return SendResult(False, error=f"timed out after {WEBHOOK_TIMEOUT:.0f}s")
    except httpx.HTTPError as exc:
        return SendResult(False, error=f"{type(exc).__name__}: {exc}")
    finally:
        if own:
            await client.aclose()
    if 200 <= status < 300:
        return SendResult(True, status=status)
    text = head[:ANSWER_READ_LIMIT].decode("utf-8", errors="replace")[:120].strip().replace("\n", " ")
    return SendResult(False, status=status, error=f"HTTP {status}" + (f": {text}" if text else ""),
                      retry_after=parse_retry_after(retry_after),
                      permanent=400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS)


def _run_command(command: str, payload: dict[str, Any], body: bytes) -> SendResult:
    """Run the user's command; its exit status decides, and what it leaves running is not waited for."""
    env = {**os.environ, "UPSTREAM_EVENT_ID": payload["id"], "UPSTREAM_EVENT_TYPE": payload["type"]}
    proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    assert proc.stdin is not None and proc.stderr is not None
    pending = memoryview(body + b"\n")
    tail = bytearray()  # the last ANSWER_READ_LIMIT bytes of stderr: the rest is read and dropped
    stdin_fd, stderr_fd = proc.stdin.fileno(), proc.stderr.fileno()
    os.set_blocking(stdin_fd, False)
    os.set_blocking(stderr_fd, False)
    deadline = time.monotonic() + COMMAND_TIMEOUT
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(stderr_fd, selectors.EVENT_READ)
            selector.register(stdin_fd, selectors.EVENT_WRITE)
            writing = True
            # Not communicate(): it waits for every holder of the pipes to close them, so a
            # background child (``sleep 60 &``) would hold a command that already succeeded.
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    return SendResult(False, error=f"command timed out after {COMMAND_TIMEOUT:.0f}s")
                for key, _ in selector.select(timeout=0.05):
                    if key.fd == stderr_fd:
                        if not _read_tail(stderr_fd, tail):
                            selector.unregister(stderr_fd)
                    elif writing:
                        try:
                            pending = pending[os.write(stdin_fd, pending[:65536]):]
                        except BlockingIOError:
                            pass  # the pipe filled meanwhile: the rest when it is writable again
                        except BrokenPipeError:
                            pending = pending[:0]  # the command does not read its stdin
                        if not pending:
                            writing = False
                            selector.unregister(stdin_fd)
                            proc.stdin.close()
            _read_tail(stderr_fd, tail)  # what the command wrote just before it exited
    finally:
        for pipe in (proc.stdin, proc.stderr):
            with contextlib.suppress(OSError):
                pipe.close()
    if proc.returncode == 0:
        return SendResult(True, status=0)
    lines = bytes(tail).decode(errors="replace").strip().splitlines()[-1:]
    return SendResult(False, status=proc.returncode,
                      error=f"command exited with {proc.returncode}" + (f": {lines[0]}" if lines else ""))


def _read_tail(fd: int, tail: bytearray) -> bool:
    """Read what is ready on ``fd`` into ``tail`` (kept to its last ANSWER_READ_LIMIT bytes); False at EOF."""
    for _ in range(64):  # bounded: a command writing without pause must not keep us here
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        tail += chunk
        del tail[:-ANSWER_READ_LIMIT]
    return True


def _append_line(path: Path, body: bytes) -> SendResult:
    """Append one whole line or nothing: a short write (full disk, file size limit) is cut back off."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = body + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        start = os.fstat(fd).st_size
        written = 0
        try:
            # O_APPEND: one write of one line, so appends never interleave mid-line; a second
            # write only if the first was short (then the disk is most likely full).
            while written < len(line):
                count = os.write(fd, line[written:])
                if count <= 0:
                    raise OSError(28, "short write")
                written += count
            os.fsync(fd)
        except OSError as exc:
            # A cut line would be read as a bad record and the next line glued onto it: take back
            # whatever part of this line reached the file.
            if written:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
            return SendResult(False, error=f"cannot append to {path}: {exc.strerror or exc}")
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
