"""Where `mlsearch ui` sends the browser: the search's runs in the UI's model-training view.

MLflow 3 opens on its GenAI layout (traces, judges, prompts). Which layout it shows is not
a server setting: the page reads the query parameter ``workflowType`` of its own (hash)
route first and the browser's localStorage key ``mlflow.workflowType`` second (default
``genai``); its own "Model training" switch navigates to
``#/experiments/<id>?workflowType=machine_learning``. The same parameter on the runs route
lands a user on the training runs without a click and without touching the UI's code.
"""

from __future__ import annotations

from urllib.parse import urlencode

from mlsearch.tracking.store import import_mlflow

__all__ = ["WORKFLOW", "experiment_id", "landing_url"]

#: the value of the UI's ``workflowType`` parameter that selects the model-training layout
WORKFLOW = "machine_learning"


def experiment_id(uri: str, name: str | None) -> str | None:
    """The id of experiment ``name`` in the store ``uri``; None if it does not exist yet.
    Without a name: the store's one experiment besides MLflow's "Default", if it has one."""
    client = import_mlflow(uri).MlflowClient(uri)
    if name:
        experiment = client.get_experiment_by_name(name)
        return None if experiment is None else str(experiment.experiment_id)
    ours = [e for e in client.search_experiments(max_results=3) if e.name != "Default"]
    return str(ours[0].experiment_id) if len(ours) == 1 else None


def landing_url(base: str, exp_id: str | None) -> str:
    """The UI page to open: the runs of experiment ``exp_id`` (the experiment list while
    there is none) in the model-training layout. ``base``: ``http://host:port``.

    >>> landing_url("http://127.0.0.1:5000", "3")
    'http://127.0.0.1:5000/#/experiments/3/runs?workflowType=machine_learning'
    >>> landing_url("http://127.0.0.1:5000", None)
    'http://127.0.0.1:5000/#/experiments?workflowType=machine_learning'
    """
    route = f"/experiments/{exp_id}/runs" if exp_id else "/experiments"
    return f"{base.rstrip('/')}/#{route}?{urlencode({'workflowType': WORKFLOW})}"
