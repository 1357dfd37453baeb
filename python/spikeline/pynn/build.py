"""The network PyNN described, as a spikeline config, and the engine built
from it."""

from __future__ import annotations


def config(state) -> tuple[dict, dict]:
    """The config dict and the explicit edges of the network in ``state``."""
    edges: dict = {}
    cfg = {
        "simulation": {"dt": float(state.dt), "duration": float(state.dt),
                       "seed": int(state.rng_seed), "threads": int(state.threads)},
        "population": [p.config() for p in state.populations],
    }
    projections = []
    for prj in state.projections:
        projections.extend(prj.projection_configs(edges))
    if projections:
        cfg["projection"] = projections
    stimuli = [s for source in state.current_sources for s in source.stimuli()]
    if stimuli:
        cfg["stimulus"] = stimuli
    records = [r for rec in state.recorders for r in rec.records()]
    if records:
        cfg["record"] = sorted(records, key=lambda r: r["name"])
    return cfg, edges


def build(state):
    from ..simulation import Simulation

    if not state.populations:
        raise RuntimeError("the network has no Population: create one before run()")
    cfg, edges = config(state)
    sim = Simulation.from_dict(cfg, edges=edges)
    for prj in state.projections:
        prj.apply_after_build(sim)
    return sim
