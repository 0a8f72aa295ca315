"""Replace itself (os.execv) with a shell that sleeps forever in a new session."""
import os

os.execv("/bin/sh", ["sh", "-c", "setsid sleep 3600 & exec sleep 3600"])
