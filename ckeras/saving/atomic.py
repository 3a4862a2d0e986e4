"""Atomic file replacement: a save either lands whole or not at all.

The new content is written to a file in the target's folder (same file system,
so ``os.replace`` is an atomic rename), flushed and fsync'ed, then renamed over
the target. On Linux the file is first created with ``O_TMPFILE``: it has no
name until the commit, so a process killed mid-save (even by SIGKILL) leaves
nothing behind. Elsewhere a named ``.<name>.ckeras-tmp-<pid>-*`` file is used,
removed on any exception, and stale ones left by dead processes are swept by
the next save into the same folder.
"""
import contextlib
import glob
import os
import shutil
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
    """Remove named temp files of this target left by processes that died."""
    for path in glob.glob(os.path.join(glob.escape(directory), f".{glob.escape(base)}{_TMP_TAG}*")):
        try:
            pid = int(os.path.basename(path).split(_TMP_TAG, 1)[1].split("-", 1)[0])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            with contextlib.suppress(OSError):
                os.unlink(path)


def _open_anonymous(directory):
    """An unnamed read/write file in ``directory``, or None if unsupported."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.exists("/proc/self/fd"):
        return None
    try:
        fd = os.open(directory, flag | os.O_RDWR, 0o666 & ~_umask())
    except OSError:
        return None
    return os.fdopen(fd, "w+b")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _named_temp(directory, base):
    fd, tmp = tempfile.mkstemp(prefix=f".{base}{_TMP_TAG}{os.getpid()}-", dir=directory)
    os.chmod(tmp, 0o666 & ~_umask())
    return os.fdopen(fd, "w+b"), tmp


def check_overwrite(filepath, overwrite):
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath!r} already exists and overwrite=False.")


@contextlib.contextmanager
def atomic_write(filepath, overwrite=True):
    """Yield a binary file object (read/write/seek); on a clean exit its
    content replaces ``filepath`` atomically. On an exception nothing changes."""
    filepath = os.fspath(filepath)
    check_overwrite(filepath, overwrite)
    directory = os.path.dirname(os.path.abspath(filepath))
    base = os.path.basename(filepath)
    if not base:
        raise ValueError(f"Cannot save to {filepath!r}: it names a folder, not a file.")
    if os.path.isdir(filepath):
        raise IsADirectoryError(f"Cannot save to {filepath!r}: it is a folder.")
    os.makedirs(directory, exist_ok=True)
    _sweep_stale(directory, base)
    fobj = _open_anonymous(directory)
    tmp = None
    if fobj is None:
        fobj, tmp = _named_temp(directory, base)
    try:
        yield fobj
        fobj.flush()
        os.fsync(fobj.fileno())
        if tmp is None:
            # Give the anonymous file a temporary name, then rename it over the
            # target (a hard link cannot replace an existing file).
            fd_path = f"/proc/self/fd/{fobj.fileno()}"
            tmp = os.path.join(directory, f".{base}{_TMP_TAG}{os.getpid()}-link")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            try:
                os.link(fd_path, tmp)
            except OSError:
                _copy_out(fobj, tmp)
        fobj.close()
        os.replace(tmp, filepath)
        tmp = None
        _fsync_dir(directory)
    finally:
        if not fobj.closed:
            fobj.close()
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _copy_out(fobj, path):
    fobj.seek(0)
    with open(path, "wb") as out:
        shutil.copyfileobj(fobj, out)
        out.flush()
        os.fsync(out.fileno())
