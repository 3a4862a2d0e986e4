"""``get_file``: download once into Keras's cache, verify, optionally extract.

The cache is Keras's own (``$KERAS_HOME``, else ``~/.keras``; ``/tmp/.keras``
when that is not writable), with Keras 3's file layout, so a file that real
Keras downloaded is reused and the other way round.

Downloads go to a temporary file beside the target and are renamed into
place only after the hash matched: an interrupted or corrupt download never
leaves a cache file behind. Archives are extracted the same way (into a
temporary folder, renamed when complete), and members that would land
outside the target folder (``../``, absolute paths, links pointing out) are
skipped with a warning, as Keras does.
"""
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from ckeras.utils.io_utils import print_msg

_CHUNK = 1 << 16


def keras_home():
    """Keras's base folder: ``$KERAS_HOME`` or ``~/.keras`` (``/tmp`` if the
    home folder is not writable)."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


# ---- hashing ------------------------------------------------------------------

def resolve_hasher(algorithm, file_hash=None):
    """sha256 or md5; ``"auto"`` picks sha256 for a 64-character hash."""
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "auto" and file_hash is not None and len(file_hash) == 64:
        return hashlib.sha256()
    if algorithm in ("md5", "auto"):
        return hashlib.md5()
    raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5', got {algorithm!r}.")


def hash_file(fpath, algorithm="sha256", chunk_size=_CHUNK):
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=_CHUNK):
    hasher = resolve_hasher(algorithm, file_hash)
    return hash_file(fpath, hasher, chunk_size) == str(file_hash).lower()


# ---- downloading ------------------------------------------------------------------

class _DownloadBar:
    """Keras's byte-count progress bar (``Downloading data from ...``)."""

    def __init__(self, total):
        from ckeras.callbacks.progbar import Progbar
        self.bar = Progbar(total)

    def update(self, done, final=False):
        self.bar.update(done, finalize=final)


def _download(origin, target, file_hash, hash_algorithm):
    """Fetch ``origin`` into ``target`` atomically, checking ``file_hash``."""
    print_msg(f"Downloading data from {origin}")
    directory = os.path.dirname(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".part",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                _copy_url(origin, out)
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
                reason = getattr(e, "reason", None) or e
                raise ConnectionError(_offline_message(origin, target, file_hash, reason)) from e
            out.flush()
            os.fsync(out.fileno())
        if file_hash is not None and not validate_file(tmp, file_hash, hash_algorithm):
            got = hash_file(tmp, resolve_hasher(hash_algorithm, file_hash))
            raise ValueError(
                f"Incomplete or corrupted file detected: {origin} downloaded with "
                f"hash {got}, expected {file_hash}. Nothing was written to {target}.")
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _copy_url(origin, out):
    with urllib.request.urlopen(origin, timeout=60) as response:
        length = response.headers.get("Content-Length")
        bar = _DownloadBar(int(length) if length and length.isdigit() else None)
        done = 0
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)
            bar.update(done)
        bar.update(done, final=True)


def _offline_message(origin, target, file_hash, reason):
    hint = f" (its {'sha256' if file_hash and len(file_hash) == 64 else 'md5'} " \
           f"hash must be {file_hash})" if file_hash else ""
    return (f"Could not download {os.path.basename(target)} from {origin}: {reason}. "
            f"If this machine is offline, fetch that file elsewhere and put it at "
            f"{target}{hint}.")


# ---- extraction ----------------------------------------------------------------------

def _inside(base, path):
    base = os.path.realpath(base)
    path = os.path.realpath(path)
    return os.path.commonpath([base, path]) == base


def _safe_tar_members(archive, dest):
    for info in archive:
        target = os.path.join(dest, info.name)
        ok = _inside(dest, target)
        if ok and info.issym():
            ok = _inside(dest, os.path.join(os.path.dirname(target), info.linkname))
        elif ok and info.islnk():
            ok = _inside(dest, os.path.join(dest, info.linkname))
        elif ok and not (info.isfile() or info.isdir()):
            ok = False  # devices, fifos: never from a data archive
        if ok:
            yield info
        else:
            warnings.warn(f"Skipping invalid path during archive extraction: {info.name!r}.",
                          stacklevel=3)


def _safe_zip_members(archive, dest):
    for info in archive.infolist():
        if _inside(dest, os.path.join(dest, info.filename)):
            yield info
        else:
            warnings.warn(f"Skipping invalid path during archive extraction: "
                          f"{info.filename!r}.", stacklevel=3)


def _archive_kind(path, archive_format):
    if archive_format is None:
        return None
    kinds = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format))
    for kind in kinds:
        if kind == "tar" and tarfile.is_tarfile(path):
            return "tar"
        if kind == "zip" and zipfile.is_zipfile(path):
            return "zip"
        if kind not in ("tar", "zip"):
            raise ValueError(f"archive_format must be 'auto', 'tar', 'zip' or None, "
                             f"got {kind!r}.")
    return None


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extract a tar(.gz/.bz2/.xz) or zip archive into ``path`` (atomically:
    a temporary folder renamed over ``path``). Returns False if ``file_path``
    is not an archive of the allowed formats."""
    file_path, path = os.fspath(file_path), os.fspath(path)
    kind = _archive_kind(file_path, archive_format)
    if kind is None:
        return False
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".part", dir=parent)
    try:
        if kind == "tar":
            with tarfile.open(file_path) as archive:
                extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                archive.extractall(tmp, members=_safe_tar_members(archive, tmp), **extra)
        else:
            with zipfile.ZipFile(file_path) as archive:
                archive.extractall(tmp, members=_safe_zip_members(archive, tmp))
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return True


# ---- get_file ------------------------------------------------------------------------------

def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Download ``origin`` into ``cache_dir/cache_subdir/fname`` unless it is
    already there (with the right hash), and return its path.

    With ``extract=True`` (or ``untar=True``) the archive is unpacked and the
    extraction folder is returned, named as Keras 3 names it: ``fname``
    without its extension plus ``_extracted`` when ``fname`` has a dot
    (``"data.tar.gz"`` -> ``data_extracted``), else ``fname`` itself (the
    archive is then kept as ``<fname>_archive``).
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if cache_dir is None:
        cache_dir = keras_home()
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    base = os.path.expanduser(os.fspath(cache_dir))
    try:
        os.makedirs(base, exist_ok=True)
        writable = os.access(base, os.W_OK)
    except OSError:
        writable = False
    if not writable:  # Keras's fallback for a read-only home
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    datadir = os.path.join(base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)

    given = fname
    fname = os.fspath(fname) if fname else None
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: "
                             f"{origin!r}. Please specify the `fname` argument.")
    elif os.sep in fname:
        raise ValueError(f"Paths are no longer accepted as the `fname` argument. To "
                         f"specify the file's parent directory, use the `cache_dir` "
                         f"argument. Received: fname={fname}")

    unpack = extract or untar
    if unpack:
        if given and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{fname[:fname.find('.')]}_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            target = os.path.join(datadir, f"{fname}_archive")
    else:
        target = os.path.join(datadir, fname)

    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash,
                                                                    hash_algorithm):
        print_msg(f"A local file was found, but it seems to be incomplete or outdated because "
              f"the {hash_algorithm} file hash does not match the original value of "
              f"{file_hash} so we will re-download the data.")
        download = True
    if download:
        _download(origin, target, file_hash, hash_algorithm)

    if not unpack:
        return target
    if download or not os.path.isdir(extraction_dir):
        if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
            warnings.warn(f"Could not extract archive {target}: not a "
                          f"{'tar' if untar else archive_format} archive.", stacklevel=2)
    return extraction_dir
