"""LHE and HepMC3 readers: frames, units, weights, vertices, errors; `mlsearch import`; a
config background read from a file."""

from pathlib import Path

import numpy as np
import pytest

from mlsearch.errors import InputError
from mlsearch.io.events import read_events
from mlsearch.io.generator_files import read_generator_file
from mlsearch.physics.beams import Beams, cms_to_lab
from mlsearch.physics.kinematics import beam_four_momenta, invariant_mass2

from .conftest import run_cli

EM, EP = beam_four_momenta()
E = 10.58 / 2
MUONS = [  # (E, px, py, pz) of mu- and mu+ in the CM frame, two events
    [[E, 1.0, 2.0, 4.7], [E, -1.0, -2.0, -4.7]],
    [[E, 0.0, 3.0, -4.2], [E, 0.0, -3.0, 4.2]],
]


def _write_lhe(
    path: Path, beams=(11, -11, E, E), weights=(1.0, 3.0), sigma=50.0, cut=False, events=None
):
    lines = [
        '<LesHouchesEvents version="3.0">',
        "<header>made by hand</header>",
        "<init>",
        f"{beams[0]} {beams[1]} {beams[2]} {beams[3]} 0 0 0 0 3 1",
        f"{sigma} 0.5 1.0 1",
        "</init>",
    ]
    for ev, w in zip(MUONS if events is None else events, weights, strict=True):
        lines += ["<event>", f"4 1 {w} 10.58 0.0078 0.118"]
        lines.append(f"11 -1 0 0 0 0 0 0 {beams[2]} {beams[2]} 0 0 9")
        lines.append(f"-11 -1 0 0 0 0 0 0 {-beams[3]} {beams[3]} 0 0 9")
        for pdg, p in zip((13, -13), ev, strict=True):
            lines.append(f"{pdg} 1 1 2 0 0 {p[1]} {p[2]} {p[3]} {p[0]} 0.10566 0 9")
        lines.append("</event>")
    if not cut:
        lines.append("</LesHouchesEvents>")
    else:
        lines = lines[:-3]  # truncated inside an event
    path.write_text("\n".join(lines) + "\n")


def _expected_lab(cms_events):
    p = np.array(cms_events, dtype=float)
    n = len(p)
    return cms_to_lab(p, Beams(np.tile(EM, (n, 1)), np.tile(EP, (n, 1))))


def test_lhe_in_the_cm_frame_lands_in_the_belle2_lab_with_weights(tmp_path):
    path = tmp_path / "mumu.lhe"
    _write_lhe(path)
    sample = read_generator_file(path)
    np.testing.assert_allclose(sample.p4, _expected_lab(MUONS), atol=1e-9)
    assert sample.cross_section_fb == pytest.approx(50e3)
    np.testing.assert_allclose(sample.weight, [12.5e3, 37.5e3])  # sigma * w / sum(w)
    assert (sample.pdg == [13, -13]).all()


def test_lhe_head_on_asymmetric_lab_is_boosted_to_the_crossing_angle_frame(tmp_path):
    from mlsearch.physics.kinematics import boost

    path = tmp_path / "asym.lhe"
    # the same events as seen in a head-on 7.004 / 4.002 GeV frame
    beta = (7.004 - 4.002) / (7.004 + 4.002)
    head_on = boost(np.array(MUONS, dtype=float), np.array([0, 0, -beta]))
    _write_lhe(path, beams=(11, -11, 7.004, 4.002), events=head_on.tolist())
    sample = read_generator_file(path)
    np.testing.assert_allclose(sample.p4, _expected_lab(MUONS), atol=1e-6)


def test_hepmc3_units_vertices_and_cross_section(tmp_path):
    import pyhepmc

    path = tmp_path / "ev.hepmc3"
    with pyhepmc.open(path, "w") as out:
        for i, ev in enumerate(MUONS):
            event = pyhepmc.GenEvent(pyhepmc.Units.MEV, pyhepmc.Units.MM)
            event.event_number = i
            b1 = pyhepmc.GenParticle((0, 0, E * 1e3, E * 1e3), 11, 4)
            b2 = pyhepmc.GenParticle((0, 0, -E * 1e3, E * 1e3), -11, 4)
            v = pyhepmc.GenVertex((1.0, 2.0, 30.0, 0.0))  # mm
            v.add_particle_in(b1)
            v.add_particle_in(b2)
            for pdg, p in zip((13, -13), ev, strict=True):
                v.add_particle_out(
                    pyhepmc.GenParticle((p[1] * 1e3, p[2] * 1e3, p[3] * 1e3, p[0] * 1e3), pdg, 1)
                )
            event.add_vertex(v)
            event.weights = [2.0]
            xs = pyhepmc.GenCrossSection()
            xs.set_cross_section(1234.0, 5.0)
            event.cross_section = xs
            out.write(event)
    sample = read_generator_file(path)
    np.testing.assert_allclose(sample.p4, _expected_lab(MUONS), atol=1e-6)  # MeV -> GeV
    assert sample.cross_section_fb == pytest.approx(1234e3)
    np.testing.assert_allclose(sample.vertex[0, 0], [0.1, 0.2, 3.0])  # mm -> cm


def test_bad_generator_files_are_named_errors(tmp_path):
    cut = tmp_path / "cut.lhe"
    _write_lhe(cut, cut=True)
    with pytest.raises(
        InputError, match=r"cut.lhe: <event> block opened at line \d+ is never closed"
    ):
        read_generator_file(cut)
    junk = tmp_path / "junk.lhe"
    junk.write_text("hello\n")
    with pytest.raises(InputError, match=r"junk\.lhe: no <init> block"):
        read_generator_file(junk)
    with pytest.raises(InputError, match="unknown generator file type"):
        read_generator_file(tmp_path / "x.txt")
    bad = tmp_path / "bad.hepmc3"
    bad.write_text("HepMC::Version 3.02.06\nHepMC::Asciiv3-START_EVENT_LISTING\nE 0 x y\n")
    with pytest.raises(InputError, match=r"bad\.hepmc3"):
        read_generator_file(bad)


def test_import_cli_writes_a_truth_file(tmp_path):
    src = tmp_path / "mumu.lhe"
    _write_lhe(src)
    out = tmp_path / "mumu.parquet"
    res = run_cli("import", str(src), "-o", str(out))
    assert res.returncode == 0, res.stderr
    events, meta = read_events(out)
    assert len(events) == 2 and meta["cross_section_fb"] == pytest.approx(50e3)
    mass = np.sqrt(invariant_mass2(_expected_lab(MUONS)[:, 0]))
    assert float(events.particles.E[0][0]) == pytest.approx(float(_expected_lab(MUONS)[0, 0, 0]))
    assert mass[0] > 0
    res = run_cli("import", str(tmp_path / "missing.lhe"), "-o", str(out))
    assert res.returncode == 2 and "missing.lhe: LHE file not found" in res.stderr
    assert "Traceback" not in res.stderr


def test_config_background_from_a_generator_file(tmp_path):
    import yaml

    from mlsearch.config import load_config
    from mlsearch.errors import ConfigError
    from mlsearch.pipeline.generate import run_generate

    src = tmp_path / "kkmc_mumu.lhe"
    _write_lhe(src)
    raw = {
        "search": "zprime_invisible",
        "luminosity_fb": 1.0,
        "workdir": str(tmp_path / "work"),
        "mlflow": {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}"},
        "generate": {
            "signal": {"masses": [2.0], "n_events": 200, "coupling": 0.01},
            "backgrounds": [{"process": "mumu", "file": str(src)}],
        },
    }
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(yaml.safe_dump(raw))
    config = load_config(cfg_path)
    run_generate(config)
    events, meta = read_events(
        tmp_path / "work" / "data" / "zprime_invisible" / "events" / "mumu.parquet"
    )
    assert len(events) == 2 and meta["cross_section_fb"] == pytest.approx(50e3)
    assert meta["source_format"] == "lhe"
    raw["generate"]["backgrounds"] = [{"process": "mumu"}]
    cfg_path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="background mumu: give n_events > 0, a file or an"):
        load_config(cfg_path)
