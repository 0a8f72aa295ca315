"""Overwrite the canary file outside the sandbox."""
import json

canary = json.load(open("params.json"))["canary"]
try:
    with open(canary, "w") as handle:
        handle.write("pwned")
    print("ESCAPED: overwrote canary")
except OSError as exc:
    print("BLOCKED", type(exc).__name__)
