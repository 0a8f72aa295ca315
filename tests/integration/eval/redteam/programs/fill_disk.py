"""Fill the sandbox's disk with 1 MB files until it refuses."""

chunk = b"\0" * (1 << 20)
written = 0
try:
    for n in range(100_000):
        with open(f"fill{n}", "wb") as handle:
            handle.write(chunk)
        written += 1
    print("ESCAPED: wrote", written, "MB")
except OSError as exc:
    print("BLOCKED after", written, "MB", type(exc).__name__)
    raise
