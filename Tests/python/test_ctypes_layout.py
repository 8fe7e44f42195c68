"""The Python binding's ctypes structures against include/avpgan.h, as a C compiler lays them out.

bindings/python/avpgan/_lib.py mirrors every public struct of the header by hand. A field added
to the header but not to Python (or added in another place, or with another type) would shift
every later field and corrupt calls silently. This test compiles a small C program that prints,
for every struct of the header, its size and the name, offset and size of each field (the field
list is read from the header itself), and compares that with the ctypes classes field by field.

Every struct of the header must have a mirror (a class whose docstring names ``struct NAME``),
and every mirror must name a struct of the header.
"""

import ctypes
import os
import re
import shutil
import subprocess

import pytest

from avpgan import _lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = os.path.join(ROOT, "include", "avpgan.h")

STRUCT_BODY = re.compile(r"typedef\s+struct\s+(avpgan_\w+)\s*\{(.*?)\}\s*\1\s*;", re.S)
FIELD_NAME = re.compile(r"(\w+)\s*(?:\[[^\]]*\])?\s*$")


def header_structs():
    """{struct name: [field names in order]} for every struct the header defines in full."""
    with open(HEADER) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    structs = {}
    for name, body in STRUCT_BODY.findall(text):
        fields = []
        for decl in body.split(";"):
            decl = decl.strip()
            if not decl:
                continue
            match = FIELD_NAME.search(decl)
            assert match, "cannot read a field name in %r of struct %s" % (decl, name)
            fields.append(match.group(1))
        structs[name] = fields
    return structs


def python_mirrors():
    """{struct name: ctypes class} for the non-opaque structures of avpgan._lib."""
    mirrors = {}
    for value in vars(_lib).values():
        if not (isinstance(value, type) and issubclass(value, ctypes.Structure)):
            continue
        if not getattr(value, "_fields_", None):
            continue  # opaque handle types
        match = re.search(r"``struct (avpgan_\w+)``", value.__doc__ or "")
        assert match, "%s in _lib.py does not name the C struct it mirrors in its docstring" % value.__name__
        mirrors[match.group(1)] = value
    return mirrors


def c_layout(structs, tmp_path):
    """{struct name: (size, [(field, offset, size)])} as the C compiler lays the header out."""
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        pytest.skip("no C compiler (cc) to lay out the header's structs")
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "avpgan.h"', "int main(void) {"]
    for name, fields in structs.items():
        lines.append('    printf("struct %s %%zu\\n", sizeof(%s));' % (name, name))
        for field in fields:
            lines.append('    printf("field %s %s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));'
                         % (name, field, name, field, name, field))
    lines += ["    return 0;", "}"]
    source = tmp_path / "layout.c"
    source.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c99", "-I", os.path.dirname(HEADER), str(source), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    layout = {}
    for line in subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if parts[0] == "struct":
            layout[parts[1]] = (int(parts[2]), [])
        else:
            layout[parts[1]][1].append((parts[2], int(parts[3]), int(parts[4])))
    return layout


def test_every_header_struct_has_a_python_mirror_and_back():
    structs, mirrors = header_structs(), python_mirrors()
    assert structs, "no struct definitions found in %s" % HEADER
    missing = sorted(set(structs) - set(mirrors))
    assert not missing, "structs of avpgan.h with no ctypes mirror in bindings/python/avpgan/_lib.py: %s" % missing
    unknown = sorted(set(mirrors) - set(structs))
    assert not unknown, "ctypes classes in _lib.py that name no struct of avpgan.h: %s" % unknown


def test_ctypes_structs_match_the_c_layout(tmp_path):
    structs, mirrors = header_structs(), python_mirrors()
    layout = c_layout(structs, tmp_path)
    problems = []
    for name, (c_size, c_fields) in sorted(layout.items()):
        mirror = mirrors.get(name)
        if mirror is None:
            continue  # reported by the test above
        py_fields = [f[0] for f in mirror._fields_]
        if py_fields != [f[0] for f in c_fields]:
            problems.append("%s: fields %s in C, %s in %s" % (name, [f[0] for f in c_fields], py_fields,
                                                              mirror.__name__))
            continue
        for field, offset, size in c_fields:
            descriptor = getattr(mirror, field)
            if (descriptor.offset, descriptor.size) != (offset, size):
                problems.append("%s.%s: offset %d size %d in C, offset %d size %d in %s"
                                % (name, field, offset, size, descriptor.offset, descriptor.size,
                                   mirror.__name__))
        if ctypes.sizeof(mirror) != c_size:
            problems.append("%s: sizeof %d in C, %d in %s" % (name, c_size, ctypes.sizeof(mirror), mirror.__name__))
    assert not problems, "ctypes structures disagree with avpgan.h:\n  " + "\n  ".join(problems)
