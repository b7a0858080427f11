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

__all__ = ["STAGE_NAMES", "code_digest", "import_closure", "stage_digests"]

_PACKAGE = Path(__file__).resolve().parents[1]
#: the stages, each with its entry module mlsearch/pipeline/<stage>.py
STAGE_NAMES = ("generate", "simulate", "features", "train", "evaluate", "export", "limits")


def _module_file(root: Path, module: str) -> Path | None:
    """The source file of ``mlsearch.a.b`` below ``root`` (the mlsearch/ folder), if any."""
    parts = module.split(".")[1:]
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(source: bytes, path: Path, name: str) -> set[str]:
    """The mlsearch modules ``path`` (module ``name``) imports anywhere in its body; for
    ``from mlsearch.a import b`` both ``mlsearch.a`` and, if it is one, ``mlsearch.a.b``."""
    tree = ast.parse(source, filename=str(path))
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


class _Sources:
    """The package's source files as read once: bytes and imports per module."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, tuple[Path, bytes, set[str]] | None] = {}

    def get(self, name: str) -> tuple[Path, bytes, set[str]] | None:
        if name not in self._files:
            path = _module_file(self.root, name)
            if path is None:  # a name imported from a module, not a module
                self._files[name] = None
            else:
                source = path.read_bytes()
                self._files[name] = (path, source, _imported_modules(source, path, name))
        return self._files[name]

    def closure(self, module: str) -> list[tuple[Path, bytes]]:
        """(file, source) of ``module`` and every mlsearch module it imports by name (a
        package by its ``__init__.py``), recursively; sorted by path.

        A parent package's ``__init__.py`` that Python runs on the way (``mlsearch/pipeline/``
        imports every stage) is not followed unless it is imported by name: it re-exports,
        the stage does not call into it, and following it would make every stage depend on
        all."""
        seen: dict[str, tuple[Path, bytes]] = {}
        todo = [module]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            found = self.get(name)
            if found is None:
                continue
            path, source, imports = found
            seen[name] = (path, source)
            todo.extend(m for m in imports if m not in seen)
        return sorted(set(seen.values()))


def import_closure(module: str, root: Path = _PACKAGE) -> list[Path]:
    """The source files below ``root`` whose code ``module`` can call (see
    ``_Sources.closure``)."""
    return [path for path, _ in _Sources(root).closure(module)]


def stage_digests(root: Path = _PACKAGE, stages: tuple[str, ...] = STAGE_NAMES) -> dict[str, str]:
    """Per stage, the hash of the source of every module its entry module imports, read
    from ``root`` now (each file read and parsed once for all stages)."""
    sources = _Sources(root)
    out = {}
    for stage in stages:
        digest = hashlib.sha256()
        for path, source in sources.closure(f"mlsearch.pipeline.{stage}"):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(source)
        out[stage] = digest.hexdigest()[:16]
    return out


@functools.cache
def _snapshot(root: Path) -> dict[str, str]:
    return stage_digests(root)


def code_digest(stage: str, root: Path = _PACKAGE) -> str:
    """The stage's code digest as this process first read it ('' for a name that is not a
    stage; ``generate-all`` is ``generate``'s code). Taken once per process, for all stages
    together, so that a file edited during a run cannot give the old code's outputs the
    new code's key."""
    return _snapshot(root).get(stage.removesuffix("-all"), "")
