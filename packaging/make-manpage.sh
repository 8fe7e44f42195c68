#!/usr/bin/env bash
# The avpgan(1) manual page, from the command's own usage text (one source of truth).
#   packaging/make-manpage.sh path/to/avpgan VERSION > avpgan.1
set -euo pipefail
cli=$1 version=$2
usage=$("$cli" help 2>&1 || true)
cat <<EOM
.TH AVPGAN 1 "2026-11-25" "libavpgan $version" "User Commands"
.SH NAME
avpgan \\- voice portraits: a face image from a voice recording
.SH SYNOPSIS
.B avpgan
.I command
.RI [ options ]
.SH DESCRIPTION
.B avpgan
is the command-line front of libavpgan. It turns recordings into portraits (PNG files with
provenance), computes features and embeddings, makes synthetic voice\\-face data sets, trains
and evaluates models, and times them. Without \\fB\\-\\-model\\fR it uses \\fB\$AVPGAN_MODEL\\fR or the
installed default model \\fI/usr/share/avpgan/default.safetensors\\fR, which was trained on
synthetic data and is not a model of real faces.
.SH COMMANDS
.nf
$(printf '%s\n' "$usage" | sed -e 's/\\/\\\\/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/")
.fi
.SH EXIT STATUS
0 on success; 1 when the work failed (one line on standard error names the cause); 2 for a
usage error.
.SH SEE ALSO
The README of libavpgan, and /usr/include/avpgan.h (package libavpgan\\-dev).
EOM
