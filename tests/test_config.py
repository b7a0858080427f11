import subprocess
import sys

import pytest

from mlsearch.config import config_hash, load_config
from mlsearch.errors import ConfigError

from .conftest import DEFAULT_CONFIG, SMALL_PROFILE


def test_default_config_loads_with_overrides():
    c = load_config(DEFAULT_CONFIG, ["luminosity_fb=0.276", "models.pbdt.n_estimators=50"])
    assert c.luminosity_fb == 0.276
    assert c.models.pbdt.n_estimators == 50
    assert c.generate.signal.masses == sorted(c.generate.signal.masses)


def test_hash_changes_with_content_only():
    a = load_config(SMALL_PROFILE)
    b = load_config(SMALL_PROFILE)
    c = load_config(SMALL_PROFILE, ["seed=8"])
    assert config_hash(a) == config_hash(b) != config_hash(c)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "models.pbdt.n_estimator=5",
            "unknown key 'models.pbdt.n_estimator' (allowed here: "
            "early_stopping_rounds, enabled, learning_rate, max_depth, n_estimators, n_jobs, "
            "validation_fraction)",
        ),
        ("luminosity_fb=lots", "key 'luminosity_fb': Input should be a valid number"),
        ("generate.backgrounds.0.process=bhabha", "key 'generate.backgrounds.0.process'"),
        ("generate.signal.masses=[-1.0]", "masses must be positive"),
        ("no_equals_sign", "expected KEY=VALUE"),
        (
            "search=alp",
            "zprime_invisible_small.yaml: search alp takes the signal process alp or "
            "alp_fusion, not zprime",
        ),
        ("features.triggers=[trg_sp9]", "unknown trigger line(s) ['trg_sp9']"),
        (
            "generate.backgrounds.0.file=kkmc_mumu.hepmc3",
            "background mumu: charged_filter filters generated events, not a file or an ntuple",
        ),
        (
            "generate.backgrounds.0.lost_photon_share=0.5",
            "background mumu: lost_photon_share is an option of the built-in gg generator",
        ),
        ("generate.backgrounds.0.lost_photon_share=1.0", "lost_photon_share"),
        (
            "generate.backgrounds.0.ring_share=0.9",
            "background mumu: ring_share is an option of the built-in ee generator",
        ),
        (
            "generate.backgrounds.0.single_share=0.5",
            "background mumu: single_share is an option of the built-in ee and gg generators",
        ),
        (
            "generate.backgrounds.0.single_photon_filter={e_min: 0.5}",
            "background mumu: one truth filter per sample (charged_filter or single_photon_filter)",
        ),
        (
            "generate.backgrounds.0.soft_pair_share=0.4",
            "background mumu: soft_pair_share is an option of the built-in eemumu generator",
        ),
        (
            "generate.backgrounds.1.hard_photon_share=0.05",
            "background tautau: hard_photon_share is an option of the built-in eemumu generator",
        ),
        (
            "generate.backgrounds.1.escape_share=0.15",
            "background tautau: escape_share is an option of the built-in mumu generator",
        ),
        (
            "generate.backgrounds.0.charged_filter={count: 2, p_min: 0.5, pair_pt_min: 0.2}",
            "background mumu: charged_filter.pair_pt_min 0.2 GeV would drop events the "
            "selection keeps: it needs <= features.dimuon_pt_min (0.3) - 0.15",
        ),
        (
            "generate.backgrounds.0.charged_filter={count: 2, p_min: 0.5, extra_ecl_veto: 0.3}",
            "background mumu: charged_filter.extra_ecl_veto 0.3 GeV would drop events the "
            "selection keeps: it needs >= features.extra_ecl_max (0.4)",
        ),
        (
            "generate.backgrounds.2.single_photon_filter={e_min: 0.5}",
            "background eemumu: single_photon_filter keeps what a single-photon selection can "
            "select; the zprime_invisible selection is not one",
        ),
    ],
)
def test_bad_values_give_one_line_errors(override, message):
    with pytest.raises(ConfigError) as err:
        load_config(SMALL_PROFILE, [override])
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_key_in_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL_PROFILE.read_text() + "\nlumi: 3\n")
    with pytest.raises(
        ConfigError, match=r"bad.yaml: unknown key 'lumi' \(allowed here: .*luminosity_fb"
    ):
        load_config(bad)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: config file not found"):
        load_config(tmp_path / "nope.yaml")


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mlsearch", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_cli_config_errors_exit_2_without_traceback(tmp_path):
    res = _cli("generate", str(SMALL_PROFILE), "--set", "models.pnn.epoch=3")
    assert res.returncode == 2
    assert "unknown key 'models.pnn.epoch'" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    res = _cli("run", str(tmp_path / "missing.yaml"))
    assert res.returncode == 2
    assert "missing.yaml: config file not found" in res.stderr


def test_cli_missing_input_file_names_it(tmp_path):
    res = _cli("simulate", str(SMALL_PROFILE), "--set", f"workdir={tmp_path}")
    assert res.returncode == 2
    assert "zprime_m1.parquet: event file not found" in res.stderr
    assert "Traceback" not in res.stderr


def test_cli_help_is_fast_and_lists_stages():
    res = _cli("--help")
    assert res.returncode == 0
    for stage in (
        "run",
        "generate",
        "simulate",
        "features",
        "train",
        "evaluate",
        "export",
        "limits",
    ):
        assert stage in res.stdout
    # heavy libraries stay out of the import of the CLI
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, mlsearch.cli; print(sorted(m for m in "
            "('torch','mlflow','xgboost','lightning','pyhf') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "[]"


def test_a_pair_pt_filter_is_refused_where_the_selection_has_no_pair_cut():
    """The LFV selection cuts neither the pair's pT* nor the unmatched ECL energy (a feature
    there, for the classifier): a pair filter or an ECL veto would lose events."""
    lfv = SMALL_PROFILE.parent / "lfv_zprime_small.yaml"
    with pytest.raises(ConfigError, match="the lfv_zprime selection has no such cut"):
        pair = "generate.backgrounds.0.charged_filter={count: 2, p_min: 0.5, pair_pt_min: 0.1}"
        load_config(lfv, [pair])
    with pytest.raises(ConfigError, match="the lfv_zprime selection has no such cut"):
        veto = "generate.backgrounds.0.charged_filter={count: 2, p_min: 0.5, extra_ecl_veto: 1}"
        load_config(lfv, [veto])
