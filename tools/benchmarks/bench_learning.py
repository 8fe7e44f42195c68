"""Does the pipeline learn? The synthetic-data benchmark of issue 4, through the CLI only.

1. `avpgan synth-data`: espeak-ng speakers whose procedural faces follow their voices, every
   fifth speaker held out (never seen in training);
2. `avpgan train-voice`: the voice encoder pre-trained as a speaker classifier;
3. `avpgan train`: Algorithm 1 with that encoder frozen;
4. `avpgan evaluate`: each held-out recording's generated face ranked by pixel distance against
   one mean picture per held-out speaker; top-1 against chance (1 / held-out speakers).

Prints each stage's wall and CPU time (user + system: the fair measure on a shared machine) and
the retrieval numbers, and writes them as JSON (--json).
The defaults fit the issue's CPU budget (at most 10 minutes on 2 cores, data synthesis included);
`make test` runs a smaller budget of the same pipeline (Tests/cli/test_learning.py)."""
import argparse, json, os, resource, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cli", default=os.path.join(ROOT, "build", "bin", "avpgan"))
    p.add_argument("--workdir", help="keep the data, checkpoints and models here (default: a temporary folder)")
    p.add_argument("--speakers", type=int, default=60)
    p.add_argument("--utterances", type=int, default=4)
    p.add_argument("--faces", type=int, default=4)
    p.add_argument("--voice-steps", type=int, default=1000)
    p.add_argument("--gan-steps", type=int, default=4000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--widths", default="tiny", choices=["tiny", "full"])
    p.add_argument("--arch", default="voice2face", choices=["voice2face", "avpgan", "avpgan-nocbam"])
    p.add_argument("--generator-sn", choices=["on", "off"],
                   help="spectral norm on the generator too (avpgan train --generator-sn; default: the trainer's, off)")
    p.add_argument("--generator-cbam", choices=["on", "off"],
                   help="CBAM in avpgan's generator too (avpgan train --generator-cbam; default: the trainer's)")
    p.add_argument("--cbam-gate", choices=["sigmoid", "residual"],
                   help="how avpgan's CBAM gates (avpgan train --cbam-gate; default: the trainer's, residual)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="write the result here")
    p.add_argument("--install", help="copy the trained model here (how `make default-model` makes the default model)")
    p.add_argument("--summary", metavar="DIR", help="print one line per DIR/<arch>.json (make bench-learning) and exit")
    a = p.parse_args()
    if a.summary:
        for arch in ("voice2face", "avpgan", "avpgan-nocbam"):
            path = os.path.join(a.summary, f"{arch}.json")
            if os.path.exists(path):
                r = json.load(open(path))
                print(f"{arch:14s} held-out top-1 {100 * r['top1']:5.1f} % (chance {100 * r['chance_top1']:.1f} %), "
                      f"mean rank {r['mean_rank']:.2f} (chance {r['chance_mean_rank']:.2f}), train {r['stage_seconds']['train']:.0f} s"
                      f"{' (%.0f s CPU)' % r['stage_cpu_seconds']['train'] if 'stage_cpu_seconds' in r else ''}, "
                      f"health warnings: {', '.join(r.get('health_warnings') or []) or 'none'}")
        return

    work = a.workdir or tempfile.mkdtemp(prefix="avpgan-learning-")
    os.makedirs(work, exist_ok=True)
    data, cache = os.path.join(work, "data"), os.path.join(work, "feature-cache")
    encoder, model = os.path.join(work, "encoder.safetensors"), os.path.join(work, "model.safetensors")
    threads = ["--threads", str(a.threads)]
    times, cpu_times = {}, {}

    def children_cpu():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def stage(name, *args):
        t0, c0 = time.monotonic(), children_cpu()
        r = subprocess.run([a.cli, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        times[name], cpu_times[name] = time.monotonic() - t0, children_cpu() - c0
        if r.returncode != 0:
            sys.exit(f"{name} failed ({r.returncode}):\n{r.stderr}")
        print(f"{name:12s} {times[name]:7.1f} s wall {cpu_times[name]:7.1f} s CPU   "
              f"{r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ''}", flush=True)
        return r.stdout

    stage("synth-data", "synth-data", "-o", data, "--speakers", str(a.speakers), "--utterances", str(a.utterances),
          "--faces", str(a.faces), "--seed", str(a.seed))
    stage("train-voice", "train-voice", "--voices", f"{data}/voices", "-o", encoder, "--widths", a.widths,
          "--steps", str(a.voice_steps), "--batch", str(a.batch), "--seed", str(a.seed), "--cache", cache, *threads)
    stage("train", "train", "--voices", f"{data}/voices", "--faces", f"{data}/faces", "--voice-encoder", encoder,
          "-o", model, "--arch", a.arch, "--widths", a.widths, "--steps", str(a.gan_steps), "--batch", str(a.batch),
          "--seed", str(a.seed), "--cache", cache, "--checkpoint-dir", os.path.join(work, "run"),
          "--checkpoint-every", str(max(a.gan_steps // 5, 1)), *threads,
          *(["--generator-sn", a.generator_sn] if a.generator_sn else []),
          *(["--generator-cbam", a.generator_cbam] if a.generator_cbam else []),
          *(["--cbam-gate", a.cbam_gate] if a.cbam_gate else []))
    result_json = os.path.join(work, "evaluate.json")
    out = stage("evaluate", "evaluate", "--model", model, "--voices", f"{data}/voices", "--faces", f"{data}/faces",
                "--cache", cache, "--json", result_json, "--grid", os.path.join(work, "evaluate.png"), *threads)
    result = json.load(open(result_json))
    result.update(stage_seconds=times, stage_cpu_seconds=cpu_times, total_seconds=sum(times.values()),
                  total_cpu_seconds=sum(cpu_times.values()), speakers=a.speakers, voice_steps=a.voice_steps,
                  gan_steps=a.gan_steps, batch=a.batch, widths=a.widths, arch=a.arch, seed=a.seed, threads=a.threads,
                  generator_sn=a.generator_sn or "default", generator_cbam=a.generator_cbam or "default")
    log = [json.loads(l) for l in open(os.path.join(work, "run", "train.jsonl"))]
    warnings = sorted({w for r in log for w in r.get("warnings", [])})
    result.update(health_warnings=warnings, final_losses=log[-1] if log else None)
    if warnings:
        print(f"training health warnings: {', '.join(warnings)}")
    print(out)
    print(f"total {result['total_seconds']:.0f} s; held-out top-1 {100 * result['top1']:.1f} % "
          f"vs chance {100 * result['chance_top1']:.1f} %; work folder {work}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    if a.install:
        import shutil
        shutil.copyfile(model, a.install)
        print(f"installed {a.install}")


if __name__ == "__main__":
    main()
