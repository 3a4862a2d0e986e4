"""Finding the compiled kernels, and saying so loudly when they are not there.

Two failures, two behaviours (``CKERAS_ALLOW_REFERENCE=1`` turns both off):

* Not built: a kernel module has no extension file. ``import ckeras`` raises
  ImportError with the command that builds them. The usual cause is Python
  started inside a source checkout, whose uncompiled ``ckeras/`` folder
  shadows the installed package.
* Built but not loadable: the extension exists but a shared library it needs
  is missing (libgomp in a slim container) or the build is stale. One
  RuntimeWarning per missing library, naming it and how to install it; the
  families it blocks run on the numpy reference.
"""
import importlib.util
import os
import re
import warnings

ALLOW_ENV = "CKERAS_ALLOW_REFERENCE"

_warned = set()   # libraries (or messages) already warned about


def missing_modules(names):
    """The kernel modules among ``names`` with no extension file to import."""
    return [n for n in names if importlib.util.find_spec("ckeras._kernels." + n) is None]


def _installed_copy(package_dir):
    """``ckeras/`` folder of an installed distribution other than ours, or None."""
    try:
        from importlib.metadata import distribution
        dist = distribution("ckeras")
    except Exception:   # not installed (or unreadable metadata)
        return None
    path = os.path.dirname(str(dist.locate_file("ckeras/__init__.py")))
    if os.path.isfile(os.path.join(path, "__init__.py")) and \
            os.path.realpath(path) != os.path.realpath(package_dir):
        return path
    return None


def not_built_message(missing):
    # ckeras/ (this file is ckeras/ops/kernel_loading.py); not `import ckeras`,
    # which would be an import circle: ckeras imports ops, ops imports us.
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    root = os.path.dirname(package_dir)
    lines = [f"ckeras's compiled kernels are not built: {package_dir}{os.sep}_kernels "
             f"has no extension module for {', '.join(missing)}."]
    if os.path.isfile(os.path.join(root, "setup.py")):
        lines += [f"This is the source checkout {root}. Build the kernels in place there:",
                  "    pip install -e .",
                  "(or `python setup.py build_ext --inplace -j 2` after editing a .pyx/.c file)."]
        installed = _installed_copy(package_dir)
        if installed:
            lines.append(f"An installed ckeras is at {installed}: Python started in {root}, "
                         "whose ckeras/ folder shadows it; run from another folder to use it.")
    else:
        lines.append("The installation is incomplete: reinstall ckeras "
                     "(`pip install --force-reinstall --no-deps ckeras`, or `pip install .` "
                     "from its source).")
    lines.append(f"To run on the slow numpy reference on purpose, set {ALLOW_ENV}=1.")
    return "\n".join(lines)


def require_built(names):
    """ImportError naming what to run if any of ``names`` is not built."""
    missing = missing_modules(names)
    if missing:
        raise ImportError(not_built_message(missing))


# How the loaders say a dependency is missing (glibc/musl, macOS dyld, Windows).
_MISSING = (
    re.compile(r"([^\s:/\\]+\.so[\d.]*): cannot open shared object file"),
    re.compile(r"Error loading shared library ([^\s:/]+\.so[\d.]*)"),
    re.compile(r"Library not loaded: \S*?([^/\s]+\.dylib)"),
)


def missing_library(message):
    """The shared library a loader error message names as missing, or None."""
    for pattern in _MISSING:
        m = pattern.search(message)
        if m:
            return m.group(1)
    if "DLL load failed" in message:
        return "an OpenMP runtime DLL (vcomp140.dll or libomp140.x86_64.dll)"
    return None


def install_hint(library):
    name = library.lower()
    if "gomp" in name:
        return ("libgomp is GCC's OpenMP runtime: install it (Debian/Ubuntu "
                "`apt-get install libgomp1`, Fedora/RHEL `dnf install libgomp`, "
                "Alpine `apk add libgomp`), or install a manylinux ckeras wheel, "
                "which carries its own copy.")
    if "vcomp" in name or name.startswith("libomp140") or name.endswith(".dll"):
        return ("Install the Microsoft Visual C++ Redistributable (x64), which "
                "provides the OpenMP runtime MSVC builds load.")
    if "omp" in name:
        return ("It is LLVM's OpenMP runtime: `brew install libomp` (macOS), "
                "`apt-get install libomp5` (Debian/Ubuntu), or rebuild ckeras "
                "serially with CKERAS_NO_OPENMP=1.")
    return f"Install the system package that provides {library}."


def load_failure_message(module, exc):
    text = str(exc)
    library = missing_library(text)
    tail = (f" Until then the kernels that need it run on the numpy reference (much "
            f"slower); ckeras.show_config() lists what loaded, and {ALLOW_ENV}=1 "
            "silences this warning.")
    if library:
        return (f"ckeras kernel module {module} could not load: {library} is missing "
                f"({text}). {install_hint(library)}" + tail)
    return (f"ckeras kernel module {module} failed to import ({text}): the build is "
            "stale or for another Python/numpy; rebuild it (`pip install -e .` in a "
            "checkout) or reinstall ckeras." + tail)


def warn_load_failure(module, exc):
    """Warn once per missing library (or distinct error) that a module failed."""
    key = missing_library(str(exc)) or str(exc)
    if key in _warned:
        return
    _warned.add(key)
    warnings.warn(load_failure_message(module, exc), RuntimeWarning, stacklevel=4)
