"""Removing what one orchestrator instance left on the engine: its containers, then its networks.

For the test run and the benchmarks, which label everything they start with their own instance
name and must leave the shared engine as they found it: networks especially, since the engine's
address pools hold only a few dozen bridge networks for everyone.
"""

from __future__ import annotations

from containers import engine


def remove_all(labels: dict[str, str] | None = None) -> None:
    """Remove every container and then every network carrying ``labels`` (default: this instance's).

    A network that still has an endpoint a moment after its container went is left for a later
    call; the engine not answering is raised (``EngineUnavailable``), for the caller to decide.
    """
    labels = labels if labels is not None else engine.instance_labels()
    for info in engine.list_containers(labels):
        engine.remove_container(info.id)
    for name in engine.list_networks(labels):
        try:
            engine.remove_network(name)
        except engine.EngineUnavailable:
            raise
        except engine.EngineError:
            pass  # an endpoint lingers a moment: a later clean-up takes it
