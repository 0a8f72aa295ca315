"""Create a new file next to the test's canary, outside the sandbox."""
import json
import os

canary = json.load(open("params.json"))["canary"]
try:
    with open(os.path.join(os.path.dirname(canary), "planted.txt"), "w") as handle:
        handle.write("planted")
    print("ESCAPED: wrote outside")
except OSError as exc:
    print("BLOCKED", type(exc).__name__)
