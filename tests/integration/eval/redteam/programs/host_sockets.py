"""Reach host daemons through well-known unix sockets."""
import socket

for path in ("/run/docker.sock", "/var/run/docker.sock", "/run/dbus/system_bus_socket", "/tmp/.X11-unix/X0"):
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(path)
        print("ESCAPED: connected to", path)
    except OSError as exc:
        print("BLOCKED", path, type(exc).__name__)
