"""Both classifiers through one interface, and their ONNX export."""

import numpy as np
import onnx
import pytest
from sklearn.metrics import roc_auc_score

from mlsearch.config import PBDTConfig, PNNConfig
from mlsearch.export.graph import average_models, read_metadata, set_metadata
from mlsearch.export.parity import max_abs_difference, onnx_session, parity_masses
from mlsearch.models import make_model
from mlsearch.scoring import stack_inputs

GRID = [1.0, 2.0, 3.0, 4.0]


def _toy(n, rng, masses=GRID):
    """Signal: feature 0 peaks at the mass; background: flat. Features 1-2 are noise."""
    m_sig = rng.choice(masses, n)
    sig = np.column_stack([rng.normal(m_sig, 0.2), rng.normal(size=(n, 2))])
    bkg = np.column_stack([rng.uniform(0, 5, n), rng.normal(size=(n, 2))])
    x = np.vstack([sig, bkg])
    mass = np.concatenate([m_sig, rng.choice(masses, n)])
    y = np.concatenate([np.ones(n), np.zeros(n)]).astype(int)
    return x, mass, y


MODELS = {
    "pbdt": PBDTConfig(n_estimators=40, max_depth=4, n_jobs=1),
    "pnn": PNNConfig(hidden=[32, 32], epochs=15, batch_size=512, learning_rate=5e-3),
    "pnn-film": PNNConfig(
        hidden=[32, 32], epochs=15, batch_size=512, learning_rate=5e-3, conditioning="film"
    ),
}


@pytest.fixture(scope="module", params=list(MODELS))
def trained(request):
    rng = np.random.default_rng(0)
    x, mass, y = _toy(6000, rng)
    model = make_model(request.param.split("-")[0], MODELS[request.param], seed=1)
    model.fit(x, mass, y, np.ones(len(y)))
    return model


def test_parametrised_model_separates_and_interpolates(trained):
    rng = np.random.default_rng(5)
    # 2.5 GeV was never a training mass: the network must still find the peak there
    for m in (2.0, 2.5):
        sig = np.column_stack([rng.normal(m, 0.2, 3000), rng.normal(size=(3000, 2))])
        bkg = np.column_stack([rng.uniform(0, 5, 3000), rng.normal(size=(3000, 2))])
        s = trained.score(np.vstack([sig, bkg]), np.full(6000, m))
        auc = roc_auc_score(np.r_[np.ones(3000), np.zeros(3000)], s)
        # off-grid, trees are step functions of the mass (they pick a neighbour's selection);
        # the network interpolates smoothly
        floor = 0.9 if m == 2.0 else {"pbdt": 0.7, "pnn": 0.85}[trained.kind]
        assert auc > floor, (trained.kind, m, auc)
    # and the score depends on the hypothesis: an event at 2 GeV is not signal-like at 4 GeV
    event = np.array([[2.0, 0.0, 0.0]])
    assert trained.score(event, np.array([2.0]))[0] > trained.score(event, np.array([4.0]))[0]


def test_save_load_round_trip(trained, tmp_path):
    path = tmp_path / ("m.json" if trained.kind == "pbdt" else "m.pt")
    trained.save(path)
    kind_cfg = MODELS[trained.kind]
    other = make_model(trained.kind, kind_cfg, seed=9)
    other.load(path)
    x, mass, _ = _toy(200, np.random.default_rng(2))
    np.testing.assert_array_equal(trained.score(x, mass), other.score(x, mass))


def test_onnx_contract_and_parity_including_off_grid_masses(trained):
    proto = trained.to_onnx(3)
    onnx.checker.check_model(proto)
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [o.name for o in proto.graph.output] == ["score"]
    session = onnx_session(proto)
    x, _, _ = _toy(500, np.random.default_rng(3))
    masses = parity_masses(GRID)
    assert {1.5, 2.5, 3.5} <= set(masses) and min(masses) == 1.0 and max(masses) == 4.0
    diffs = max_abs_difference(trained.score, session, x, masses)
    assert max(diffs.values()) < 1e-5
    out = session.run(["score"], {"input": stack_inputs(x, np.full(len(x), 2.5))})[0]
    assert out.shape == (len(x), 1) and out.dtype == np.float32


def test_fold_average_graph_is_the_mean_of_the_folds():
    rng = np.random.default_rng(4)
    x, mass, y = _toy(2000, rng)
    folds = []
    for seed in (1, 2):
        m = make_model("pbdt", PBDTConfig(n_estimators=10, max_depth=3, n_jobs=1), seed)
        m.fit(x[seed - 1 :: 2], mass[seed - 1 :: 2], y[seed - 1 :: 2], np.ones(len(y[::2])))
        folds.append(m)
    merged = average_models([f.to_onnx(3) for f in folds])
    set_metadata(merged, {"mlsearch.features": ["a", "b", "c"], "mlsearch.fold": "average"})
    assert read_metadata(merged)["mlsearch.features"] == '["a", "b", "c"]'
    got = onnx_session(merged).run(["score"], {"input": stack_inputs(x, mass)})[0].reshape(-1)
    want = np.mean([f.score(x, mass) for f in folds], axis=0)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_pbdt_early_stopping_keeps_only_the_useful_trees():
    rng = np.random.default_rng(7)
    x, mass, y = _toy(4000, rng)
    stopped = make_model("pbdt", PBDTConfig(n_estimators=400, max_depth=3, n_jobs=1), 1)
    stopped.fit(x, mass, y, np.ones(len(y)))
    full = make_model(
        "pbdt", PBDTConfig(n_estimators=400, max_depth=3, n_jobs=1, early_stopping_rounds=None), 1
    )
    full.fit(x, mass, y, np.ones(len(y)))
    assert full.n_trees == 400
    assert stopped.n_trees < 400
    assert stopped.history["n_trees"] == [float(stopped.n_trees)]
    # the ONNX export holds exactly the kept trees
    proto = stopped.to_onnx(3)
    node = next(n for n in proto.graph.node if n.op_type.startswith("TreeEnsemble"))
    tree_ids = next(a for a in node.attribute if a.name == "nodes_treeids").ints
    assert len(set(tree_ids)) == stopped.n_trees
    xt, mt, yt = _toy(3000, np.random.default_rng(8))
    auc_stopped = roc_auc_score(yt, stopped.score(xt, mt))
    auc_full = roc_auc_score(yt, full.score(xt, mt))
    assert auc_stopped > auc_full - 0.01
