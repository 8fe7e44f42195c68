"""Controlled learning experiments (issue 11): which recipe makes which architecture learn?

For each data set (`avpgan synth-data` with a seed and a speaker count; one voice encoder per set,
pre-trained once and shared by every run on it), each variant (an architecture plus extra
`avpgan train` options) and each seed, trains in stages through the CLI (`train --steps k`, then
`--resume` to 2k, ...: bit-identical to one run) and measures after every stage:
- held-out retrieval (`avpgan evaluate`, the test split): top-1 and mean rank;
- training-speaker retrieval (`evaluate --split train`): top-1;
- diversity: the mean over pixels of the standard deviation across the held-out recordings'
  generated faces (raw generator output in [-1, 1]); about 0 when every portrait is the same;
- the mean of each loss over the stage's last 50 steps (from the run's train.jsonl).

Rows go to --out (JSONL, appended; a row already there is not run again, so an interrupted sweep
resumes), and --table prints the Markdown tables of a results file. Raw logs and models stay in
--work. Runs one training process at a time (the machine is shared).

Example (the tables of docs/training-design.md, "Why avpgan collapsed"):
  python3 tools/benchmarks/learning_experiments.py --work build/experiments --out build/experiments/rows.jsonl \\
      --dataset A:60:1 --variant voice2face=--arch,voice2face --variant avpgan=--arch,avpgan,--cbam-gate,sigmoid --seeds 1,2,3
  python3 tools/benchmarks/learning_experiments.py --table build/experiments/rows.jsonl
"""
import argparse, json, os, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOSSES = ["d_real", "d_fake", "c_real", "g_fake", "g_class"]


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def dataset(a, spec):
    """NAME:SPEAKERS:SEED -> (folder, encoder): synthesised and pre-trained once."""
    name, speakers, seed = spec.split(":")
    folder = os.path.join(a.work, name)
    encoder = os.path.join(folder, "encoder.safetensors")
    if not os.path.exists(encoder):
        os.makedirs(folder, exist_ok=True)
        run([a.cli, "synth-data", "-o", f"{folder}/data", "--speakers", speakers, "--utterances", "4", "--faces", "4",
             "--seed", seed])
        run([a.cli, "train-voice", "--voices", f"{folder}/data/voices", "-o", encoder, "--widths", a.widths,
             "--steps", str(a.voice_steps), "--batch", "32", "--seed", seed, "--cache", f"{folder}/cache",
             "--threads", str(a.threads)])
    return name, folder, encoder


def diversity(model, voices, test_list):
    """Mean over pixels of the std across held-out recordings' raw generated faces."""
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    import numpy as np, avpgan
    names = [l.strip() for l in open(test_list) if l.strip()]
    faces = []
    with avpgan.Model(model) as m:
        for n in names:
            for f in sorted(os.listdir(os.path.join(voices, n))):
                try:
                    feats = avpgan.features(os.path.join(voices, n, f))
                except avpgan.NoSpeechError:
                    continue
                faces.append(np.clip(m.generate_raw(m.embed(feats)), -1, 1))
    return float(np.stack(faces).std(0).mean())


def evaluate(a, folder, model, split):
    out = os.path.join(os.path.dirname(model), f"eval-{split}.json")
    run([a.cli, "evaluate", "--model", model, "--voices", f"{folder}/data/voices", "--faces", f"{folder}/data/faces",
         "--cache", f"{folder}/cache", "--split", split, "--json", out, "--threads", str(a.threads)])
    return json.load(open(out))


def experiment(a, ds, variant, seed, done):
    name, folder, encoder = ds
    label, options = variant
    work = os.path.join(a.work, name, f"{label}-s{seed}")
    os.makedirs(work, exist_ok=True)
    for stop in range(a.eval_every, a.steps + 1, a.eval_every):
        key = (name, label, seed, stop)
        if key in done:
            continue
        model = os.path.join(work, f"model-{stop}.safetensors")
        t0 = time.monotonic()
        run([a.cli, "train", "--voices", f"{folder}/data/voices", "--faces", f"{folder}/data/faces", "--voice-encoder",
             encoder, "-o", model, "--widths", a.widths, "--steps", str(stop), "--batch", str(a.batch), "--seed", str(seed),
             "--cache", f"{folder}/cache", "--checkpoint-dir", work, "--checkpoint-every", str(a.eval_every),
             "--samples-every", "0", "--threads", str(a.threads), *options, *(["--resume"] if stop > a.eval_every else [])])
        seconds = time.monotonic() - t0
        log = [json.loads(l) for l in open(os.path.join(work, "train.jsonl"))][-50:]
        test, train = evaluate(a, folder, model, "test"), evaluate(a, folder, model, "train")
        row = dict(dataset=name, variant=label, options=options, seed=seed, step=stop, stage_seconds=round(seconds, 1),
                   top1=test["top1"], mean_rank=test["mean_rank"], chance_top1=test["chance_top1"],
                   chance_mean_rank=test["chance_mean_rank"], train_top1=train["top1"], train_chance=train["chance_top1"],
                   diversity=diversity(model, f"{folder}/data/voices", f"{folder}/data/test.txt"),
                   **{k: sum(r[k] for r in log) / len(log) for k in LOSSES})
        print(json.dumps(row), flush=True)
        with open(a.out, "a") as f:
            f.write(json.dumps(row) + "\n")


def table(path):
    rows = [json.loads(l) for l in open(path)]
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["variant"], r["step"]), []).append(r)
    print("| set | variant | steps | seeds | held-out top-1 (per seed) | mean | chance | mean rank | train top-1 | diversity | d_real | d_fake | g_fake | g_class |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (ds, v, step), g in sorted(groups.items()):
        m = lambda k: sum(r[k] for r in g) / len(g)
        per = " ".join(f"{100 * r['top1']:.0f}" for r in sorted(g, key=lambda r: r["seed"]))
        print(f"| {ds} | {v} | {step} | {len(g)} | {per} | {100 * m('top1'):.1f} % | {100 * g[0]['chance_top1']:.1f} % | "
              f"{m('mean_rank'):.2f} | {100 * m('train_top1'):.1f} % | {m('diversity'):.3f} | {m('d_real'):.2g} | "
              f"{m('d_fake'):.2g} | {m('g_fake'):.2g} | {m('g_class'):.2f} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cli", default=os.path.join(ROOT, "build", "bin", "avpgan"))
    p.add_argument("--work", help="data sets, encoders, checkpoints and models")
    p.add_argument("--out", help="results, one JSON row per (set, variant, seed, stage)")
    p.add_argument("--dataset", action="append", default=[], help="NAME:SPEAKERS:SEED (repeatable)")
    p.add_argument("--variant", action="append", default=[],
                   help="LABEL=OPT,VALUE,...: extra avpgan train options, comma-separated (repeatable)")
    p.add_argument("--seeds", default="1")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--widths", default="tiny", choices=["tiny", "full"])
    p.add_argument("--voice-steps", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--table", help="print the tables of this results file and exit")
    a = p.parse_args()
    if a.table:
        return table(a.table)
    if not (a.work and a.out and a.dataset and a.variant):
        p.error("--work, --out, --dataset and --variant are needed (or --table)")
    done = set()
    if os.path.exists(a.out):
        done = {(r["dataset"], r["variant"], r["seed"], r["step"]) for r in map(json.loads, open(a.out))}
    variants = [(v.split("=", 1)[0], [o for o in v.split("=", 1)[1].split(",") if o]) for v in a.variant]
    for spec in a.dataset:
        ds = dataset(a, spec)
        for seed in map(int, a.seeds.split(",")):
            for variant in variants:
                experiment(a, ds, variant, seed, done)


if __name__ == "__main__":
    main()
