"""What is read after a prompt_opt run: its summary section and plots (report.py)."""
