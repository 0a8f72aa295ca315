"""Connect to a port the test process listens on at the host's 127.0.0.1."""
import json
import socket

port = json.load(open("params.json"))["port"]
try:
    socket.create_connection(("127.0.0.1", port), timeout=1).close()
    print("ESCAPED: connected to host port", port)
except OSError as exc:
    print("BLOCKED", type(exc).__name__)
