"""Call libc directly: setuid(0), setgid(0), unshare(CLONE_NEWNET), mount a tmpfs."""
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
for name, call in [
    ("setuid", lambda: libc.setuid(0)),
    ("setgid", lambda: libc.setgid(0)),
    ("unshare", lambda: libc.unshare(0x40000000)),
    ("mount", lambda: libc.mount(b"none", b"/usr", b"tmpfs", 0, None)),
]:
    if call() == 0:
        print("ESCAPED:", name, "succeeded")
    else:
        print("BLOCKED", name, os.strerror(ctypes.get_errno()))
if os.getuid() == 0 and os.path.exists("/root/.ssh"):
    print("ESCAPED: root with /root/.ssh visible")
