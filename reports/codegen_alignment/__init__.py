"""What is read after a codegen_alignment run: its summary section and plots (report.py)."""
