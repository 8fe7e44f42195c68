#!/usr/bin/env python3
"""Every C snippet of README.md compiles as C99 and as C++17 with warnings as errors.

  Tests/check_readme_snippets.py [README.md]

A snippet is a fenced ```c block. Its #include lines go to the top of a translation unit and the
rest into a function body of its own, which declares what the README's prose gives a snippet
(`model`, `features`, `n_frames`) as parameters. A C++ user pastes the same lines into C++ code,
so C-only syntax there (designated initializers, `void *` to `T *` without a cast) fails here.
Only the standard library and the C compilers (cc, c++) are used.
"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROLOGUE = ["#include <stdint.h>", "#include <stdio.h>", "#include <stdlib.h>", "#include <string.h>",
            '#include "avpgan.h"']
CONTEXT = "avpgan_model *model, const float *features, uint32_t n_frames"
COMPILERS = [
    ("C99", ["cc", "-std=c99", "-x", "c"]),
    ("C++17", ["c++", "-std=c++17", "-x", "c++"]),
]
WARNINGS = ["-Wall", "-Wextra", "-Werror", "-pedantic", "-Wno-unused-variable", "-Wno-unused-but-set-variable"]


def snippets(readme):
    """[(line number, text)] of the ```c blocks."""
    lines = open(readme).read().split("\n")
    found, start = [], None
    for number, line in enumerate(lines, 1):
        if start is None and line.strip() == "```c":
            start = number
        elif start is not None and line.strip() == "```":
            found.append((start, "\n".join(lines[start:number - 1])))
            start = None
    return found


def translation_unit(snippets_):
    includes, bodies = list(PROLOGUE), []
    for index, (line, text) in enumerate(snippets_):
        body = []
        for row in text.split("\n"):
            if row.lstrip().startswith("#include"):
                if row.strip() not in includes:
                    includes.append(row.strip())
            else:
                body.append(row)
        bodies.append("/* README.md line %d */\nint readme_snippet_%d(%s) {\n"
                      "    (void)model; (void)features; (void)n_frames;\n    {\n%s\n    }\n    return 0;\n}\n"
                      % (line, index, CONTEXT, "\n".join("        " + r for r in body)))
    return "\n".join(includes) + "\n\n" + "\n".join(bodies)


def main():
    readme = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "README.md")
    found = snippets(readme)
    if not found:
        sys.exit("check_readme_snippets: no ```c snippet in %s" % readme)
    source = translation_unit(found)
    failed = False
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "readme_snippets.c")
        with open(path, "w") as f:
            f.write(source)
        for name, command in COMPILERS:
            run = subprocess.run(command + WARNINGS + ["-I", os.path.join(HERE, "include"), "-fsyntax-only", path],
                                 capture_output=True, text=True)
            if run.returncode:
                failed = True
                sys.stderr.write("README.md's C snippets do not compile as %s:\n%s\n" % (name, run.stderr))
            else:
                print("ok   README.md: %d C snippets compile as %s" % (len(found), name))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
