#!/usr/bin/env python3
"""docs/api.md: the C API reference, generated from include/avpgan.h's own comments.

    python3 tools/api_reference.py            # rewrite docs/api.md
    python3 tools/api_reference.py --check    # exit 1 if docs/api.md is stale, or if any
                                              # function, type or macro lacks a /** */ comment

The header is the single source: each section banner (/* --- */ /* Name */ /* --- */) becomes a
heading, and each declaration with the /** ... */ comment right before it an entry (the
declaration as a code block, the comment as text). Needs the standard library only."""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "include", "avpgan.h")
OUT = os.path.join(ROOT, "docs", "api.md")


def clean_comment(text):
    lines = []
    for line in text.strip()[3:-2].splitlines():
        line = re.sub(r"^\s*\*( |$)", "", line.rstrip())
        lines.append(line.strip() if not line.startswith("    ") else line)
    return "\n".join(lines).strip()


def parse(header):
    """[(section, [(kind, name, declaration, comment or None)])] in header order."""
    src = open(header).read()
    body = src
    sections, current = [], None
    pos = 0
    token = re.compile(
        r"/\* -{20,} \*/\s*/\* (?P<banner>[^*]+?)\s*\*/\s*/\* -{20,} \*/"
        r"|(?P<doc>/\*\*.*?\*/)"
        r"|(?P<comment>/\*.*?\*/)"
        r"|(?P<decl>(?:typedef\s+(?:struct|enum)\s+\w+\s*\{.*?\}\s*\w+;|typedef\s+struct\s+\w+\s+\w+;|typedef[^;{]*\([^;]*\);"
        r"|(?:const\s+)?[a-z_0-9]+\s+\**\s*avpgan_\w+\s*\([^;]*\);|void\s+avpgan_\w+\s*\([^;]*\);)"
        r"|#define\s+\w+(?:\([^)]*\))?(?:\\\n|[^\n])*)",
        re.S)
    pending = None
    for m in token.finditer(body):
        if m.group("banner"):
            current = (m.group("banner").strip(), [])
            sections.append(current)
            pending = None
        elif m.group("doc"):
            pending = clean_comment(m.group("doc"))
        elif m.group("comment"):
            pending = None
        elif m.group("decl"):
            decl = m.group("decl").strip()
            if decl.startswith("#define AVPGAN_H") or decl.startswith("#define AVPGAN_DEPRECATED(message)"):
                continue
            name = (re.search(r"\(\s*\*\s*(\w+)\s*\)", decl) or re.search(r"(avpgan_\w+)\s*\(", decl) or re.search(r"\}\s*(\w+);$", decl)
                    or re.search(r"#define\s+(\w+)", decl) or re.search(r"(\w+);$", decl)).group(1)
            kind = "macro" if decl.startswith("#define") else ("type" if decl.startswith("typedef") else "function")
            if current is None:
                current = ("Version", [])
                sections.append(current)
            current[1].append((kind, name, decl, pending))
            pending = None
    return sections


def render(sections):
    out = ["# libavpgan C API reference", "",
           "Generated from [`include/avpgan.h`](../include/avpgan.h) by `tools/api_reference.py`; "
           "the header's conventions (statuses, buffers, struct sizes, threads) are in its opening "
           "comment. `make test` checks that this page matches the header.", ""]
    for title, entries in sections:
        if not entries:
            continue
        out += [f"## {title}", ""]
        for kind, name, decl, doc in entries:
            out += [f"### `{name}`", "", "```c", decl, "```", ""]
            if doc:
                out += [doc, ""]
    return "\n".join(out).rstrip() + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--check", action="store_true")
    a = p.parse_args()
    sections = parse(HEADER)
    missing = [name for _, entries in sections for kind, name, _, doc in entries
               if doc is None and kind == "function"]
    text = render(sections)
    if a.check:
        problems = []
        if missing:
            problems.append("functions without a /** */ comment in the header: " + ", ".join(missing))
        if not os.path.exists(OUT) or open(OUT).read() != text:
            problems.append("docs/api.md is stale: run python3 tools/api_reference.py")
        for line in problems:
            print("api reference: " + line)
        n = sum(1 for _, e in sections for k, *_ in e if k == "function")
        if not problems:
            print(f"ok   api reference: docs/api.md matches the header ({n} functions, all documented)")
        sys.exit(1 if problems else 0)
    with open(OUT, "w") as f:
        f.write(text)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
