"""Atomic file replacement: a save either lands whole or not at all.

The new content is written once, to a temporary file beside the target
(``.<name>.ckeras-tmp-<pid>-<random>``: same folder, so the same file
system), flushed and fsync'ed, then renamed over the target with
``os.replace`` and the folder fsync'ed so the rename itself is durable. On
any exception the temporary file is removed and the target is untouched. A
process killed mid-save (SIGKILL, power loss) leaves its temporary file
behind; the next save to the same target removes the ones whose process is
gone.

What the user's path is, is kept:

* a symlink is followed: the file it points to is replaced (the temporary
  file sits beside *that* file) and the link itself stays a link;
* an existing file's permission bits are kept (a 0600 file stays 0600), and
  its owner and group where the process may set them; a new file gets 0666
  minus the umask, as ``open()`` would;
* a file with several hard links is replaced by a new file under the saved
  name only: the other names keep the previous content (rewriting the
  shared inode in place could not be atomic).
"""
import contextlib
import glob
import os
import stat
import tempfile

_TMP_TAG = ".ckeras-tmp-"


def _fsync_dir(directory):
    # Makes the rename itself durable; not possible on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _sweep_stale(directory, base):
    """Remove temp files of this target left by processes that died."""
    pattern = os.path.join(glob.escape(directory), f".{glob.escape(base)}{_TMP_TAG}*")
    for path in glob.glob(pattern):
        try:
            pid = int(os.path.basename(path).split(_TMP_TAG, 1)[1].split("-", 1)[0])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            with contextlib.suppress(OSError):
                os.unlink(path)


def _umask():
    """The process umask, read without changing it where possible (changing
    it briefly would race with other threads creating files)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_overwrite(filepath, overwrite):
    if not overwrite and os.path.lexists(filepath):
        raise FileExistsError(f"{filepath!r} already exists and overwrite=False.")


def _resolve(filepath):
    """The path to replace: ``filepath``, or the file a symlink points to."""
    if not os.path.islink(filepath):
        return filepath
    target = os.path.realpath(filepath)
    if os.path.isdir(target):
        raise IsADirectoryError(f"Cannot save to {filepath!r}: it links to a folder.")
    return target


@contextlib.contextmanager
def atomic_write(filepath, overwrite=True):
    """Yield a binary file object (read/write/seek); on a clean exit its
    content replaces ``filepath`` atomically. On an exception nothing changes."""
    filepath = os.fspath(filepath)
    check_overwrite(filepath, overwrite)
    if not os.path.basename(filepath):
        raise ValueError(f"Cannot save to {filepath!r}: it names a folder, not a file.")
    if os.path.isdir(filepath):
        raise IsADirectoryError(f"Cannot save to {filepath!r}: it is a folder.")
    target = _resolve(filepath)
    directory = os.path.dirname(os.path.abspath(target))
    base = os.path.basename(target)
    os.makedirs(directory, exist_ok=True)
    _sweep_stale(directory, base)
    try:
        old = os.stat(target)
        mode = stat.S_IMODE(old.st_mode)
    except FileNotFoundError:
        old, mode = None, 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{base}{_TMP_TAG}{os.getpid()}-", dir=directory)
    try:
        if old is not None and hasattr(os, "fchown"):
            # Keep the owner/group where allowed (root, or a group we are in).
            with contextlib.suppress(OSError):
                os.fchown(fd, old.st_uid, old.st_gid)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        else:                       # Windows before Python 3.13
            os.chmod(tmp, mode)
        with os.fdopen(fd, "w+b") as fobj:
            fd = None
            yield fobj
            fobj.flush()
            os.fsync(fobj.fileno())
        os.replace(tmp, target)
        tmp = None
        _fsync_dir(directory)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
