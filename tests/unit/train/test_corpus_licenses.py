"""License detection: SPDX headers, Debian machine-readable copyright files, repository license files."""

from __future__ import annotations

from pathlib import Path

from assay.train.corpus.licenses import (
    RepositoryLicenses,
    debian_license_for,
    is_permissive,
    license_from_text,
    normalize_expression,
    parse_debian_copyright,
    spdx_header,
)

MIT_TEXT = """MIT License

Copyright (c) 2024 Someone

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction...
"""

GPL3_TEXT = """                    GNU GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007
 Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>
"""

LGPL3_TEXT = """                   GNU LESSER GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007
  This version of the GNU Lesser General Public License incorporates
the terms and conditions of version 3 of the GNU General Public License
"""

APACHE_TEXT = """                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/
"""

BSD3_TEXT = """Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:
3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
"""

DEBIAN_COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: golang-example
Source: https://github.com/example/example

Files: *
Copyright: 2020 Example Authors
License: BSD-3-clause

Files: internal/gpl/*
Copyright: 2019 Someone Else
License: GPL-2+
 This program is free software; you can redistribute it
 .
 On Debian systems, the full text is in /usr/share/common-licenses/GPL-2.

Files: debian/*
Copyright: 2021 Debian Go Team
License: Expat

License: BSD-3-clause
 Redistribution and use in source and binary forms...
"""


def test_spdx_header_in_comment_styles() -> None:
    assert spdx_header("// SPDX-License-Identifier: MIT\npackage main\n") == "MIT"
    assert spdx_header("/* SPDX-License-Identifier: mit OR apache-2.0 */\n") == "MIT OR Apache-2.0"
    assert spdx_header("<!-- SPDX-License-Identifier: GPL-2.0-only -->") == "GPL-2.0-only"
    assert spdx_header("x = 1\n" * 40 + "# SPDX-License-Identifier: MIT\n") is None
    assert spdx_header("# docs mention ``SPDX-License-Identifier:`` lines\n") is None


def test_license_texts_are_recognised() -> None:
    assert license_from_text(MIT_TEXT) == "MIT"
    assert license_from_text(GPL3_TEXT) == "GPL-3.0"
    assert license_from_text(LGPL3_TEXT) == "LGPL-3.0"
    assert license_from_text(APACHE_TEXT) == "Apache-2.0"
    assert license_from_text(BSD3_TEXT) == "BSD-3-Clause"
    assert license_from_text("All rights reserved.") == "unknown"


def test_permissive_policy_handles_expressions() -> None:
    assert is_permissive("MIT")
    assert is_permissive("MIT OR GPL-3.0")
    assert is_permissive("(MIT AND BSD-3-Clause)")
    assert not is_permissive("MIT AND GPL-3.0")
    assert not is_permissive("GPL-2.0-or-later")
    assert not is_permissive("unknown")
    assert normalize_expression("Expat") == "MIT"


def test_debian_copyright_last_matching_paragraph_wins() -> None:
    paragraphs = parse_debian_copyright(DEBIAN_COPYRIGHT)
    assert [p.license for p in paragraphs] == ["BSD-3-Clause", "GPL-2.0-or-later", "MIT"]
    assert debian_license_for(paragraphs, "main.go") == "BSD-3-Clause"
    assert debian_license_for(paragraphs, "internal/gpl/x.go") == "GPL-2.0-or-later"
    assert debian_license_for(paragraphs, "debian/rules") == "MIT"


def test_repository_lookup_order(tmp_path: Path) -> None:
    (tmp_path / "LICENSE").write_text(MIT_TEXT)
    (tmp_path / "debian").mkdir()
    (tmp_path / "debian" / "copyright").write_text(DEBIAN_COPYRIGHT)
    repo = RepositoryLicenses(tmp_path)
    assert repo.repository_license == "MIT"
    assert repo.license_for("internal/gpl/a.go", "package gpl\n") == "GPL-2.0-or-later"
    assert repo.license_for("internal/gpl/b.go", "// SPDX-License-Identifier: Apache-2.0\n") == "Apache-2.0"
    assert repo.license_for("x.go", "package x\n") == "BSD-3-Clause"
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "COPYING.txt").write_text(GPL3_TEXT)
    assert RepositoryLicenses(plain).license_for("a.py", "x = 1\n") == "GPL-3.0"
