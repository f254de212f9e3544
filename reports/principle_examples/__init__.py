"""What is read after a principle_examples run: its summary section and plots (report.py)."""
