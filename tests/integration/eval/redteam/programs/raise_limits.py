"""Raise the address-space and process limits back up, then allocate 2 GiB."""
import resource

for limit in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_CPU):
    try:
        resource.setrlimit(limit, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        print("ESCAPED: raised limit", limit)
    except (ValueError, OSError) as exc:
        print("BLOCKED", limit, type(exc).__name__)
blob = bytearray(2 << 30)
print("ESCAPED: allocated", len(blob))
