"""kill(-1, SIGKILL): every process this user may signal, then the own process group."""
import os
import signal

try:
    os.kill(-1, signal.SIGKILL)
    print("kill(-1) returned")
except OSError as exc:
    print("BLOCKED", type(exc).__name__)
os.killpg(0, signal.SIGKILL)
