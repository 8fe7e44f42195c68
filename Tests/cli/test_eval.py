"""avpgan eval: the paper's face-similarity protocol through the CLI, with a face model of
deterministic random weights (tools/converters/face_model_file.py; no face-recognition weights ship).
Checks the outputs (Markdown, CSV, JSON, PNG), their consistency, determinism and the errors."""
import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "converters"))
import face_model_file  # noqa: E402

CLI = os.path.join(ROOT, "build", "bin", "avpgan")
GOLDEN = os.path.join(ROOT, "Tests", "Fixtures", "golden")


def run(*args):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed")
    tmp = tmp_path_factory.mktemp("eval")
    data = tmp / "data"
    r = run("synth-data", "-o", data, "--speakers", "6", "--utterances", "2", "--faces", "2", "--seed", "5")
    assert r.returncode == 0, r.stderr
    face = tmp / "face.safetensors"
    face_model_file.write_face_model(str(face), "mobilefacenet", face_model_file.random_state_dict("mobilefacenet", 4), "stored")
    common = ["eval", "--voices", data / "voices", "--faces", data / "faces", "--face-model", face, "--split", "all"]
    return tmp, data, face, common


def test_eval_reports_and_figures(setup):
    tmp, data, face, common = setup
    models = [os.path.join(GOLDEN, "avpgan", "model.safetensors"), os.path.join(GOLDEN, "voice2face", "model.safetensors")]
    out = tmp / "out"
    r = run(*common, "--model", models[0], "--model", models[1], "--seconds", "1,2,all", "-o", out)
    assert r.returncode == 0, r.stderr
    for name in ["eval.md", "eval.csv", "eval-recordings.csv", "eval.json", "grid.png", "sweep-1.png", "sweep-2.png"]:
        assert (out / name).stat().st_size > 0, f"{name} missing"
    for png in ["grid.png", "sweep-1.png", "sweep-2.png"]:
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    md = (out / "eval.md").read_text()
    assert md in r.stdout, "the Markdown table is printed too"
    assert md.count("| model.safetensors") == 0, "two models with the same file name are told apart by path"
    assert "real faces (reference)" in md and "| chance |" in md

    e = json.loads((out / "eval.json").read_text())
    assert len(e["identities"]) == 6 and e["face_model"]["arch"] == "mobilefacenet"
    assert [m["arch"] for m in e["models"]] == ["avpgan", "voice2face"]
    rows = list(csv.DictReader((out / "eval.csv").open()))
    per = list(csv.DictReader((out / "eval-recordings.csv").open()))
    assert len(rows) == 2 * 3, "one CSV row per model and length"
    assert len(per) == 2 * 3 * 12, "one row per model, length and recording (6 speakers x 2)"
    for m, model in enumerate(e["models"]):
        assert [l["seconds"] for l in model["lengths"]] == [1.0, 2.0, None]
        for l, length in enumerate(model["lengths"]):
            s = length["summary"]
            assert s["recordings"] == 12 and s["identities"] == 6
            assert s["chance_top1"] == pytest.approx(1 / 6) and s["chance_top5"] == pytest.approx(5 / 6)
            assert s["difference"] == pytest.approx(s["own"] - s["impostor"], abs=1e-9), "speaker means average to the recording means here"
            low, high = s["difference_ci95"]
            assert low <= s["difference"] <= high
            assert 0 <= s["top1"] <= s["top5"] <= 1
            mine = [p for p in per if p["model"] == models[m] and p["seconds"] == ("all" if length["seconds"] is None else str(length["seconds"]))]
            assert len(mine) == 12
            assert sum(float(p["own"]) for p in mine) / 12 == pytest.approx(s["own"], abs=1e-9)
            assert sum(int(p["rank"]) == 1 for p in mine) / 12 == pytest.approx(s["top1"])
            if length["seconds"] == 1.0:
                assert all(float(p["voiced_seconds"]) <= 1.0 for p in mine), "1 s of voice asked, at most 1 s used"
    ref = e["reference_real_faces"]
    assert ref["recordings"] == 12, "each of the 12 real faces against the others"

    # Deterministic: the same run again writes the same JSON and CSV, with other thread counts too.
    again = tmp / "again"
    r = run(*common, "--model", models[0], "--model", models[1], "--seconds", "1,2,all", "-o", again, "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert (again / "eval.csv").read_text() == (out / "eval.csv").read_text()
    assert (again / "eval-recordings.csv").read_text() == (out / "eval-recordings.csv").read_text()


def test_eval_identities_option(setup):
    tmp, data, face, common = setup
    ids = sorted(os.listdir(data / "voices"))[:3]
    (tmp / "ids.txt").write_text("# three of them\n" + "\n".join(ids) + "\n")
    model = os.path.join(GOLDEN, "voice2face", "model.safetensors")
    for spec in [tmp / "ids.txt", ",".join(ids)]:
        r = run(*common[:-2], "--identities", spec, "--model", model, "--seconds", "2", "-o", tmp / "ids")
        assert r.returncode == 0, r.stderr
        e = json.loads((tmp / "ids" / "eval.json").read_text())
        assert e["identities"] == ids


@pytest.mark.parametrize("extra, fragment, code", [
    (None, "needs --face-model", 2),
    (["--seconds", "0"], "--seconds takes positive", 2),
    (["--identities", "nobody,id0001"], "identity 'nobody'", 1),
])
def test_eval_failures(setup, extra, fragment, code):
    """extra None: --face-model left out; otherwise options added to a good command."""
    tmp, data, face, common = setup
    args = common + ["--model", os.path.join(GOLDEN, "voice2face", "model.safetensors"), "-o", tmp / "fail"]
    if extra is None:
        i = args.index("--face-model")
        args = args[:i] + args[i + 2:]
    else:
        args = args + extra
    r = run(*args)
    assert r.returncode == code and fragment in r.stderr, (r.returncode, r.stderr)


def test_eval_refuses_swapped_models(setup):
    tmp, data, face, common = setup
    i = common.index("--face-model")
    voice_model = os.path.join(GOLDEN, "voice2face", "model.safetensors")
    args = common[:i] + ["--face-model", voice_model] + common[i + 2:] + ["--model", face, "-o", tmp / "swap"]
    r = run(*args)
    assert r.returncode != 0 and "voice-portrait model" in r.stderr and "give it with --model" in r.stderr, r.stderr
