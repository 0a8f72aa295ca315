"""Connect to an external address (1.1.1.1:80)."""
import socket

try:
    socket.create_connection(("1.1.1.1", 80), timeout=1).close()
    print("ESCAPED: connected to 1.1.1.1")
except OSError as exc:
    print("BLOCKED", type(exc).__name__)
