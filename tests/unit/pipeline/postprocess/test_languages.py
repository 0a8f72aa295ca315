"""Table-driven post-processing cases with real code for the ten languages with grammars.

Each case gives the file around the cursor, the raw model output and the suggestion expected after
every step; ``steps`` names the steps that must have removed something. The outputs are scripted
(not from a model) because each case needs an exact model output.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from assay.languages import detect_language
from assay.pipeline.postprocess import context_for, postprocess


@dataclass(frozen=True)
class Case:
    file: str
    prefix: str
    suffix: str
    raw: str
    expected: str
    steps: tuple[str, ...]


CASES = {
    # Python
    "python-block": Case(
        "m.py", "import math\n\ndef area(r):", "\n\nprint(area(2))\n",
        "\n    return math.pi * r * r\n\ndef perimeter(r):\n    return 2 * math.pi * r\n",
        "\n    return math.pi * r * r", ("truncate_syntax",)),
    "python-if-in-function": Case(
        "m.py", "def sign(x):\n    if x < 0:", "\n    return 1\n",
        "\n        return -1\n    return 0\n", "\n        return -1", ("truncate_syntax",)),
    "python-repeats-next-line": Case(
        "m.py", "def main(args):", "\n    run(args)\n",
        "\n    config = load(args)\n    run(args)\n", "\n    config = load(args)", ("suffix_overlap",)),
    "python-comment-only": Case(
        "m.py", "def f(x):", "\n    return x\n", "\n    # TODO: validate x\n", "",
        ("trim_whitespace", "drop_comment_only")),
    "python-single-line-closing": Case(
        "m.py", "values = [1, 2, 3]\nprint(sum(", "))\n",
        "values))\nprint('done')\n", "values", ("single_line", "suffix_overlap")),
    # JavaScript
    "javascript-function": Case(
        "a.js", "function add(a, b) {", "\n\nconsole.log(add(1, 2));\n",
        "\n  return a + b;\n}\n\nfunction sub(a, b) {\n  return a - b;\n}\n",
        "\n  return a + b;\n}", ("truncate_syntax",)),
    "javascript-closing-brace-in-suffix": Case(
        "a.js", "function add(a, b) {\n  ", "\n}\n",
        "return a + b;\n}\n", "return a + b;", ("truncate_syntax", "suffix_overlap")),
    # TypeScript
    "typescript-interface": Case(
        "t.ts", "interface User {", "\n\nconst u: User = { name: 'a', age: 1 };\n",
        "\n  name: string;\n  age: number;\n}\n\ninterface Admin extends User {\n  level: number;\n}\n",
        "\n  name: string;\n  age: number;\n}", ("truncate_syntax",)),
    "typescript-single-line": Case(
        "t.ts", "const total: number = items.reduce(", ");\n",
        "(acc, x) => acc + x, 0);\nconsole.log(total);\n", "(acc, x) => acc + x, 0",
        ("single_line", "suffix_overlap")),
    "typescript-empty-block": Case(
        "t.ts", "class Stack<T> {\n  private items: T[] = [];\n  push(item: T): void {\n    ", "\n  }\n}\n",
        "this.items.push(item);\n  }\n  pop(): T | undefined {\n    return this.items.pop();\n  }\n}\n",
        "this.items.push(item);", ("truncate_syntax", "suffix_overlap")),
    # Go
    "go-single-line": Case(
        "main.go", "package main\n\nfunc main() {\n\tfmt.Println(", ")\n}\n",
        "\"hello\")\n\tos.Exit(0)\n", "\"hello\"", ("single_line", "suffix_overlap")),
    "go-if-block": Case(
        "main.go", "package main\n\nfunc check(err error) {\n\tif err != nil {", "\n}\n",
        "\n\t\tpanic(err)\n\t}\n\tfmt.Println(\"ok\")\n}\n", "\n\t\tpanic(err)\n\t}", ("truncate_syntax",)),
    "go-function": Case(
        "main.go", "package main\n\nfunc double(x int) int {", "\n",
        "\n\treturn x * 2\n}\n\nfunc triple(x int) int {\n\treturn x * 3\n}\n",
        "\n\treturn x * 2\n}", ("truncate_syntax",)),
    # Java
    "java-method": Case(
        "A.java", "class A {\n    int twice(int x) {", "\n}\n",
        "\n        return x * 2;\n    }\n\n    int thrice(int x) {\n        return x * 3;\n    }\n}\n",
        "\n        return x * 2;\n    }", ("truncate_syntax",)),
    "java-single-line": Case(
        "A.java", "class A {\n    void f() {\n        System.out.println(", ");\n    }\n}\n",
        "\"hi\");\n        return;\n", "\"hi\"", ("single_line", "suffix_overlap")),
    # Rust
    "rust-fn": Case(
        "lib.rs", "fn add(a: i32, b: i32) -> i32 {", "\n",
        "\n    a + b\n}\n\nfn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n",
        "\n    a + b\n}", ("truncate_syntax",)),
    "rust-match": Case(
        "lib.rs", "fn name(n: u8) -> &'static str {\n    match n {", "\n}\n",
        "\n        0 => \"zero\",\n        _ => \"many\",\n    }\n}\n",
        "\n        0 => \"zero\",\n        _ => \"many\",\n    }", ("truncate_syntax",)),
    # C
    "c-function": Case(
        "m.c", "#include <stdio.h>\n\nint square(int x) {", "\n",
        "\n    return x * x;\n}\n\nint cube(int x) {\n    return x * x * x;\n}\n",
        "\n    return x * x;\n}", ("truncate_syntax",)),
    "c-for-loop": Case(
        "m.c", "int sum(int *a, int n) {\n    int s = 0;\n    for (int i = 0; i < n; i++) {",
        "\n    return s;\n}\n",
        "\n        s += a[i];\n    }\n    return s;\n}\n", "\n        s += a[i];\n    }", ("truncate_syntax",)),
    # C++
    "cpp-class": Case(
        "m.cpp", "class Point {\npublic:", "\n};\n",
        "\n    int x;\n    int y;\n};\n\nclass Line {\n};\n", "\n    int x;\n    int y;",
        ("truncate_syntax", "suffix_overlap")),
    "cpp-method": Case(
        "m.cpp", "#include <vector>\n\nint total(const std::vector<int>& v) {", "\n",
        "\n    int s = 0;\n    for (int x : v) s += x;\n    return s;\n}\n\nint main() {\n    return 0;\n}\n",
        "\n    int s = 0;\n    for (int x : v) s += x;\n    return s;\n}", ("truncate_syntax",)),
    # Ruby
    "ruby-method": Case(
        "test.rb", "class Greeter\n  def hello_world", "\nend\n",
        "\n    puts 'hello world'\n  end\n\n  def bye\n    puts 'bye'\n  end\nend\n",
        "\n    puts 'hello world'\n  end", ("truncate_syntax",)),
    "ruby-block": Case(
        "test.rb", "[1, 2, 3].each do |x|", "\n",
        "\n  puts x\nend\nputs 'done'\n", "\n  puts x\nend", ("truncate_syntax",)),
    "ruby-end-in-suffix": Case(
        "test.rb", "def hello_world\n  ", "\nend\n",
        "puts 'hello world'\nend\n", "puts 'hello world'", ("truncate_syntax", "suffix_overlap")),
    # PHP
    "php-function": Case(
        "index.php", "<?php\nfunction greet($name) {", "\n",
        "\n    return \"Hello \" . $name;\n}\n\nfunction bye() {\n    return 'bye';\n}\n",
        "\n    return \"Hello \" . $name;\n}", ("truncate_syntax",)),
    "php-single-line": Case(
        "index.php", "<?php\n$total = array_sum(", ");\necho $total;\n",
        "$values);\necho 'x';\n", "$values", ("single_line", "suffix_overlap")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_postprocess_case(name: str) -> None:
    case = CASES[name]
    language = detect_language(case.file)
    assert language is not None
    result = postprocess(case.raw, context_for(case.prefix, case.suffix, language))
    assert result.text == case.expected
    assert tuple(r.step for r in result.removals) == case.steps
    assert case.raw.startswith(result.text) or case.steps[-1] == "suffix_overlap"


def test_every_grammar_language_has_cases() -> None:
    languages = {detect_language(case.file).id for case in CASES.values()}  # type: ignore[union-attr]
    assert {"python", "javascript", "typescript", "go", "java", "rust", "c", "cpp", "ruby", "php"} <= languages
