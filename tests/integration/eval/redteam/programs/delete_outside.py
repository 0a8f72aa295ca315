"""Delete the canary and its directory, outside the sandbox."""
import json
import os
import shutil

canary = json.load(open("params.json"))["canary"]
for attempt in (lambda: os.remove(canary), lambda: shutil.rmtree(os.path.dirname(canary))):
    try:
        attempt()
        print("ESCAPED: deleted outside")
    except OSError as exc:
        print("BLOCKED", type(exc).__name__)
