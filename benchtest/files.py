"""Local files: a bounded read of a regular file, and reports written atomically."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import stat
from collections.abc import Iterable, Sequence
from typing import IO, BinaryIO

from .errors import ConfigError, StorageError


class NotARegularFile(OSError):
    """A path that names a folder, a FIFO, a device: nothing a file's bytes can be read from."""


def open_regular_file(path: str) -> BinaryIO:
    """The regular file at ``path``, open to read. It is opened without blocking and checked
    before it is read, so a FIFO (whose open and read wait for a writer, forever) or a device
    is refused at once, and nothing can replace it in between."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFile(0, "not a regular file")
        return open(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path: str, limit: int) -> bytes:
    """At most ``limit`` bytes and one more of the regular file at ``path``."""
    with open_regular_file(path) as file:
        return file.read(limit + 1)


def read_file(path: str, limit: int) -> tuple[bytes, str] | None:
    """A regular file's bytes (``limit`` and one more at most, `read_regular_file`) and its
    name; None when there is no such file in an existing folder (a first run, as a missing
    ``latest`` is); `StorageError` when it cannot be read, its folder missing too (a typo)."""
    try:
        return read_regular_file(path, limit), path
    except FileNotFoundError:
        if not os.path.lexists(path) and os.path.isdir(os.path.dirname(path) or "."):
            return None
        raise StorageError(f"{path}: cannot read: no such file or folder") from None
    except OSError as exc:
        raise StorageError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def check_target(path: str, option: str = "--output") -> None:
    """Refuse, as a usage error, a path no report can be written to: its folder is missing, or
    it is there but not a regular file (a folder, a FIFO, a device)."""
    target = os.path.realpath(path)  # through symbolic links, as a shell redirect writes
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        if not os.path.isdir(os.path.dirname(target)):
            raise ConfigError(f"{path}: no such folder", origin=option) from None
        return
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}", origin=option) from exc
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{path}: not a regular file", origin=option)


def write_files(files: Sequence[tuple[str, Iterable[bytes] | IO[bytes]]]) -> None:
    """Write each (path, its bytes in pieces, or a file to copy) atomically, all or none as far
    as a file system allows: each body goes to a temporary file beside its path (links followed),
    flushed (fsync); only when all are written is each renamed over its path (atomic within a
    file system), then the folders are flushed, so the renames survive a crash. A failure or
    Ctrl-C before the renames removes the temporary files: a reader sees the old file or the new
    one, never part of one. A new file gets 0666 less the umask (as a shell redirect); a replaced
    one keeps its permissions."""
    staged: list[tuple[str, str, str]] = []  # (temporary file, target, path as given)
    path = ""
    try:
        for path, data in files:
            target = os.path.realpath(path)
            folder = os.path.dirname(target)
            # Not named after the target: a name of 242+ bytes plus a suffix is too long.
            temporary = os.path.join(folder, f".benchtest-{secrets.token_hex(8)}.tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            staged.append((temporary, target, path))
            with open(fd, "wb") as file:
                if os.path.exists(target):
                    os.fchmod(fd, stat.S_IMODE(os.stat(target).st_mode))
                if isinstance(data, io.IOBase):  # a file: copied in blocks, not by lines
                    shutil.copyfileobj(data, file)
                else:
                    file.writelines(data)
                file.flush()
                os.fsync(fd)
        for temporary, target, path in staged:  # noqa: B007 (path names a failed rename)
            os.replace(temporary, target)
        for folder in {os.path.dirname(target) for _, target, _ in staged}:
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    except BaseException as exc:
        for temporary, _, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        if isinstance(exc, OSError):
            raise StorageError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        raise
