"""A single 100 MB line with no newline, written in one call."""
import sys

sys.stdout.write("y" * 100_000_000)
