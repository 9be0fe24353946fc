"""Reading what a submission handed in or a sandboxed run left behind: regular files only, no
link followed at any component of a path, pipes, sockets and devices never opened, and caps on
each file and each tree. Everything else is left out and named, in a line a student reads.
"""
from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

MAX_FILE_BYTES = 256 * 1024 * 1024  # a saved model; the feedback keeps files under 50 MB only
MAX_TREE_BYTES = 1024 * 1024 * 1024
MAX_TREE_ENTRIES = 5000
MAX_TREE_DEPTH = 16
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


class UntrustedEntry(OSError):
    """An entry that is not a regular file or folder, or is over a cap; str() says which, by name."""


def describe_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "not a regular file"


def _refusal(name: str, mode: int) -> str:
    return f"{name} is {describe_kind(mode)}; only regular files are graded"


def open_folder(base: Path, *parts: str) -> int:
    """A descriptor of BASE/PARTS..., every component opened without following a link (BASE
    itself included; its parents are the grader's own). Raises UntrustedEntry naming a link
    or a non-folder, FileNotFoundError for a missing one."""
    try:
        fd = os.open(base, _DIR_FLAGS)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UntrustedEntry(err.errno, f"{Path(base).name} is not a folder (a link or a file)") from None
        raise
    try:
        for part in parts:
            if part in ("", ".", "..") or "/" in part:
                raise UntrustedEntry(errno.EINVAL, f"{part!r} is not a plain name")
            try:
                new = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as err:
                if err.errno in (errno.ELOOP, errno.ENOTDIR):
                    info = os.stat(part, dir_fd=fd, follow_symlinks=False)
                    raise UntrustedEntry(err.errno, f"{part} is {describe_kind(info.st_mode)}, not a folder") from None
                raise
            os.close(fd)
            fd = new
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_regular(dir_fd: int, name: str, limit: int, shown: str) -> tuple[int, os.stat_result]:
    """Open one regular file of a folder without following a link or opening anything else."""
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not stat.S_ISREG(info.st_mode):
        raise UntrustedEntry(errno.EINVAL, _refusal(shown, info.st_mode))
    if info.st_size > limit:
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        raise UntrustedEntry(errno.EFBIG, f"{shown} is over {size} (or over what is left of the "
                                          f"{MAX_TREE_BYTES // 1024 ** 3} GB for all files); it was left out")
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as err:
        if err.errno == errno.ELOOP:  # swapped for a link since the check
            raise UntrustedEntry(err.errno, _refusal(shown, stat.S_IFLNK)) from None
        raise
    opened = os.fstat(fd)
    if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
        os.close(fd)
        raise UntrustedEntry(errno.EINVAL, _refusal(shown, opened.st_mode))
    return fd, opened


def _read_capped(fd: int, limit: int, shown: str, sink=None) -> bytes:
    chunks, total = [], 0
    while True:
        chunk = os.read(fd, min(1 << 20, limit + 1 - total) or 1)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise UntrustedEntry(errno.EFBIG, f"{shown} grew over its size limit while it was read; it was left out")
        if sink is None:
            chunks.append(chunk)
        else:
            sink(chunk)
    return b"".join(chunks)


def read_regular(base: Path, relative: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of BASE/RELATIVE, a regular file reached without following any link, at most
    LIMIT bytes (else UntrustedEntry)."""
    *folders, name = Path(relative).parts
    folder = open_folder(base, *folders)
    try:
        fd, _ = _open_regular(folder, name, limit, relative)
        try:
            return _read_capped(fd, limit, relative)
        finally:
            os.close(fd)
    finally:
        os.close(folder)


def regular_entry(base: Path, relative: str) -> bool:
    """Whether BASE/RELATIVE is a regular file, reached without following any link."""
    *folders, name = Path(relative).parts
    try:
        folder = open_folder(base, *folders)
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False
    finally:
        os.close(folder)


def fresh_folder(path: Path) -> Path:
    """PATH as a new empty folder made here, whatever stood there (a link is removed, never
    followed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(path):
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path)
    path.mkdir()
    return path


def _traverse(base: Path, parts: tuple[str, ...], on_folder, on_file, skip) -> list[str]:
    """Visit BASE/PARTS in the order of sorted names without following a link: ON_FOLDER(place,
    name) -> the place of a subfolder, ON_FILE(folder fd, name, shown, place, limit) -> bytes
    taken; returns one line for each entry left out (a link, a pipe, a device, over a cap)."""
    refused: list[str] = []
    budget = {"bytes": MAX_TREE_BYTES, "entries": MAX_TREE_ENTRIES}

    def visit(fd: int, prefix: str, place, depth: int) -> None:
        for name in sorted(os.listdir(fd)):
            shown = prefix + name
            if name in skip:
                continue
            budget["entries"] -= 1
            if budget["entries"] < 0:
                if budget["entries"] == -1:
                    refused.append(f"more than {MAX_TREE_ENTRIES} files: {shown} and the rest were left out")
                continue
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                if depth >= MAX_TREE_DEPTH:
                    refused.append(f"{shown} is nested too deep; it was left out")
                    continue
                try:
                    sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError:
                    refused.append(_refusal(shown, stat.S_IFLNK))  # swapped for a link since the check
                    continue
                try:
                    visit(sub, shown + "/", on_folder(place, name), depth + 1)
                finally:
                    os.close(sub)
            elif stat.S_ISREG(info.st_mode):
                try:
                    budget["bytes"] -= on_file(fd, name, shown, place, min(MAX_FILE_BYTES, max(budget["bytes"], 0)))
                except UntrustedEntry as err:
                    refused.append(str(err))
            else:
                refused.append(_refusal(shown, info.st_mode))

    root = open_folder(base, *parts)
    try:
        visit(root, "", None, 0)
    finally:
        os.close(root)
    return refused


def walk_regular(base: Path, parts: tuple[str, ...], on_file, skip=("__pycache__",)) -> list[str]:
    """Call ON_FILE(relative path, bytes) for each regular file under BASE/PARTS, in the order
    of sorted path components, never following a link; returns one line for each other entry
    (a link, a pipe, a device, a file over the caps), by name."""
    def read(fd: int, name: str, shown: str, _place, limit: int) -> int:
        source, _ = _open_regular(fd, name, limit, shown)
        try:
            data = _read_capped(source, MAX_FILE_BYTES, shown)
        finally:
            os.close(source)
        on_file(shown, data)
        return len(data)

    return _traverse(base, parts, lambda place, name: None, read, skip)


def read_regular_tree(base: Path, parts: tuple[str, ...], skip=()) -> tuple[dict[str, bytes], list[str], list[str]]:
    """The regular files under BASE/PARTS as (relative path -> bytes, relative paths of the
    folders, parents first, one line for each entry left out), read without following any link,
    under the caps. Raises UntrustedEntry when BASE/PARTS itself is a link or not a folder."""
    files: dict[str, bytes] = {}
    folders: list[str] = []

    def folder(place: str | None, name: str) -> str:
        folders.append(f"{place}/{name}" if place else name)
        return folders[-1]

    def read(fd: int, name: str, shown: str, _place, limit: int) -> int:
        source, _ = _open_regular(fd, name, limit, shown)
        try:
            files[shown] = _read_capped(source, limit, shown)
        finally:
            os.close(source)
        return len(files[shown])

    left_out = _traverse(base, parts, folder, read, skip)
    return files, folders, left_out


def copy_regular_tree(base: Path, parts: tuple[str, ...], target: Path, skip=()) -> list[str]:
    """Copy the regular files and folders under BASE/PARTS into TARGET (made here; it must not
    exist) without following any link; returns one line for each entry left out, by name.
    Raises UntrustedEntry when BASE/PARTS itself is a link or not a folder."""
    def folder(place: Path | None, name: str) -> Path:
        made = (place or target) / name
        os.mkdir(made)
        return made

    def copy(fd: int, name: str, shown: str, place: Path | None, limit: int) -> int:
        source, info = _open_regular(fd, name, limit, shown)
        dest = (place or target) / name
        try:
            out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                          stat.S_IMODE(info.st_mode) & 0o755 | 0o600)
            written = 0
            try:
                def sink(chunk: bytes) -> None:
                    nonlocal written
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(out, view):]
                    written += len(chunk)
                _read_capped(source, limit, shown, sink)
            except BaseException:
                os.close(out)
                os.unlink(dest)
                raise
            os.close(out)
            os.utime(dest, ns=(info.st_atime_ns, info.st_mtime_ns))
            return written
        finally:
            os.close(source)

    os.close(open_folder(base, *parts))  # (BASE/PARTS itself a link, or missing: nothing is made)
    os.makedirs(target.parent, exist_ok=True)
    os.mkdir(target)
    return _traverse(base, parts, folder, copy, skip)
