"""Kill the parent (and, by pid, the test process itself)."""
import json
import os
import signal

test_pid = json.load(open("params.json"))["test_pid"]
for pid in (os.getppid(), test_pid):
    try:
        os.kill(pid, signal.SIGKILL)
        print("sent SIGKILL to", pid)
    except OSError as exc:
        print("BLOCKED", pid, type(exc).__name__)
