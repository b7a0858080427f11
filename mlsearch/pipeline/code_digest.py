"""The code a stage's output depends on, found from its imports rather than listed by hand.

A stage's cache key includes a hash of every mlsearch module its entry module
(``mlsearch/pipeline/<stage>.py``) imports, directly or through other mlsearch modules, at
module level or inside functions: editing any of them reruns the stage. The closure is read
from the source (``ast``), so nothing is imported to compute it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

__all__ = ["code_digest", "import_closure"]

_PACKAGE = Path(__file__).resolve().parents[1]


def _module_file(root: Path, module: str) -> Path | None:
    """The source file of ``mlsearch.a.b`` below ``root`` (the mlsearch/ folder), if any."""
    parts = module.split(".")[1:]
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path, name: str) -> set[str]:
    """The mlsearch modules ``path`` (module ``name``) imports anywhere in its body; for
    ``from mlsearch.a import b`` both ``mlsearch.a`` and, if it is one, ``mlsearch.a.b``."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "mlsearch")
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if base.split(".")[0] != "mlsearch":
                continue
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def import_closure(module: str, root: Path = _PACKAGE) -> list[Path]:
    """The source files below ``root`` whose code ``module`` can call: its own file and, for
    each mlsearch module it imports by name (a package by its ``__init__.py``), the same,
    recursively. Sorted, so the digest is stable.

    A parent package's ``__init__.py`` that Python runs on the way (``mlsearch/pipeline/``
    imports every stage) is not followed unless it is imported by name: it re-exports, the
    stage does not call into it, and following it would make every stage depend on all."""
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(root, name)
        if path is None:  # a name imported from a module, not a module
            continue
        seen[name] = path
        todo.extend(m for m in _imported_modules(path, name) if m not in seen)
    return sorted(set(seen.values()))


@functools.cache
def code_digest(stage: str, root: Path = _PACKAGE) -> str:
    """Hash of the source of every module the stage's entry module imports ('' for a name
    that is not a stage; ``generate-all`` is ``generate``'s code)."""
    entry = f"mlsearch.pipeline.{stage.removesuffix('-all')}"
    if _module_file(root, entry) is None:
        return ""
    digest = hashlib.sha256()
    for f in import_closure(entry, root):
        digest.update(str(f.relative_to(root)).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]
