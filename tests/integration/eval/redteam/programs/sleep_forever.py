"""Sleep far past the wall clock (uses no CPU, so only the wall-clock limit can end it)."""
import time

time.sleep(3600)
