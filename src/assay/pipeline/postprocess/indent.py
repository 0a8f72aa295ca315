"""Indentation-based truncation, for languages without a grammar.

The block's indentation is that of the line that opened it (the cursor's line, or the last non-blank
line before an empty cursor line). The completion ends before the first later line indented no
deeper than that; a closing line at exactly that indentation (``}``, ``)``, ``]``, ``end``, ``fi``,
``done``, ``esac``) is kept as the block's end.
"""

from __future__ import annotations

import re

from assay.pipeline.postprocess.mode import indent_width

_CLOSER = re.compile(r"^\s*(?:[)\]}]|end\b|fi\b|done\b|esac\b)")


def indent_end(completion: str, prefix: str) -> int | None:
    """Character offset in ``completion`` where the block ends, or None when it does not end in it."""
    before = prefix[prefix.rfind("\n") + 1:]
    if before.strip():
        base = indent_width(before)
    else:
        earlier = prefix[:len(prefix) - len(before)].rstrip("\n").split("\n")
        opener = next((line for line in reversed(earlier) if line.strip()), "")
        base = indent_width(opener)
    lines = completion.split("\n")
    offset = len(lines[0]) + 1
    seen_body = bool(lines[0].strip()) and not before.strip()
    for line in lines[1:]:
        if line.strip():
            width = indent_width(line)
            if width <= base:
                if seen_body and width == base and _CLOSER.match(line):
                    return offset + len(line)
                return offset - 1
            seen_body = True
        offset += len(line) + 1
    return None
