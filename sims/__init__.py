"""Test equipment: one simulated teacher per experiment (`sims.<experiment>.teacher`), answering that experiment's
prompts offline for the `sim` backend (engine.llm.sim_backend). A stage never imports a sim: what a sim knows or
wrote as the truth of a reply (table `sim_truth`) is for tests and reports only."""
