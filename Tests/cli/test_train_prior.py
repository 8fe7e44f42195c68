"""avpgan train-prior on small drawn faces (32 px, tiny widths): a run stopped and resumed
writes the same prior as a straight run (at another thread count), with its log and sample
sheets; the prior starts train-enhancer's decoder with --prior, which refuses a prior of other
widths and --init beside it; Ctrl-C checkpoints and exits 130; bad options and faces are
refused with nothing written; a loss that is not finite exits 3. Needs numpy and
build/bin/avpgan."""
import json

from cli_helpers import interrupt_after_checkpoint, run, safetensors_metadata, straight_and_resumed
from test_train_enhancer import faces

CHECKPOINT = "prior-checkpoint.safetensors"


def test_train_prior_resume_samples_and_prior_for_the_enhancer(tmp_path):
    data = faces(tmp_path / "faces")
    common = ["train-prior", "--faces", data, "--widths", "tiny", "--batch", "4", "--checkpoint-every", "2", "--samples", "4"]
    a, b2 = straight_and_resumed(common, tmp_path, straight=["--threads", "1"], resumed=["--threads", "2"])
    assert "32 px face prior" in a.stdout and "wrote" in a.stdout, a.stdout
    assert "keeps its checkpoint's" in b2.stdout, "the recipe options given again are said to be the checkpoint's: " + b2.stdout
    log = [json.loads(line) for line in (tmp_path / "B" / "train-prior.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4], f"the log continues across the resume: {log}"
    assert all("l_d" in r and "l_g" in r and "real_score" in r for r in log), log
    assert "l_g_path" in log[3], "step 4 is a path-length step: " + json.dumps(log[3])
    sheets = sorted(p.name for p in (tmp_path / "A" / "samples").iterdir())
    assert sheets == ["step-000002.png", "step-000004.png"], sheets
    meta = safetensors_metadata(tmp_path / "A.safetensors")
    assert meta["avpgan.arch"] == "stylegan2-clean-prior", meta
    config = json.loads(meta["avpgan.config"])
    assert config["kind"] == "prior" and config["out_size"] == 32 and config["num_mlp"] == 8, config
    info = run("info", str(tmp_path / "A.safetensors"))
    assert info.returncode == 0 and "face prior" in info.stdout and "narrow 0.015625" in info.stdout, info.stdout + info.stderr

    # --prior: a new enhancer's decoder starts from it; other widths and --init beside it are refused.
    prior = str(tmp_path / "A.safetensors")
    e = run("train-enhancer", "--faces", data, "--widths", "tiny", "--prior", prior, "--steps", "1", "--losses", "perceptual=0",
            "--checkpoint-dir", str(tmp_path / "E"), "-o", str(tmp_path / "E.safetensors"))
    assert e.returncode == 0, e.stderr
    assert "from decoder of " + prior in e.stdout, e.stdout
    wrong = run("train-enhancer", "--faces", data, "--widths", "small", "--prior", prior, "--steps", "1", "-o", str(tmp_path / "W.safetensors"))
    assert wrong.returncode != 0 and not (tmp_path / "W.safetensors").exists(), wrong.stdout
    assert "does not fit" in wrong.stderr and "narrow 0.015625" in wrong.stderr and "narrow 0.25" in wrong.stderr, wrong.stderr
    both = run("train-enhancer", "--faces", data, "--prior", prior, "--init", str(tmp_path / "E.safetensors"), "-o", str(tmp_path / "X.safetensors"))
    assert both.returncode == 2 and "give one of them" in both.stderr, both.stderr
    not_prior = run("train-enhancer", "--faces", data, "--widths", "tiny", "--prior", str(tmp_path / "E.safetensors"), "-o", str(tmp_path / "X.safetensors"))
    assert not_prior.returncode != 0 and "a face prior" in not_prior.stderr, not_prior.stderr

    # Ctrl-C: a long run stops at the end of a step, checkpoints, exits 130, writes no prior.
    interrupt_after_checkpoint([*common, "--steps", "100000"], tmp_path, CHECKPOINT, timeout=60)


def test_train_prior_refusals_and_non_finite_loss(tmp_path):
    data = faces(tmp_path / "faces", count=4)
    out = tmp_path / "out.safetensors"

    def refused(*args, words=(), code=None):
        r = run("train-prior", "--widths", "tiny", "--steps", "1", "-o", str(out), *args)
        assert r.returncode != 0 and not out.exists(), (r.returncode, r.stdout)
        assert code is None or r.returncode == code, (r.returncode, r.stderr)
        for w in words:
            assert w in r.stderr, f"'{w}' not in: {r.stderr}"

    refused("--faces", data, "--resume", words=["--resume needs --checkpoint-dir"])
    refused("--faces", data, "--batch", "6", words=["groups"])
    refused("--faces", data, "--widths", "huge", words=["--widths takes"], code=2)
    refused("--faces", data, "--truncation", "nan", words=["--truncation takes"], code=2)
    refused("--faces", data, "--size", "48", words=["--size takes"], code=2)
    refused("--faces", str(tmp_path / "missing"), words=["does not exist"])
    refused(words=["needs --faces"], code=2)
    diverged = run("train-prior", "--faces", data, "--widths", "tiny", "--lr", "1e30", "--steps", "3", "--checkpoint-every", "1",
                   "--checkpoint-dir", str(tmp_path / "N"), "-o", str(out))
    assert diverged.returncode == 3, (diverged.returncode, diverged.stderr)
    assert "not finite" in diverged.stderr and "No prior was written" in diverged.stderr, diverged.stderr
    assert not out.exists(), "a diverged run must not write a prior"
