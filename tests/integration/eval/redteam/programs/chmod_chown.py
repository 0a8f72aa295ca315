"""chmod/chown the interpreter, the sandbox's own files and the canary."""
import json
import os
import sys

canary = json.load(open("params.json"))["canary"]
for name, call in [
    ("chmod interpreter", lambda: os.chmod(sys.executable, 0o777)),
    ("chown main.py", lambda: os.chown("main.py", 0, 0)),
    ("chmod canary", lambda: os.chmod(canary, 0o777)),
    ("chown canary", lambda: os.chown(canary, os.getuid(), os.getgid())),
]:
    try:
        call()
        print("ESCAPED:", name)
    except OSError as exc:
        print("BLOCKED", name, type(exc).__name__)
