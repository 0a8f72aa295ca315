"""Stop itself: a stopped process uses no CPU and never exits."""
import os
import signal

os.kill(os.getpid(), signal.SIGSTOP)
print("ESCAPED: resumed")
