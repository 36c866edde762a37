"""Writing a file the user named: replace a regular file atomically, write through anything else.

``-o PATH`` may name a regular file (replaced by renaming a complete temporary file onto it, so a
reader never sees half an export), a symlink (the file it points at is the one replaced; the link
stays), or a FIFO, a device, ``/dev/stdout`` or a process substitution (``>(wc -c)``): those are
opened and written like a shell redirection, never replaced by a regular file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path


def write_user_file(data: bytes, output: Path) -> None:
    """Write ``data`` to ``output``; ``-`` is stdout. Raises OSError with the cause."""
    if str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        target_stat: os.stat_result | None = os.stat(output)  # follows symlinks
    except FileNotFoundError:
        target_stat = None
    if target_stat is not None and not stat.S_ISREG(target_stat.st_mode):
        if stat.S_ISDIR(target_stat.st_mode):
            raise IsADirectoryError(21, "Is a directory")
        _write_through(data, output)
        return
    # A regular file, or none yet: a complete temporary file renamed onto the real path, in the
    # real path's directory (a rename onto the symlink itself would replace the link).
    real = Path(os.path.realpath(output))
    tmp = real.with_name(f".{real.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            if target_stat is not None:
                # An existing file keeps its permissions; a new one is the owner's only.
                os.fchmod(fd, stat.S_IMODE(target_stat.st_mode))
        finally:
            os.close(fd)
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_through(data: bytes, output: Path) -> None:
    # No O_CREAT and no O_TRUNC: the thing exists and is not a file (a FIFO waits for its reader
    # here, as a shell redirection would).
    fd = os.open(output, os.O_WRONLY)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
