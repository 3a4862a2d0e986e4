"""No import circle among ckeras's own modules.

The graph is read from the source with ``ast``, never by importing:

* Nodes are the modules under ``ckeras/``; a package is its ``__init__``.
* Every import statement is an edge, at module level and inside functions
  alike (a function-level import only postpones a circle, it does not break
  it). Cython ``.pyx`` files are scanned too, line by line, for their Python
  ``import``/``from ... import`` lines (``cimport`` is compile-time only).
* ``from X import Y`` is an edge to ``X.Y`` when ``X.Y`` is a module, else to
  ``X``. ``import X.Y`` is an edge to ``X.Y``. Relative imports are resolved.
* Importing ``a.b.c`` makes Python run ``a/__init__`` and ``a/b/__init__``
  first; those implicit parent imports are NOT edges. A package ``__init__``
  that re-exports its own submodules is the package's facade: it points down
  at them, and they must not point back up at it. A submodule that imports its
  own parent package (``from ckeras.layers import Dense`` inside
  ``ckeras/layers/``) is an explicit edge to the facade like any other, and so
  is ``import ckeras`` anywhere inside the package, since the top-level
  ``ckeras/__init__`` imports nearly everything.
* Imports of names outside ``ckeras`` (numpy, the stdlib) are not nodes.

The test fails listing every circle it finds, one module chain per line.
"""
import ast
import pathlib
import re

import ckeras

PACKAGE_DIR = pathlib.Path(ckeras.__file__).parent
ROOT = "ckeras"


def _module_name(path):
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _all_modules():
    files = [p for p in PACKAGE_DIR.rglob("*") if p.suffix in (".py", ".pyx")]
    return {_module_name(p): p for p in files}


_PYX_IMPORT = re.compile(r"^\s*(?:from\s+(\S+)\s+import\s+(.+)|import\s+(.+))$")


def _pyx_imports(text):
    """(module, names) pairs of the Python imports in a Cython file."""
    for line in text.splitlines():
        line = line.split("#", 1)[0].rstrip()
        if "cimport" in line:
            continue
        m = _PYX_IMPORT.match(line)
        if not m:
            continue
        if m.group(1):
            names = [n.split(" as ")[0].strip(" ()") for n in m.group(2).split(",")]
            yield m.group(1), [n for n in names if n]
        else:
            for mod in m.group(3).split(","):
                yield mod.split(" as ")[0].strip(), None


def _py_imports(tree, name, is_package):
    """(module, names) pairs of every import in a Python file, names=None for
    ``import X``. Relative ``from`` imports come back resolved."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                if not is_package:
                    anchor = anchor[:-1]
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            yield base, [a.name for a in node.names]


def import_graph():
    modules = _all_modules()
    graph = {}
    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".pyx":
            imports = _pyx_imports(text)
        else:
            imports = _py_imports(ast.parse(text, str(path)), name,
                                  path.name == "__init__.py")
        targets = set()
        for mod, names in imports:
            if mod != ROOT and not mod.startswith(ROOT + "."):
                continue
            subs = [f"{mod}.{n}" for n in names or () if f"{mod}.{n}" in modules]
            if subs:
                targets.update(subs)
            if len(subs) < len(names or [None]):   # some name is not a module
                target = mod
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                targets.add(target)
        targets.discard(name)
        graph[name] = targets
    return graph


def find_cycles(graph):
    """Every strongly connected component of more than one module, each shown
    as one concrete circle through it (Tarjan, iterative)."""
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        comp.append(member)
                        if member == node:
                            break
                    if len(comp) > 1:
                        comps.append(sorted(comp))
    return [(comp, _one_circle(graph, comp)) for comp in comps]


def _one_circle(graph, comp):
    """A shortest path from comp[0] back to itself inside the component."""
    members = set(comp)
    start = comp[0]
    parent = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return path[::-1] + [start]
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return comp


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    # Sanity of the reader itself: well-known edges are present.
    assert "ckeras.layers.layer" in graph["ckeras.layers.core"]
    assert "ckeras.ops" in graph["ckeras.layers.core"]
    assert "ckeras.layers.core" in graph["ckeras.layers"]
    assert not any(t.startswith("numpy") for ts in graph.values() for t in ts)


def test_find_cycles_reports_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    [(comp, circle)] = find_cycles(graph)
    assert comp == ["a", "b", "c"]
    assert circle == ["a", "b", "c", "a"]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    report = "\n".join(f"{len(comp)} modules, e.g. " + " -> ".join(circle)
                       + "\n    all: " + ", ".join(comp)
                       for comp, circle in cycles)
    assert not cycles, f"{len(cycles)} import circle(s) among ckeras modules:\n{report}"


def test_the_ground_floor_stays_on_the_ground():
    """The registry and the shared error type import nothing of ckeras above
    them; the compiled kernels and the layers do not import the numpy twins,
    and nothing below models/ imports models/."""
    graph = import_graph()
    assert graph["ckeras.registry"] <= {"ckeras.config"}
    assert graph["ckeras.ops.errors"] == set()
    assert graph["ckeras.ops.operators"] == set()
    for name, targets in graph.items():
        if name.startswith(("ckeras._kernels.", "ckeras.layers")):
            assert "ckeras.ops.reference" not in targets, name
        if name.startswith(("ckeras.layers", "ckeras.saving", "ckeras.ops",
                            "ckeras.utils.plot_model", "ckeras.utils.summary_utils")):
            assert not any(t.startswith("ckeras.models") for t in targets), (name, targets)
        if name.startswith("ckeras.layers"):
            assert not any(t.startswith("ckeras.optimizers") for t in targets), name
