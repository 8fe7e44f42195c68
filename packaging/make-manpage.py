#!/usr/bin/env python3
"""The avpgan(1) manual page, from the command's own help (one source of truth).

  packaging/make-manpage.py path/to/avpgan VERSION DATE > avpgan.1
  packaging/make-manpage.py --converter NAME SUMMARY VERSION DATE COMMAND... > NAME.1

Reads `avpgan help` (the command list) and `avpgan help CMD` for each command, whose layout is
fixed by Sources/avpgan-cli/CommandHelp.swift: a usage line (continued by indented lines), the
description, "options:" with the option in the first 28 columns and its text after, and
"examples:". Writes one section per command (SYNOPSIS, text, options as tagged paragraphs that
man fills to the reader's terminal), then ENVIRONMENT, FILES, EXAMPLES, EXIT STATUS and SEE ALSO.
"""
import re
import subprocess
import sys

HELP_COLUMN = 28


def esc(text):
    """Text for roff: backslashes, hyphens of options, and a leading dot or quote."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"^([.'])", r"\\&\1", text)


def help_of(cli, *args):
    return subprocess.run([cli, "help", *args], check=True, capture_output=True, text=True).stdout


def parse(text):
    """(usage, description paragraphs, [(option, help)], [example lines]) of one command's help."""
    lines = text.rstrip("\n").split("\n")
    usage = [lines[0][len("usage: "):]]
    i = 1
    while i < len(lines) and lines[i].startswith("    "):
        usage.append(lines[i].strip())
        i += 1
    section, description, options, examples = "description", [[]], [], []
    for line in lines[i:]:
        if line in ("options:", "examples:"):
            section = line[:-1]
            continue
        if section == "description":
            if line.strip():
                description[-1].append(line.strip())
            elif description[-1]:
                description.append([])
        elif section == "options":
            if not line.strip():
                continue
            head, rest = line[:HELP_COLUMN].strip(), line[HELP_COLUMN:].strip()
            if line.startswith(" " * HELP_COLUMN):
                options[-1][1].append(rest)
            elif len(line.strip()) > 0 and len(line) <= HELP_COLUMN:
                options.append([line.strip(), []])
            else:
                options.append([head, [rest] if rest else []])
        elif line.strip():
            examples.append(line[2:])
    return " ".join(usage), [" ".join(p) for p in description if p], options, examples


def converter_page(name, summary, version, date, command):
    """A page for an argparse command (the converters): its --help, verbatim, at 72 columns."""
    import os
    env = dict(os.environ, COLUMNS="72")
    text = subprocess.run(command + ["--help"], check=True, capture_output=True, text=True, env=env).stdout
    out = ['.TH %s 1 "%s" "libavpgan %s" "User Commands"' % (name.upper().replace("-", "\\-"), date, version), ".nh",
           ".SH NAME", "%s \\- %s" % (esc(name), esc(summary)), ".SH DESCRIPTION", ".nf"]
    out += [esc(line) for line in text.rstrip("\n").split("\n")]
    out += [".fi", ".SH SEE ALSO", ".BR avpgan (1)"]
    sys.stdout.write("\n".join(out) + "\n")


def main():
    if sys.argv[1] == "--converter":
        # make-manpage.py --converter NAME SUMMARY VERSION DATE COMMAND...
        converter_page(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
        return
    cli, version, date = sys.argv[1], sys.argv[2], sys.argv[3]
    commands = re.findall(r"^  (\S+)", help_of(cli), re.M)
    out = [
        '.TH AVPGAN 1 "%s" "libavpgan %s" "User Commands"' % (date, version),
        ".nh",
        ".SH NAME",
        "avpgan \\- voice portraits: a face image from a voice recording",
        ".SH SYNOPSIS",
        ".B avpgan",
        ".I command",
        ".RI [ options ]",
        ".br",
        ".B avpgan help",
        ".RI [ command ]",
        ".SH DESCRIPTION",
        ".B avpgan",
        "is the command\\-line front of libavpgan. It turns recordings into portraits (PNG files with",
        "provenance), computes features and embeddings, makes synthetic voice\\-face data sets, trains",
        "and evaluates models, and times them. Every command prints its own options and their",
        "defaults with",
        ".BR \\-\\-help .",
        "A generated portrait is a synthetic image, not a photograph of the speaker.",
        ".SH COMMANDS",
    ]
    all_examples = []
    for name in commands:
        usage, description, options, examples = parse(help_of(cli, name))
        out += [".SS \"%s\"" % esc(name), ".B avpgan", esc(usage[len("avpgan "):]), ".PP"]
        for i, paragraph in enumerate(description):
            if i:
                out.append(".PP")
            out.append(esc(paragraph))
        for option, text in options:
            if option != "-h, --help":
                out += [".TP", ".B %s" % esc(option), esc(" ".join(text))]
        all_examples += examples
    out += [
        ".SH ENVIRONMENT",
        ".TP",
        ".B AVPGAN_MODEL",
        "The model file used when a command is given no",
        ".BR \\-\\-model .",
        "When set, it is the only place looked at.",
        ".TP",
        ".B AVPGAN_ENHANCER",
        "The enhancer file used by",
        ".B portrait \\-\\-enhance",
        "when it is given no file. When set, it is the only place looked at.",
        ".TP",
        ".B OPENBLAS_NUM_THREADS",
        "Ignored by avpgan: it runs OpenBLAS single\\-threaded and parallelises its own work; use",
        ".BR \\-\\-threads .",
        ".SH FILES",
        ".TP",
        ".I /usr/share/avpgan/default.safetensors",
        "The default model (package libavpgan0). It was trained on synthetic voices and procedural",
        "faces, not on real people. Beside an installed",
        ".IR prefix /bin/avpgan,",
        "the command also looks in",
        ".IR prefix /share/avpgan/.",
        ".TP",
        ".I /usr/share/avpgan/default\\-enhancer.safetensors",
        "The default enhancer (package libavpgan0), 64 to 128 pixels. It was trained on procedural",
        "faces, not on real people.",
        ".TP",
        ".I /usr/include/avpgan.h",
        "The C interface (package libavpgan\\-dev), with its reference in",
        ".IR /usr/share/doc/libavpgan\\-dev/api.md .",
        ".SH EXAMPLES",
        ".nf",
    ] + [esc(line) for line in all_examples] + [
        ".fi",
        ".SH EXIT STATUS",
        "0 on success; 1 when the work failed (one line on standard error names the cause); 2 for a",
        "usage error; 3 when training stopped on a health warning (\\-\\-stop\\-on\\-collapse; the last healthy",
        "checkpoint is kept); 130 when training was interrupted (a checkpoint was written).",
        ".SH SEE ALSO",
        ".BR python3 (1)",
        "for the avpgan Python package (package python3\\-avpgan), and",
        ".I /usr/share/doc/libavpgan\\-dev/",
        "for the C API reference and examples.",
    ]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
