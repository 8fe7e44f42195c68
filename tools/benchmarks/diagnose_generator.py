"""Can the generator make faces that depend on the voice? (issue 11; needs torch)

Separates the generator from the GAN game, with the reference's own modules
(`../shared/reference/avpgan_torch.py`, and tools/fixtures/reference_recipes.py for its recipes: spectral
norm on the face encoder only, CBAM's channel MLP reduced by 4 or 1 instead of 16, CBAM's
residual gate `x (1 + M(x))`):

1. **Signal at initialisation.** For each architecture (and recipe), torch default init, u/v
   power-iterated (20 train-mode passes), 16 random unit embeddings: after each layer, the mean
   |activation| and the mean over units of the standard deviation across the 16 embeddings (how
   much of the input still shows). A generator whose output spread is ~0 makes the same face for
   every voice, and the G step's classifier gradient then cancels across the batch.
2. **Supervised capacity under the training optimiser.** The generator alone, trained in train
   mode with the recipe's Adam (lr 2e-4, betas 0.5, 0.999) to map each of `--identities` random
   unit embeddings (plus 0.05 noise, re-normalised, as gan_step) to its own random smooth
   target face, batch 32, `--steps` steps. Reports the fraction of the targets' between-identity
   variance that the outputs explain (1: every identity's face; 0: the mean face for all).

    /work/torchenv/bin/python tools/benchmarks/diagnose_generator.py [--widths tiny|full] [--steps 600]
                                                        [--only "avpgan, cbam_gate=residual;voice2face"]
"""
import argparse, os, sys

sys.path[:0] = [os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), room) for room in ("converters", "fixtures", "benchmarks")]
import convert_torch  # noqa: E402
import reference_recipes  # noqa: E402

# (architecture, recipe options of tools/fixtures/reference_recipes.py). avpgan with generator_cbam off
# has avpgan-nocbam's generator, so it is not listed separately.
VARIANTS = [("voice2face", {}), ("avpgan", {}), ("avpgan", dict(generator_sn=False)), ("avpgan", dict(cbam_reduction=4)),
            ("avpgan", dict(cbam_reduction=1)), ("avpgan", dict(cbam_gate="residual")),
            ("avpgan-nocbam", {}), ("avpgan-nocbam", dict(generator_sn=False))]


def label(arch, recipe):
    return ", ".join([arch] + [f"{k}={v}" for k, v in recipe.items()])


def generator(ref, arch, recipe, widths, torch, seed):
    torch.manual_seed(seed)
    return reference_recipes.with_recipe(ref, **recipe).build(arch, widths, 4)["g"]


def signal(ref, widths, torch, variants):
    F = torch.nn.functional
    print("1. signal at initialisation: after each layer, mean |x| / mean std across 16 embeddings")
    for arch, recipe in variants:
        g = generator(ref, arch, recipe, widths, torch, 1)
        e = widths["embed"]
        z = F.normalize(torch.randn(16, e)).view(16, e, 1, 1)
        g.train()
        with torch.no_grad():
            for _ in range(20):
                g(z)
            x, cells = z, []
            for m in g.model:
                x = m(x)
                if not isinstance(m, torch.nn.ReLU):
                    cells.append(f"{type(m).__name__.replace('ConvTranspose2d', 'convT')} {x.abs().mean():.1e}/{x.std(0).mean():.1e}")
        print(f"  {label(arch, recipe):32s} " + "  ".join(cells))


def capacity(ref, widths, torch, steps, identities, seeds, variants):
    F = torch.nn.functional
    print(f"2. supervised capacity: explained between-identity variance after {steps} Adam steps "
          f"(lr 2e-4, betas 0.5/0.999, batch 32, {identities} identities), per seed")
    e = widths["embed"]
    for arch, recipe in variants:
        scores = []
        for seed in seeds:
            gen = torch.Generator().manual_seed(100 + seed)
            codes = F.normalize(torch.randn(identities, e, generator=gen))
            low = torch.rand(identities, 3, 8, 8, generator=gen) * 2 - 1
            targets = F.interpolate(low, size=64, mode="bilinear", align_corners=False)
            g = generator(ref, arch, recipe, widths, torch, seed)
            g.train()
            opt = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
            for _ in range(steps):
                idx = torch.randint(identities, (32,), generator=gen)
                z = F.normalize(codes[idx] + 0.05 * torch.randn(32, e, generator=gen)).view(32, e, 1, 1)
                loss = F.mse_loss(g(z), targets[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            g.eval()
            with torch.no_grad():
                out = g(codes.view(identities, e, 1, 1))
            between = ((targets - targets.mean(0)) ** 2).sum()
            residual = ((out - out.mean(0) - (targets - targets.mean(0))) ** 2).sum()
            scores.append(float(1 - residual / between))
        print(f"  {label(arch, recipe):32s} " + "  ".join(f"{s:6.3f}" for s in scores))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", default=convert_torch.DEFAULT_REFERENCE)
    p.add_argument("--widths", default="tiny", choices=["tiny", "full"])
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--identities", type=int, default=24)
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--only", default="", help="labels as printed, separated by ';' (e.g. 'avpgan, cbam_gate=residual;voice2face'):"
                   " measure only these variants")
    a = p.parse_args()
    wanted = [w.strip() for w in a.only.split(";") if w.strip()] if a.only else []
    variants = [v for v in VARIANTS if not wanted or label(*v) in wanted]
    if not variants:
        p.error(f"--only {a.only!r} names none of {[label(*v) for v in VARIANTS]}")
    import torch
    torch.set_num_threads(a.threads)
    ref = convert_torch.load_reference(a.reference)
    widths = ref.TINY if a.widths == "tiny" else ref.FULL
    signal(ref, widths, torch, variants)
    if a.steps > 0:
        capacity(ref, widths, torch, a.steps, a.identities, [int(s) for s in a.seeds.split(",")], variants)


if __name__ == "__main__":
    main()
