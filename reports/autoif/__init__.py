"""What is read after an AutoIF run: its summary section and plots (report.py), and the comparison of a sweep's runs
(compare.py: `python -m reports.autoif.compare`)."""
