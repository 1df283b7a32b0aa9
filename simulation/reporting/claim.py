"""Claiming a results folder, so that no two commands ever write the same folder.

A command claims its folder before it computes anything: the folder is made if it does not exist,
and locked with an exclusive ``flock`` on the folder itself, which the system releases when the
process ends, however it ends (a crash, SIGKILL). A second command that wants the same folder is
refused at once, with exit code 2, instead of both writing and one losing its results.

A claimed folder must be empty, or, with ``overwrite``, hold a results manifest (``manifest.json``
written by ``simulate``): ``--overwrite`` never deletes a folder a person made. Paths on the
kernel's pseudo file systems (/proc, /sys, /dev) are refused before anything runs.

Results are written into a hidden ``.<name>.partial-*`` folder beside the claimed one, itself
locked while it is written, then renamed into place (:meth:`Claim.writing`): the folder appears
whole or not at all. A partial folder that nobody holds was left by a killed command; claiming a
folder removes those beside it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "manifest.json"
#: File systems that are views of the kernel, not places for results.
PSEUDO_FILE_SYSTEMS = frozenset({
    "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs", "tracefs", "configfs",
    "pstore", "bpf", "mqueue", "hugetlbfs", "fusectl", "binfmt_misc", "efivarfs", "autofs", "rpc_pipefs", "nsfs",
})  # fmt: skip
_TEMPORARY = re.compile(r"\..+\.(partial|old)-[A-Za-z0-9_]{8}")  # tempfile.mkdtemp's names, see partial_folder


class ResultsFolderError(Exception):
    """The results folder cannot be used (in use, exists, not a folder, not writable); one line for the user."""


@dataclass
class Claim:
    """A results folder this process holds the lock of (see the module docstring)."""

    folder: Path
    created: bool  # this claim made the folder (so it removes it again if nothing was written)
    removed: list[Path] = field(default_factory=list)  # stale partial folders removed beside it
    _fd: int | None = None
    _inode: tuple[int, int] | None = None

    def still_ours(self) -> bool:
        """Is ``folder`` still the folder this claim locked (not renamed or replaced meanwhile)?"""
        if self._inode is None:
            return True
        try:
            st = os.stat(self.folder)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._inode

    @contextmanager
    def writing(self) -> Iterator[Path]:
        """A locked partial folder to write into; renamed into place if the block ends normally."""
        temp, fd = partial_folder(self.folder)
        try:
            yield temp
            os.chmod(temp, 0o777 & ~current_umask())  # mkdtemp makes it 0700; give it a normal folder's mode
            if not self.still_ours():
                raise ResultsFolderError(f"{self.folder} was moved or replaced while this command ran")
            move_into_place(temp, self.folder)
            self.created = False  # the folder is now the results: never remove it
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        finally:
            os.close(fd)

    def release(self) -> None:
        """Give the folder up; a folder this claim made and left empty is removed."""
        if self._fd is None:
            return
        try:
            if self.created and self.still_ours() and not any(self.folder.iterdir()):
                self.folder.rmdir()
        except OSError:
            pass
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def claim(folder: str | Path, overwrite: bool = False, resume: bool = False, hint: str = "--overwrite") -> Claim:
    """Make (if needed) and lock ``folder`` for this process; raise ResultsFolderError if it cannot be used.

    The folder must be empty; or with ``overwrite`` hold a results manifest (it is replaced only when
    the new results are written); or with ``resume`` hold a manifest (its contents are kept).
    ``hint`` names the option that allows a non-empty folder ('' if the command has none).
    """
    folder = check_folder(folder, overwrite, resume, hint)
    created = _make(folder)
    return _lock_and_check(folder, created, overwrite, resume, hint)


def claim_new(base: str | Path) -> Claim:
    """Claim a new folder ``base``, or ``base-2``, ``base-3``, ... if another command made it first."""
    base = Path(base)
    refuse_pseudo_file_system(base)
    _check_parent(base)
    for n in range(1, 10_000):
        folder = base if n == 1 else base.with_name(f"{base.name}-{n}")
        if _make(folder, exclusive=True):
            return _lock_and_check(folder, True, False, False, "")
    raise ResultsFolderError(f"cannot find a free folder name like {base}")


def check_folder(folder: str | Path, overwrite: bool = False, resume: bool = False, hint: str = "--overwrite") -> Path:
    """Fail early, before a long run, if ``folder`` could not be used; return it as a Path.

    Checks that it is not on a pseudo file system, not a file, that the nearest existing parent is a
    folder this process may write in, and (without making or locking anything) that an existing
    folder is empty or, with ``overwrite``, a results folder.
    """
    folder = Path(folder)
    refuse_pseudo_file_system(folder)
    if folder.exists() or folder.is_symlink():
        if not folder.is_dir():
            raise ResultsFolderError(f"{folder} exists and is not a folder")
        _check_contents(folder, overwrite, resume, hint)
    _check_parent(folder)
    return folder


def _check_parent(folder: Path) -> None:
    """The nearest existing parent must be a folder this process may write in."""
    if folder.is_dir():
        parent = folder.resolve().parent
    else:
        parent = folder.absolute().parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise ResultsFolderError(f"cannot create {folder}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ResultsFolderError(f"cannot create {folder}: no permission to write in {parent}")


def is_results_folder(folder: Path) -> bool:
    """Does ``folder`` hold a results manifest (a JSON object in manifest.json)?"""
    try:
        with open(folder / MANIFEST, encoding="utf-8") as fh:
            return isinstance(json.loads(fh.read(10_000_000)), dict)
    except (OSError, ValueError):
        return False


def refuse_pseudo_file_system(folder: Path) -> None:
    """Refuse a folder on a pseudo file system, or anywhere under /proc or /sys (even on a file system
    mounted inside them): writing there fails, or changes the system."""
    where = folder.absolute()
    while not where.exists() and where != where.parent:
        where = where.parent
    mounts = _mounts_around(where.resolve())
    kind = mounts[-1][1] if mounts else None
    above = next((fs for _, fs in mounts if fs in ("proc", "sysfs")), None)
    if kind in PSEUDO_FILE_SYSTEMS or above:
        raise ResultsFolderError(f"cannot write results under {where}: it is in the kernel's {above or kind} file "
                                 "system, not a place for files; choose a folder on a disk")  # fmt: skip


def _mounts_around(path: Path) -> list[tuple[str, str]]:
    """(mount point, file system type) of every mount containing ``path``, outermost first."""
    text = str(path)
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
            mounts = [tuple(line.split()[1:3]) for line in fh if len(line.split()) >= 3]
    except OSError:  # not Linux, or no /proc: judge by the path
        top = path.parts[1] if len(path.parts) > 1 else ""
        return [("/" + top, {"proc": "proc", "sys": "sysfs"}[top])] if top in ("proc", "sys") else []
    around = []
    for point, fs in mounts:
        point = point.replace("\\040", " ")
        if text == point or text.startswith(point.rstrip("/") + "/"):
            around.append((point, fs))
    return sorted(around, key=lambda m: len(m[0]))


def partial_folder(folder: Path) -> tuple[Path, int]:
    """A new hidden folder beside ``folder`` to write results into, and the fd that holds its lock."""
    parent = folder.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=parent))
    except OSError as exc:
        raise ResultsFolderError(f"cannot create {folder}: {exc.strerror or exc}") from None
    fd = os.open(temp, os.O_RDONLY | os.O_DIRECTORY)
    _try_lock(fd)
    return temp, fd


def move_into_place(temp: Path, folder: Path) -> None:
    """Rename ``temp`` to ``folder``; an existing (empty, or overwritten) folder is replaced.

    An empty folder is replaced in one atomic rename. A folder of old results is first renamed
    aside (and put back if the second rename fails), then removed.
    """
    if folder.is_dir() and not folder.is_symlink():
        try:
            os.rename(temp, folder)  # POSIX: a directory replaces an empty one atomically
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=temp.parent))
        old.rmdir()
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            _try_lock(fd)  # a stale-folder sweep must not take the old results while they are set aside
            folder.rename(old)
            try:
                temp.rename(folder)
            except BaseException:
                old.rename(folder)  # put the old results back
                raise
            shutil.rmtree(old, ignore_errors=True)
        finally:
            os.close(fd)
    else:
        temp.rename(folder)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- inside ----------------------------------------------------------------------------------


def _make(folder: Path, exclusive: bool = False) -> bool:
    """Make ``folder`` (and its parents); True if this call made it."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
        return True
    except FileExistsError:
        if exclusive:
            return False
        if not folder.is_dir():
            raise ResultsFolderError(f"{folder} exists and is not a folder") from None
        return False
    except OSError as exc:
        raise ResultsFolderError(f"cannot create {folder}: {exc.strerror or exc}") from None


def _lock_and_check(folder: Path, created: bool, overwrite: bool, resume: bool, hint: str) -> Claim:
    for _ in range(10):  # the folder may be renamed between opening and locking it: then try again
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise ResultsFolderError(f"cannot use {folder}: {exc.strerror or exc}") from None
        if not _try_lock(fd):
            os.close(fd)
            raise ResultsFolderError(f"another simulate command is writing to {folder}; wait for it to finish, "
                                     "or choose another --out")  # fmt: skip
        st = os.fstat(fd)
        result = Claim(folder, created, _fd=fd, _inode=(st.st_dev, st.st_ino))
        if result.still_ours():
            break
        os.close(fd)
    else:
        raise ResultsFolderError(f"{folder} keeps being replaced by another process")
    try:
        _check_contents(folder, overwrite, resume, hint)
        result.removed = _remove_stale(folder.absolute().parent)
    except BaseException:
        result.release()
        raise
    return result


def _check_contents(folder: Path, overwrite: bool, resume: bool, hint: str) -> None:
    try:
        empty = not any(folder.iterdir())
    except OSError as exc:
        raise ResultsFolderError(f"cannot use {folder}: {exc.strerror or exc}") from None
    if empty or resume:
        return
    if not overwrite:
        more = f"; choose another --out or use {hint}" if hint else "; choose another --out"
        raise ResultsFolderError(f"{folder} already exists and is not empty{more}")
    if not is_results_folder(folder):
        raise ResultsFolderError(f"{folder} is not a results folder (it has no {MANIFEST} written by simulate), so "
                                 "--overwrite leaves it alone; choose another --out")  # fmt: skip


def _try_lock(fd: int) -> bool:
    """Lock ``fd`` exclusively without waiting; False if another process holds it.

    A file system without flock support (some network file systems) is taken as unlocked.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        return exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)


def _remove_stale(parent: Path) -> list[Path]:
    """Remove the partial folders in ``parent`` that no process holds (left by a killed command)."""
    removed = []
    try:
        entries = [p for p in parent.iterdir() if _TEMPORARY.fullmatch(p.name)]
    except OSError:
        return removed
    for path in entries:
        try:
            if path.is_symlink() or not path.is_dir():
                continue
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            if _try_lock(fd):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        finally:
            os.close(fd)
    return removed

