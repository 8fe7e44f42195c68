#!/usr/bin/env python3
"""Makes the voice-encoder pre-training fixtures Tests/Fixtures/voice-training/ with torch.

    python3 tools/make_voice_training_golden.py [--reference ../shared/reference/avpgan_torch.py]
                                                [--out Tests/Fixtures/voice-training] [--verify] [--diagnose]

Needs torch (run by hand; the tests only read the files). Builds the reference VoiceEncoder at
TINY widths and a bias-free Linear speaker head on the time mean of `e.model(voice)` (before the
L2 normalisation, as Voice2Face's VoiceEmbedNet ends; see VoiceEncoderPretrainer.swift), then
runs STEPS Adam steps (lr 2e-4, betas (0.5, 0.999), eps 1e-8) of cross-entropy speaker
classification in train mode on fixed batches, one crop length per batch. Writes
  initial.safetensors   voice_encoder.* (model-file names) and speaker_head.weight before step 0
  steps.safetensors     inputs, losses, logits and gradients of step 0, weights and running stats after the
                        last step, Adam state of some tensors
(layout in Tests/Fixtures/voice-training/README.md). One thread, deterministic algorithms:
running it twice gives byte-identical files.

--verify reads the files back, replays the steps from initial.safetensors and checks that losses,
weights and Adam state come out bit-identical. --diagnose (when writing) also runs the same
steps in float64 and prints how far float32 lands from it (the scale of the Swift test's
tolerances).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import convert_torch  # noqa: E402
import safetensors_io  # noqa: E402

REPO_ROOT = convert_torch.REPO_ROOT
SEED = 7001
DATA_SEED = 7002
SPEAKERS = 5
BATCH = 4
FRAMES = (48, 37, 29)        # one crop length per batch; odd lengths exercise the padding
LR, BETAS, EPS = 2e-4, (0.5, 0.999), 1e-8
HEAD = "speaker_head.weight"
ADAM_STORED = ("voice_encoder.model.9.weight", "voice_encoder.model.10.weight", "voice_encoder.model.12.weight",
               "voice_encoder.model.12.bias", HEAD)


class Classifier:
    """The encoder and the head, with the loss of one batch."""

    def __init__(self, ref, torch):
        self.torch = torch
        torch.manual_seed(SEED)
        w = ref.TINY
        self.e = ref.VoiceEncoder(w["voice"], w["embed"])
        self.head = torch.nn.Linear(w["embed"], SPEAKERS, bias=False)
        # Non-trivial BatchNorm affine parameters and running statistics (default init has
        # weight 1, bias 0, mean 0, var 1, which would not test their use).
        g = torch.Generator().manual_seed(SEED + 1)
        with torch.no_grad():
            for m in self.e.model:
                if isinstance(m, torch.nn.BatchNorm1d):
                    m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                    m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
                    m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                    m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))

    def params(self):
        return list(self.e.parameters()) + list(self.head.parameters())

    def loss(self, voice, label):
        F = self.torch.nn.functional
        x = self.e.model(voice)
        h = F.avg_pool1d(x, x.size(2), stride=1).view(x.size(0), -1)
        logits = self.head(h)
        return F.cross_entropy(logits, label), logits

    def state(self):
        out = {"voice_encoder." + k: v.detach().cpu().numpy().copy() for k, v in self.e.state_dict().items()
               if not k.endswith("num_batches_tracked")}
        out[HEAD] = self.head.weight.detach().cpu().numpy().copy()
        return out

    def named(self):
        named = {"voice_encoder." + k: p for k, p in self.e.named_parameters()}
        named[HEAD] = self.head.weight
        return named


def make_inputs(torch):
    gen = torch.Generator().manual_seed(DATA_SEED)
    out = []
    for t in FRAMES:
        v = torch.randn(BATCH, 64, t, generator=gen)
        v = (v - v.mean(2, keepdim=True)) / (v.std(2, keepdim=True, unbiased=False) + torch.finfo(torch.float32).eps)
        out.append(dict(voice=v.contiguous(), label=torch.randint(0, SPEAKERS, (BATCH,), generator=gen).to(torch.int64)))
    return out


def run(model, inputs, torch):
    """STEPS Adam steps in train mode; returns (losses, logits of step 0, gradients of step 0, optimizer)."""
    opt = torch.optim.Adam(model.params(), lr=LR, betas=BETAS, eps=EPS)
    model.e.train()
    losses, logits0, grads0 = [], None, None
    for k, x in enumerate(inputs):
        opt.zero_grad()
        loss, logits = model.loss(x["voice"], x["label"])
        loss.backward()
        if k == 0:
            logits0 = logits.detach().numpy().copy()
            grads0 = {name: p.grad.detach().numpy().copy() for name, p in model.named().items()}
        opt.step()
        losses.append(loss.item())
    return losses, logits0, grads0, opt


def config_json():
    return json.dumps(dict(voice_widths=[32, 48, 64, 96], embed_dim=16, n_mels=64, speakers=SPEAKERS, batch=BATCH,
                           frames=list(FRAMES), optimizer="adam", lr=LR, betas=list(BETAS), eps=EPS,
                           head="Linear(embed, speakers, bias=False) on the time mean before L2 normalisation",
                           loss="F.cross_entropy", batch_norm="train mode, momentum 0.1"), sort_keys=True)


def write(ref, torch, outdir, diagnose):
    os.makedirs(outdir, exist_ok=True)
    model = Classifier(ref, torch)
    initial = model.state()
    inputs = make_inputs(torch)
    losses, logits0, grads0, opt = run(model, inputs, torch)
    meta = {"avpgan.voice_training_config": config_json()}
    safetensors_io.write(os.path.join(outdir, "initial.safetensors"), initial, meta)
    steps = {}
    for k, x in enumerate(inputs):
        steps[f"voice_{k}"] = x["voice"].numpy()
        steps[f"label_{k}"] = x["label"].numpy()
    steps["losses"] = np.array(losses, np.float32)
    steps["logits_0"] = logits0
    for name, v in grads0.items():
        steps["grad_0." + name] = v
    for name, v in model.state().items():
        steps["after." + name] = v
    named = model.named()
    for name in ADAM_STORED:
        s = opt.state[named[name]]
        steps[f"adam.{name}.exp_avg"] = s["exp_avg"].numpy().copy()
        steps[f"adam.{name}.exp_avg_sq"] = s["exp_avg_sq"].numpy().copy()
    safetensors_io.write(os.path.join(outdir, "steps.safetensors"), steps, meta)
    print("losses:", ", ".join(f"{v:.7f}" for v in losses))
    if diagnose:
        torch.set_default_dtype(torch.float64)
        m64 = Classifier(ref, torch)
        m64.e.double(); m64.head.double()
        with torch.no_grad():
            for name, p in m64.e.state_dict().items():
                if not name.endswith("num_batches_tracked"):
                    p.copy_(torch.from_numpy(initial["voice_encoder." + name]).double())
            m64.head.weight.copy_(torch.from_numpy(initial[HEAD]).double())
        in64 = [dict(voice=x["voice"].double(), label=x["label"]) for x in inputs]
        l64, _, _, _ = run(m64, in64, torch)
        torch.set_default_dtype(torch.float32)
        rel = max(abs(a - b) / abs(b) for a, b in zip(losses, l64))
        print(f"float32 vs float64: losses rel {rel:.2e}")
        s32, s64 = model.state(), m64.state()
        for name in s32:
            d = np.abs(s32[name].astype(np.float64) - s64[name])
            scale = np.maximum(np.abs(s64[name]), 1e-2)
            print(f"  {name}: max abs {d.max():.2e}, max rel (floor 1e-2) {(d / scale).max():.2e}")
    return losses


def verify(ref, torch, outdir):
    initial, _ = safetensors_io.read(os.path.join(outdir, "initial.safetensors"))
    steps, _ = safetensors_io.read(os.path.join(outdir, "steps.safetensors"))
    model = Classifier(ref, torch)
    with torch.no_grad():
        model.e.load_state_dict({k[len("voice_encoder."):]: torch.from_numpy(v) for k, v in initial.items() if k != HEAD},
                                strict=False)
        model.head.weight.copy_(torch.from_numpy(initial[HEAD]))
    inputs = [dict(voice=torch.from_numpy(steps[f"voice_{k}"]), label=torch.from_numpy(steps[f"label_{k}"]))
              for k in range(len(FRAMES))]
    losses, logits0, grads0, opt = run(model, inputs, torch)
    ok = np.array_equal(np.array(losses, np.float32), steps["losses"]) and np.array_equal(logits0, steps["logits_0"])
    for name, v in grads0.items():
        ok &= np.array_equal(v, steps["grad_0." + name])
    for name, v in model.state().items():
        ok &= np.array_equal(v, steps["after." + name])
    named = model.named()
    for name in ADAM_STORED:
        ok &= np.array_equal(opt.state[named[name]]["exp_avg"].numpy(), steps[f"adam.{name}.exp_avg"])
        ok &= np.array_equal(opt.state[named[name]]["exp_avg_sq"].numpy(), steps[f"adam.{name}.exp_avg_sq"])
    print("replay bit-identical:", bool(ok))
    return ok


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", default=convert_torch.DEFAULT_REFERENCE)
    p.add_argument("--out", default=os.path.join(REPO_ROOT, "Tests", "Fixtures", "voice-training"))
    p.add_argument("--verify", action="store_true")
    p.add_argument("--diagnose", action="store_true")
    a = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    ref = convert_torch.load_reference(a.reference)
    if a.verify:
        return 0 if verify(ref, torch, a.out) else 1
    write(ref, torch, a.out, a.diagnose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
