"""Daemonize (setsid + double fork) to outlive the sandbox, then exit at once."""
import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(60)
        print("ESCAPED: daemon survived")
    os._exit(0)
print("parent done")
