"""Check what ckeras's sdist and wheels carry.

    python .ci/check_dist.py sdist  dist/ckeras-X.tar.gz
    python .ci/check_dist.py wheel  dist/ckeras-X-....whl   [--repaired]

sdist: the sources to build from (setup.py, csrc, .pyx/.pxd), every tracked
test file and conftest, the licences; no compiled or generated files.
wheel: every extension module of setup.py's EXTENSIONS, stripped; the data
and its CC BY 4.0 attribution; py.typed; LICENSE and complete metadata; no
Cython sources or generated C. --repaired: a manylinux tag and libgomp
vendored under ckeras.libs/.
"""
import io
import re
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_SUFFIXES = (".c", ".h", ".pyx", ".pxd", ".html")


def fail(msg):
    sys.exit(f"check_dist: {msg}")


def extension_modules():
    return re.findall(r'\("ckeras\._kernels\.(\w+)"', (ROOT / "setup.py").read_text())


def tracked(prefix):
    out = subprocess.run(["git", "ls-files", prefix], cwd=ROOT, capture_output=True, text=True)
    return set(out.stdout.split()) if out.returncode == 0 else set()


def check_sdist(path):
    with tarfile.open(path) as tar:
        names = tar.getnames()
    top = names[0].split("/")[0]
    files = {n[len(top) + 1:] for n in names if "/" in n}
    needed = {"setup.py", "pyproject.toml", "MANIFEST.in", "LICENSE", "CHANGELOG.md",
              "README.md", "tests/conftest.py", "ckeras/datasets/data/digits.npz",
              "ckeras/datasets/data/DIGITS_LICENSE.txt", "ckeras/py.typed"}
    needed |= {f"ckeras/_kernels/_{m.lstrip('_')}.pyx" for m in extension_modules()}
    needed |= tracked("tests") | tracked("csrc")
    missing = sorted(needed - files)
    if missing:
        fail(f"sdist lacks {missing[:20]}{' ...' if len(missing) > 20 else ''}")
    bad = sorted(f for f in files if f.endswith((".so", ".pyd", ".o"))
                 or (f.startswith("ckeras/_kernels/") and f.endswith((".c", ".html"))))
    if bad:
        fail(f"sdist carries build outputs: {bad}")
    n_tests = sum(1 for f in files if f.startswith("tests/") and f.endswith(".py"))
    print(f"sdist ok: {len(files)} files, {n_tests} test modules")


def _stripped(data):
    from elftools.elf.elffile import ELFFile
    elf = ELFFile(io.BytesIO(data))
    return elf.get_section_by_name(".symtab") is None


def check_wheel(path, repaired):
    with zipfile.ZipFile(path) as whl:
        names = whl.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(whl.read(meta_name).decode())
        sos = {n: whl.read(n) for n in names if n.startswith("ckeras/_kernels/") and ".so" in n}
        libs = [n for n in names if n.startswith("ckeras.libs/")]
    for module in extension_modules():
        if not any(Path(n).name.startswith(module + ".") for n in sos):
            fail(f"wheel lacks the extension module {module}")
    sources = [n for n in names if n.endswith(SOURCE_SUFFIXES)]
    if sources:
        fail(f"wheel carries sources/generated files: {sources}")
    for needed in ("ckeras/py.typed", "ckeras/datasets/data/digits.npz",
                   "ckeras/datasets/data/DIGITS_LICENSE.txt"):
        if needed not in names:
            fail(f"wheel lacks {needed}")
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        fail("wheel lacks dist-info/licenses/LICENSE")
    if meta.get("License-Expression") != "Apache-2.0":
        fail(f"License-Expression is {meta.get('License-Expression')!r}")
    if "ckeras developers" not in (meta.get("Author") or meta.get("Author-email") or ""):
        fail("no authors in the metadata")
    if not meta.get_all("Classifier"):
        fail("no classifiers in the metadata")
    requires = meta.get_all("Requires-Dist") or []
    if not any(r.startswith("numpy>=") for r in requires):
        fail(f"no numpy floor in Requires-Dist: {requires}")
    if sys.platform.startswith("linux"):
        unstripped = [n for n, data in sos.items() if not _stripped(data)]
        if unstripped:
            fail(f"unstripped extension modules: {unstripped}")
    if repaired:
        if not re.search(r"-manylinux_\d+_\d+_\w+\.whl$", Path(path).name):
            fail(f"{Path(path).name} has no manylinux tag")
        if not any("libgomp" in n for n in libs):
            fail(f"libgomp is not vendored (ckeras.libs/: {libs})")
    size = sum(len(d) for d in sos.values())
    print(f"wheel ok: {Path(path).name}, {len(sos)} extension modules ({size // 1024} KiB), "
          f"vendored {[Path(n).name for n in libs]}")


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "sdist":
        check_sdist(path)
    elif kind == "wheel":
        check_wheel(path, repaired="--repaired" in sys.argv[3:])
    else:
        fail(f"unknown kind {kind!r}")
