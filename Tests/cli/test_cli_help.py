"""The avpgan command as a new user meets it: help for every command, one clear line for a
mistyped option or command, where the default model was looked for, and outputs that are
never replaced without --overwrite. Needs build/bin/avpgan."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "build", "bin", "avpgan")
VOICE = os.path.join(ROOT, "examples", "voices", "heldout-speaker.flac")
MODEL = os.path.join(ROOT, "models", "default.safetensors")
COMMANDS = ["portrait", "enhance", "features", "info", "generate", "embed", "train", "train-voice", "train-enhancer", "synth-data",
            "pixel-retrieval", "eval", "bench", "version", "help"]


def run(*args, cli=CLI, **kw):
    return subprocess.run([cli, *args], capture_output=True, text=True, **kw)


def test_the_command_list_names_every_command():
    r = run("help")
    assert r.returncode == 0, r.stderr
    listed = re.findall(r"^  (\S+)", r.stdout, re.M)
    assert listed == COMMANDS, f"avpgan help lists {listed}"


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("form", ["--help", "-h", "help"])
def test_every_command_has_its_own_help(command, form):
    r = run("help", command) if form == "help" else run(command, form)
    assert r.returncode == 0, f"avpgan {command} {form}: exit {r.returncode}, {r.stderr}"
    assert r.stdout.startswith(f"usage: avpgan {command}"), r.stdout[:200]
    long = [line for line in r.stdout.splitlines() if len(line) > 80]
    assert not long, f"avpgan {command} --help has lines over 80 columns: {long}"
    # Examples also go verbatim into the manual page, indented by 7 columns there.
    examples = r.stdout.split("\nexamples:\n")[1].splitlines() if "\nexamples:\n" in r.stdout else []
    long = [line for line in examples if len(line) > 75]
    assert not long, f"avpgan {command} --help: examples over 73 columns do not fit the manual page: {long}"


def test_help_shows_options_with_defaults():
    text = run("portrait", "--help").stdout
    assert re.search(r"--vad-mode 0-3 .*\(default: 2\)", text), text
    assert "--overwrite" in text and "$AVPGAN_MODEL" in text


def test_a_mistyped_option_is_one_line_with_the_closest_option():
    r = run("portrait", "--modle", MODEL, VOICE)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1, f"more than one line: {r.stderr!r}"
    assert "unknown option --modle" in r.stderr and "did you mean --model?" in r.stderr, r.stderr
    assert "avpgan portrait --help" in r.stderr, r.stderr


def test_a_mistyped_command_names_the_closest_one():
    r = run("portrat")
    assert r.returncode == 2 and "did you mean portrait?" in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1, r.stderr


def test_evaluate_is_an_alias_of_pixel_retrieval():
    r = run("evaluate", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: avpgan pixel-retrieval"), r.stdout[:100]
    assert "Also called: evaluate." in r.stdout


def test_missing_default_model_names_every_place_looked_at(tmp_path):
    # A copy of the command outside any checkout or prefix that holds a model.
    cli = tmp_path / "bin" / "avpgan"
    cli.parent.mkdir()
    shutil.copy(CLI, cli)
    env = {k: v for k, v in os.environ.items() if k != "AVPGAN_MODEL"}
    r = run("portrait", VOICE, "-o", str(tmp_path / "x.png"), cli=str(cli), env=env)
    if os.path.exists("/usr/share/avpgan/default.safetensors"):
        pytest.skip("a default model is installed system-wide")
    assert r.returncode == 2, r.stderr
    for place in [str(tmp_path / "share" / "avpgan" / "default.safetensors"), "/usr/share/avpgan/default.safetensors",
                  "$AVPGAN_MODEL"]:
        assert place in r.stderr, f"{place} missing from: {r.stderr}"
    r = run("portrait", VOICE, "-o", str(tmp_path / "x.png"), cli=str(cli), env={**env, "AVPGAN_MODEL": "/no/such.safetensors"})
    assert r.returncode == 2 and "$AVPGAN_MODEL (/no/such.safetensors)" in r.stderr, r.stderr


def test_the_checkouts_build_finds_the_checkouts_model(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "AVPGAN_MODEL"}
    r = run("portrait", VOICE, "-o", str(tmp_path / "face.png"), env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "face.png").stat().st_size > 0


def test_existing_outputs_are_kept_unless_overwrite(tmp_path):
    out = tmp_path / "face.png"
    out.write_bytes(b"keep me")
    r = run("portrait", "--model", MODEL, VOICE, "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "exists: skipped (--overwrite replaces it)" in r.stdout, r.stdout
    assert out.read_bytes() == b"keep me", "portrait replaced an existing file without --overwrite"
    r = run("portrait", "--model", MODEL, VOICE, "-o", str(out), "--overwrite")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "--overwrite did not replace the file"
    feats = tmp_path / "f.npy"
    feats.write_bytes(b"keep")
    r = run("features", VOICE, "-o", str(feats))
    assert r.returncode == 0 and "skipped" in r.stdout and feats.read_bytes() == b"keep", r.stdout


def test_feature_cache_defaults_to_the_users_cache_folder(tmp_path):
    """No feature-cache/ left in the folder a training run started from: the cache lives in
    $XDG_CACHE_HOME/avpgan/features, and the run says where."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed for synth-data")
    work = tmp_path / "cwd"
    work.mkdir()
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    r = run("synth-data", "-o", str(tmp_path / "data"), "--speakers", "3", "--utterances", "2", "--faces", "1", env=env)
    assert r.returncode == 0, r.stderr
    r = run("train-voice", "--voices", str(tmp_path / "data" / "voices"), "--widths", "tiny", "--steps", "1", "--batch", "4",
            "-o", str(tmp_path / "enc.safetensors"), env=env, cwd=str(work))
    assert r.returncode == 0, r.stderr
    cache = tmp_path / "xdg" / "avpgan" / "features"
    assert f"feature cache: {cache}" in r.stdout, r.stdout
    assert any(cache.glob("*.npy")), "no features were cached in the user's cache folder"
    assert list(work.iterdir()) == [], f"the run left {list(work.iterdir())} in its working folder"


def test_a_file_that_is_not_a_model_gets_a_plain_message(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("These are not weights, just a few lines of text.\n")
    for args in (["info", str(text)], ["portrait", "--model", str(text), VOICE, "-o", str(tmp_path / "x.png")]):
        r = run(*args)
        assert r.returncode == 1 and "not a safetensors model file" in r.stderr, r.stderr
        assert "header length" not in r.stderr, r.stderr
