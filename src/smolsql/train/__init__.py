"""The training stage: Examples -> a fine-tuned adapter (see sft.py, packing.py, config.py)."""
