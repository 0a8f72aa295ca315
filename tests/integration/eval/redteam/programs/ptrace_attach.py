"""PTRACE_ATTACH to the parent and to pid 1."""
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
for pid in {os.getppid(), 1}:
    if libc.ptrace(16, pid, None, None) == 0:
        print("ESCAPED: attached to", pid)
    else:
        print("BLOCKED", pid, os.strerror(ctypes.get_errno()))
