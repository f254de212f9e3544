"""What is read after a run, one package per experiment (`reports.<experiment>`): the experiment's section of
summary.json and its plots (`report.py`, named by the experiment's `report:` key), and commands that compare runs
(`python -m reports.autoif.compare`). Reports may read the sim's truth (table sim_truth) to measure the stages on a
sim run; no stage imports a report."""
