"""AutoIF: self-play with execution feedback (Qwen, 2024) as a declared stage graph (conf/experiment/autoif.yaml)."""
