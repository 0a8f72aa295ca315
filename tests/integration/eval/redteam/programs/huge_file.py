"""Write one 1 GB file."""
with open("huge.bin", "wb") as handle:
    for _ in range(1024):
        handle.write(b"\0" * (1 << 20))
print("ESCAPED: wrote 1 GB")
