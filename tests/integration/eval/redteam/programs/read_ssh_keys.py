"""Read an SSH private key: the fake one the test planted under its HOME, then root's and the home dirs."""
import glob
import json
import os

key = json.load(open("params.json"))["ssh_key"]
for path in [key, os.path.expanduser("~/.ssh/id_rsa"), *glob.glob("/root/.ssh/*"), *glob.glob("/home/*/.ssh/*")]:
    try:
        print("ESCAPED:", path, open(path).read())
    except OSError as exc:
        print("BLOCKED", path, type(exc).__name__)
