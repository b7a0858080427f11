"""Stage cache keys follow the code: the digest covers every module a stage imports."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import pytest

from mlsearch.pipeline import cache
from mlsearch.pipeline.code_digest import STAGE_NAMES, import_closure, stage_digests

PACKAGE = Path(cache.__file__).resolve().parents[1]
STAGES = STAGE_NAMES


def digest(stage: str, root: Path) -> str:
    """Read from the files now (code_digest keeps the first reading of the process)."""
    return stage_digests(root, (stage,))[stage]


def _rel(paths: list[Path], root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in paths}


def test_closures_hold_the_modules_that_drifted_out_of_the_hand_kept_list() -> None:
    """The two misses that made results stale: the limits stage's binned model (scores ->
    bins, empty-bin floor, pseudo-data) and the physics and seeding code of simulate."""
    from mlsearch.limits.binned import binned_mass_model

    limits = _rel(import_closure("mlsearch.pipeline.limits"), PACKAGE)
    binned = Path(inspect.getsourcefile(binned_mass_model) or "").resolve()
    assert str(binned.relative_to(PACKAGE)) in limits
    simulate = _rel(import_closure("mlsearch.pipeline.simulate"), PACKAGE)
    assert "physics/kinematics.py" in simulate
    assert "detector/simulate.py" in simulate
    assert "physics/seeds.py" in simulate  # the chunk streams of the detector response


def test_a_module_outside_the_closure_does_not_invalidate() -> None:
    for stage in STAGES:
        assert "cli.py" not in _rel(import_closure(f"mlsearch.pipeline.{stage}"), PACKAGE)


def test_relative_and_function_level_imports_are_followed(tmp_path: Path) -> None:
    pkg = tmp_path / "mlsearch"
    (pkg / "pipeline").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "pipeline" / "__init__.py").write_text("from mlsearch.pipeline.other import x\n")
    (pkg / "pipeline" / "other.py").write_text("x = 1\n")
    (pkg / "pipeline" / "toy.py").write_text(
        "def f():\n    from .helper import g\n    import mlsearch.lazy\n    return g()\n"
    )
    (pkg / "pipeline" / "helper.py").write_text("def g():\n    return 1\n")
    (pkg / "lazy.py").write_text("")
    found = _rel(import_closure("mlsearch.pipeline.toy", pkg), pkg)
    # the parent package's re-exports are not called by the stage, so not followed
    assert found == {"pipeline/toy.py", "pipeline/helper.py", "lazy.py"}


@pytest.mark.parametrize("stage", STAGES)
def test_editing_any_imported_module_changes_the_stage_key(
    stage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file of the closure, edited one at a time in a copy of the package, changes the
    digest; and the digest is part of the key a stage compares with its manifest."""
    root = tmp_path / "mlsearch"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    before = digest(stage, root)
    files = import_closure(f"mlsearch.pipeline.{stage}", root)
    assert len(files) > 5
    for f in files:
        text = f.read_text()
        f.write_text(text + "\n# edited\n")
        assert digest(stage, root) != before, f
        f.write_text(text)
    assert digest(stage, root) == before
    key = cache.stage_key(stage, "inputs")
    monkeypatch.setattr(cache, "code_digest", lambda s: "edited")
    assert cache.stage_key(stage, "inputs") != key


def test_the_digest_is_that_of_the_code_the_process_loaded(tmp_path: Path) -> None:
    """A file edited while a run is going does not give the old code's outputs the new
    code's key: code_digest keeps the process's first reading (the pipeline takes it at
    import), while the next process reads the edit."""
    from mlsearch.pipeline.code_digest import code_digest

    root = tmp_path / "mlsearch"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    first = code_digest("limits", root)
    binned = root / "limits" / "binned.py"
    binned.write_text(binned.read_text() + "\n# edited during the run\n")
    assert code_digest("limits", root) == first
    assert stage_digests(root)["limits"] != first
