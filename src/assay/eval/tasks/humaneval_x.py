"""HumanEval-X (Zheng et al. 2023, THUDM/CodeGeeX): the 164 HumanEval problems in python, cpp, java,
js, go and rust, pass@k by compiling and running each language's tests.

Programs are assembled as CodeGeeX's ``process_humaneval_test`` does: python ``prompt + completion +
test`` (the test already calls ``check``); cpp adds the standard includes the prompt lacks; java and
js ``prompt + completion + test``; rust ``fn main(){}`` + declaration + prompt + completion + test,
run with ``rustc --test``. Upstream builds rust with the crates rand, regex and md5; offline the
``use`` lines for those crates are dropped, so the two problems that call them fail here. go needs
``go`` and testify. cpp links ``-lcrypto`` when the program includes OpenSSL (CPP/162).

Canonical solutions that fail here (measured): js 112 and 155 (wrong upstream solutions), js 162
(needs the js-md5 npm package); cpp 22 and 137 (need boost, ``apt-get install libboost-dev``), cpp 162
unless libssl-dev is installed. A language whose toolchain is not installed, or not visible inside the sandbox
(which binds only system directories: a rustup toolchain under ~/.cargo is not), raises ``ConfigError``
naming the tool.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from assay.errors import ConfigError, RequestInvalid
from assay.eval.tasks.base import DATA_DIR, Problem, Score, Task, read_jsonl, require
from assay.eval.tasks.execution import run_command, run_python_program, tool_runs_in_sandbox
from assay.eval.tasks.registry import register

LANGUAGES = {
    "python": ("python", ()),
    "cpp": ("cpp", ("g++",)),
    "java": ("java", ("javac", "java")),
    "js": ("javascript", ("node",)),
    "go": ("go", ("go",)),
    "rust": ("rust", ("rustc",)),
}
FILE_NAMES = {"python": "solution.py", "cpp": "main.cpp", "java": "Main.java", "js": "main.js",
              "go": "main_test.go", "rust": "main.rs"}
CPP_HEADERS = (
    "using namespace std;", "#include<stdlib.h>", "#include<algorithm>", "#include<cmath>", "#include<math.h>",
    "#include<numeric>", "#include<stdio.h>", "#include<vector>", "#include<set>", "#include<map>",
    "#include<queue>", "#include<stack>", "#include<list>", "#include<deque>", "#include<string>",
    "#include<climits>", "#include<cstring>", "#include<iostream>", "#include<sstream>", "#include<fstream>",
)
RUST_CRATE_USES = ("use rand::Rng;", "use regex::Regex;", "use md5;")
FIELDS = ("task_id", "prompt", "test", "declaration")


def missing_tools(language: str) -> list[str]:
    return [tool for tool in LANGUAGES[language][1] if shutil.which(tool) is None]


class HumanEvalX(Task):
    kind = "execution"
    max_tokens = 512

    def __init__(self, language: str, path: str | Path | None = None) -> None:
        if language not in LANGUAGES:
            raise RequestInvalid(f"humaneval-x has no language '{language}'; choose one of {', '.join(LANGUAGES)}")
        missing = missing_tools(language)
        if missing:
            raise ConfigError(f"humaneval-x-{language} needs {', '.join(missing)} on PATH, which is not installed")
        hidden = [tool for tool in LANGUAGES[language][1] if not tool_runs_in_sandbox(tool)]
        if hidden:
            raise ConfigError(f"humaneval-x-{language}: {', '.join(hidden)} is installed but cannot run inside the "
                              f"sandbox (install it under /usr or /opt)")
        self.lang = language
        self.language = LANGUAGES[language][0]
        self.name = f"humaneval-x-{language}"
        self.path = Path(path) if path else DATA_DIR / "humaneval-x" / f"humaneval_{language}.jsonl.gz"
        self.timeout_s = 3.0 if language == "python" else 30.0

    def problems(self) -> list[Problem]:
        out = []
        for row in read_jsonl(self.path):
            require(row, FIELDS, str(self.path))
            source = "HumanEval/" + row["task_id"].split("/")[-1]
            out.append(Problem(task_id=row["task_id"], prompt=row["prompt"],
                               reference=row.get("canonical_solution", ""), language=self.language,
                               cluster=source, file_name=FILE_NAMES[self.lang], data=row))
        return out

    def program(self, problem: Problem, completion: str) -> str:
        d = problem.data
        if self.lang == "cpp":
            headers = "".join(h + "\n" for h in CPP_HEADERS if h not in problem.prompt)
            return headers + problem.prompt + completion + "\n" + d["test"]
        if self.lang == "rust":
            declaration = "\n".join(line for line in d["declaration"].splitlines()
                                    if line.strip() not in RUST_CRATE_USES)
            return "\nfn main(){ \n } \n" + declaration + problem.prompt + completion + d["test"]
        if self.lang == "go":
            return d["test_setup"] + "\n" + d["import"] + problem.prompt + completion + "\n" + d["test"]
        return problem.prompt + completion + "\n" + d["test"]

    def score(self, problem: Problem, completion: str) -> Score:
        source = self.program(problem, completion)
        name = FILE_NAMES[self.lang]
        if self.lang == "python":
            return run_python_program(source, self.timeout_s)
        if self.lang == "cpp":
            libs = " -lcrypto" if "openssl/" in source else ""
            cmd = ["sh", "-c", f"g++ -std=c++17 -o main {name}{libs} && ./main"]
        elif self.lang == "java":
            cmd = ["sh", "-c", f"javac -J-Xmx512m {name} && java -Xmx512m -cp . Main"]
        elif self.lang == "js":
            cmd = ["node", name]
        elif self.lang == "rust":
            cmd = ["sh", "-c", f"rustc --test --edition 2021 -A warnings -o main {name} && ./main"]
        else:
            cmd = ["sh", "-c", "go mod init humaneval >/dev/null 2>&1; go test ./..."]
        heavy = self.lang in ("java", "rust", "go")
        return run_command(cmd, {name: source}, self.timeout_s, stderr_fails=self.lang == "js",
                           memory_mb=4096 if heavy else 1024, max_processes=256 if heavy else 64)


def _factory(language: str):
    def build(path: str | None = None) -> Task:
        return HumanEvalX(language, path)

    return build


for _lang in LANGUAGES:
    register(f"humaneval-x-{_lang}", f"HumanEval-X {_lang}: pass@k by compiling and running the tests")(_factory(_lang))
