"""Symlink out of the sandbox directory to the canary, the SSH key and /etc/shadow, then follow them."""
import json
import os

params = json.load(open("params.json"))
for n, target in enumerate([params["canary"], params["ssh_key"], "/etc/shadow", "/proc/1/root/root"]):
    os.symlink(target, f"link{n}")
    try:
        with open(f"link{n}") as handle:
            print("ESCAPED:", target, handle.read())
    except OSError as exc:
        print("BLOCKED", target, type(exc).__name__)
