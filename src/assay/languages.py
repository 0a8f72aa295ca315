"""The languages assay knows: file extensions, editor language ids, tree-sitter grammar, comment syntax.

Detection follows GitLab's gateway: the file extension decides first, the editor's language id
second (VS Code / LSP ids). Used by the completion pipeline and by corpus building.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Language:
    id: str
    """Canonical id, e.g. ``python``, ``cpp``, ``typescript``."""
    name: str
    extensions: tuple[str, ...]
    editor_ids: tuple[str, ...] = ()
    tree_sitter: str | None = None
    """Grammar name in tree-sitter-language-pack, None when post-processing should skip tree-sitter."""
    line_comment: str | None = None
    block_comment: tuple[str, str] | None = None
    filenames: tuple[str, ...] = ()
    """Whole file names that identify the language (``Makefile``, ``Dockerfile``)."""


_C_BLOCK = ("/*", "*/")

LANGUAGES: tuple[Language, ...] = (
    Language("python", "Python", (".py", ".pyi", ".pyw"), ("python",), "python", "#", ('"""', '"""')),
    Language("javascript", "JavaScript", (".js", ".mjs", ".cjs", ".jsx"), ("javascript", "javascriptreact"),
             "javascript", "//", _C_BLOCK),
    Language("typescript", "TypeScript", (".ts", ".mts", ".cts"), ("typescript",), "typescript", "//", _C_BLOCK),
    Language("tsx", "TSX", (".tsx",), ("typescriptreact",), "tsx", "//", _C_BLOCK),
    Language("go", "Go", (".go",), ("go",), "go", "//", _C_BLOCK),
    Language("java", "Java", (".java",), ("java",), "java", "//", _C_BLOCK),
    Language("rust", "Rust", (".rs",), ("rust",), "rust", "//", _C_BLOCK),
    Language("c", "C", (".c", ".h"), ("c",), "c", "//", _C_BLOCK),
    Language("cpp", "C++", (".cpp", ".cc", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".ipp"), ("cpp", "c++"),
             "cpp", "//", _C_BLOCK),
    Language("csharp", "C#", (".cs",), ("csharp", "c#"), "csharp", "//", _C_BLOCK),
    Language("ruby", "Ruby", (".rb", ".rake", ".gemspec"), ("ruby",), "ruby", "#", ("=begin", "=end"),
             ("Rakefile", "Gemfile")),
    Language("php", "PHP", (".php", ".phtml"), ("php",), "php", "//", _C_BLOCK),
    Language("kotlin", "Kotlin", (".kt", ".kts"), ("kotlin",), "kotlin", "//", _C_BLOCK),
    Language("scala", "Scala", (".scala", ".sc"), ("scala",), "scala", "//", _C_BLOCK),
    Language("swift", "Swift", (".swift",), ("swift",), "swift", "//", _C_BLOCK),
    Language("lua", "Lua", (".lua",), ("lua",), "lua", "--", ("--[[", "]]")),
    Language("shell", "Shell", (".sh", ".bash", ".zsh"), ("shellscript", "bash", "sh", "zsh"), "bash", "#"),
    Language("sql", "SQL", (".sql",), ("sql",), "sql", "--", _C_BLOCK),
    Language("html", "HTML", (".html", ".htm"), ("html",), "html", None, ("<!--", "-->")),
    Language("css", "CSS", (".css",), ("css",), "css", None, _C_BLOCK),
    Language("scss", "SCSS", (".scss",), ("scss",), "scss", "//", _C_BLOCK),
    Language("yaml", "YAML", (".yaml", ".yml"), ("yaml",), "yaml", "#"),
    Language("json", "JSON", (".json",), ("json", "jsonc"), "json"),
    Language("toml", "TOML", (".toml",), ("toml",), "toml", "#"),
    Language("markdown", "Markdown", (".md", ".markdown"), ("markdown",), "markdown", None, ("<!--", "-->")),
    Language("haskell", "Haskell", (".hs",), ("haskell",), "haskell", "--", ("{-", "-}")),
    Language("elixir", "Elixir", (".ex", ".exs"), ("elixir",), "elixir", "#"),
    Language("erlang", "Erlang", (".erl", ".hrl"), ("erlang",), "erlang", "%"),
    Language("ocaml", "OCaml", (".ml", ".mli"), ("ocaml",), "ocaml", None, ("(*", "*)")),
    Language("r", "R", (".r", ".R"), ("r",), "r", "#"),
    Language("julia", "Julia", (".jl",), ("julia",), "julia", "#", ("#=", "=#")),
    Language("dart", "Dart", (".dart",), ("dart",), "dart", "//", _C_BLOCK),
    Language("perl", "Perl", (".pl", ".pm"), ("perl",), "perl", "#"),
    Language("terraform", "Terraform", (".tf", ".hcl"), ("terraform", "hcl"), "hcl", "#", _C_BLOCK),
    Language("dockerfile", "Dockerfile", (".dockerfile",), ("dockerfile",), "dockerfile", "#", None,
             ("Dockerfile", "Containerfile")),
    Language("make", "Makefile", (".mk",), ("makefile",), "make", "#", None, ("Makefile", "GNUmakefile")),
    Language("vue", "Vue", (".vue",), ("vue",), "vue", "//", ("<!--", "-->")),
    Language("zig", "Zig", (".zig",), ("zig",), "zig", "//"),
)

_BY_ID = {lang.id: lang for lang in LANGUAGES}
_BY_EXT: dict[str, Language] = {}
_BY_EDITOR: dict[str, Language] = {}
_BY_FILENAME: dict[str, Language] = {}
for _lang in LANGUAGES:
    for _ext in _lang.extensions:
        _BY_EXT.setdefault(_ext.lower(), _lang)
    for _eid in _lang.editor_ids:
        _BY_EDITOR.setdefault(_eid.lower(), _lang)
    for _fn in _lang.filenames:
        _BY_FILENAME.setdefault(_fn, _lang)


def get_language(lang_id: str) -> Language | None:
    return _BY_ID.get(lang_id)


def detect_language(file_name: str | None, language_id: str | None = None) -> Language | None:
    """File extension (or well-known file name) first, then the editor's language id; None when unknown."""
    if file_name:
        path = PurePosixPath(file_name.strip().replace("\\", "/"))
        if lang := _BY_FILENAME.get(path.name):
            return lang
        if path.suffix and (lang := _BY_EXT.get(path.suffix.lower())):
            return lang
    if language_id:
        return _BY_EDITOR.get(language_id.strip().lower()) or _BY_ID.get(language_id.strip().lower())
    return None
