"""The layout of an enhancer file (docs/enhancer-format.md) and its writer, on numpy alone.

    EnhancerConfig(out_size, ...)          the constructor arguments of upstream GFPGANv1Clean
    layout(config)   -> [(tensor name, shape), ...]: upstream's state_dict names and shapes
    infer_config(tensors, input_is_latent) -> the config a state dict's shapes imply
    check_tensors(config, tensors)         -> raises EnhancerFileError naming the key or shape
    write_enhancer(path, config, tensors)

The widths follow upstream's channel table (gfpgan/archs/gfpganv1_clean_arch.py): int(512 n)
up to 32 px, then int(256 m n), int(128 m n), ... halving per octave, with n = narrow for the
StyleGAN2 decoder and narrow * 0.5 for the U-Net, m = channel_multiplier. The Swift reader
(Sources/AVPGANCore/Enhancement/EnhancerLayout.swift) computes the same list.
"""
import dataclasses
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import safetensors_io  # noqa: E402

ARCH = "gfpgan-v1-clean"
SIZES = tuple(2 ** k for k in range(5, 11))


class EnhancerFileError(ValueError):
    """A state dict or config that is not a GFPGANv1Clean network; the message names the cause."""


@dataclasses.dataclass(frozen=True)
class EnhancerConfig:
    out_size: int
    num_style_feat: int = 512
    channel_multiplier: float = 2
    narrow: float = 1
    num_mlp: int = 8
    different_w: bool = True
    sft_half: bool = True
    input_is_latent: bool = True

    @property
    def log_size(self):
        return int(math.log2(self.out_size))

    @property
    def levels(self):
        return [2 ** i for i in range(3, self.log_size + 1)]

    @property
    def num_latent(self):
        return 2 * self.log_size - 2

    def _channels(self, r, n):
        m = self.channel_multiplier
        table = {4: 512 * n, 8: 512 * n, 16: 512 * n, 32: 512 * n, 64: 256 * m * n, 128: 128 * m * n,
                 256: 64 * m * n, 512: 32 * m * n, 1024: 16 * m * n}
        return int(table[r])

    def decoder(self, r):
        return self._channels(r, self.narrow)

    def unet(self, r):
        return self._channels(r, self.narrow * 0.5)

    def condition(self, r):
        return self.unet(r) if self.sft_half else 2 * self.unet(r)

    def metadata(self):
        config = {"kind": "enhancer", "out_size": self.out_size, "num_style_feat": self.num_style_feat,
                  "channel_multiplier": float(self.channel_multiplier), "narrow": float(self.narrow),
                  "num_mlp": self.num_mlp, "different_w": self.different_w, "sft_half": self.sft_half,
                  "input_is_latent": self.input_is_latent}
        return safetensors_io.avpgan_metadata(ARCH, config)


def layout(c):
    """[(name, shape)] of every tensor, in upstream's state_dict order."""
    out = []

    def conv(name, o, i, k, bias=True):
        out.append((f"{name}.weight", (o, i, k, k)))
        if bias:
            out.append((f"{name}.bias", (o,)))

    u, d, s = c.unet, c.decoder, c.num_style_feat
    conv("conv_body_first", u(c.out_size), 3, 1)
    for j, r in enumerate(reversed(c.levels)):
        conv(f"conv_body_down.{j}.conv1", u(r), u(r), 3)
        conv(f"conv_body_down.{j}.conv2", u(r // 2), u(r), 3)
        conv(f"conv_body_down.{j}.skip", u(r // 2), u(r), 1, bias=False)
    conv("final_conv", u(4), u(4), 3)
    for j, r in enumerate(c.levels):
        conv(f"conv_body_up.{j}.conv1", u(r // 2), u(r // 2), 3)
        conv(f"conv_body_up.{j}.conv2", u(r), u(r // 2), 3)
        conv(f"conv_body_up.{j}.skip", u(r), u(r // 2), 1, bias=False)
    for j, r in enumerate(c.levels):
        conv(f"toRGB.{j}", 3, u(r), 1)
    code = c.num_latent * s if c.different_w else s
    out += [("final_linear.weight", (code, u(4) * 16)), ("final_linear.bias", (code,))]
    p = "stylegan_decoder"
    for k in range(c.num_mlp):
        out += [(f"{p}.style_mlp.{2 * k + 1}.weight", (s, s)), (f"{p}.style_mlp.{2 * k + 1}.bias", (s,))]
    out.append((f"{p}.constant_input.weight", (1, d(4), 4, 4)))

    def modulated(name, i, o, k):
        out.extend([(f"{name}.modulated_conv.weight", (1, o, i, k, k)),
                    (f"{name}.modulated_conv.modulation.weight", (i, s)),
                    (f"{name}.modulated_conv.modulation.bias", (i,))])

    def style_conv(name, i, o):
        out.extend([(f"{name}.weight", (1,)), (f"{name}.bias", (1, o, 1, 1))])
        modulated(name, i, o, 3)

    def to_rgb(name, i):
        out.append((f"{name}.bias", (1, 3, 1, 1)))
        modulated(name, i, 3, 1)

    style_conv(f"{p}.style_conv1", d(4), d(4))
    to_rgb(f"{p}.to_rgb1", d(4))
    for j, r in enumerate(c.levels):
        style_conv(f"{p}.style_convs.{2 * j}", d(r // 2), d(r))
        style_conv(f"{p}.style_convs.{2 * j + 1}", d(r), d(r))
    for j, r in enumerate(c.levels):
        to_rgb(f"{p}.to_rgbs.{j}", d(r))
    for i in range(2 * c.log_size - 3):
        side = 2 ** ((i + 5) // 2)
        out.append((f"{p}.noises.noise{i}", (1, 1, side, side)))
    for name in ("condition_scale", "condition_shift"):
        for j, r in enumerate(c.levels):
            conv(f"{name}.{j}.0", u(r), u(r), 3)
            conv(f"{name}.{j}.2", c.condition(r), u(r), 3)
    return out


def _shape(tensors, key):
    if key not in tensors:
        raise EnhancerFileError(f"tensor {key!r} is missing: not a GFPGANv1Clean state dict")
    return tuple(int(n) for n in np.shape(tensors[key]))


def infer_config(tensors, input_is_latent=True):
    """The GFPGANv1Clean config whose state dict has these shapes (input_is_latent cannot be
    seen in the shapes: GFPGAN's inference code sets it for every clean checkpoint)."""
    down = sum(1 for k in tensors if k.startswith("conv_body_down.") and k.endswith(".conv1.weight"))
    out_size = 2 ** (down + 2)
    if out_size not in SIZES:
        raise EnhancerFileError(f"the state dict has {down} conv_body_down blocks, i.e. a {out_size} px network; "
                                f"sizes {SIZES[0]}..{SIZES[-1]} px are supported")
    style = _shape(tensors, "stylegan_decoder.style_conv1.modulated_conv.modulation.weight")
    if len(style) != 2:
        raise EnhancerFileError(f"tensor 'stylegan_decoder.style_conv1.modulated_conv.modulation.weight' has shape {style}, expected 2 dimensions")
    constant = _shape(tensors, "stylegan_decoder.constant_input.weight")
    if len(constant) != 4 or constant[1] < 1:
        raise EnhancerFileError(f"tensor 'stylegan_decoder.constant_input.weight' has shape {constant}, expected (1, C, 4, 4)")
    narrow = constant[1] / 512
    multiplier = 1.0
    if out_size >= 64:
        key = "stylegan_decoder.style_convs.6.modulated_conv.weight"  # the 64 px level
        shape = _shape(tensors, key)
        if len(shape) != 5:
            raise EnhancerFileError(f"tensor {key!r} has shape {shape}, expected 5 dimensions")
        multiplier = shape[1] / (256 * narrow)
    num_mlp = sum(1 for k in tensors if k.startswith("stylegan_decoder.style_mlp.") and k.endswith(".weight"))
    base = EnhancerConfig(out_size, style[1], multiplier, narrow, num_mlp, True, True, input_is_latent)
    code = _shape(tensors, "final_linear.weight")[0]
    if code == base.num_latent * base.num_style_feat:
        different_w = True
    elif code == base.num_style_feat:
        different_w = False
    else:
        raise EnhancerFileError(f"tensor 'final_linear.weight' has {code} rows; a {out_size} px network with "
                                f"num_style_feat {style[1]} has {base.num_latent * style[1]} (different_w) or {style[1]}")
    sft = _shape(tensors, "condition_scale.0.2.weight")[0]
    if sft == base.unet(8):
        sft_half = True
    elif sft == 2 * base.unet(8):
        sft_half = False
    else:
        raise EnhancerFileError(f"tensor 'condition_scale.0.2.weight' has {sft} output channels; expected "
                                f"{base.unet(8)} (sft_half) or {2 * base.unet(8)}")
    config = dataclasses.replace(base, different_w=different_w, sft_half=sft_half)
    check_tensors(config, tensors)
    return config


def check_tensors(config, tensors):
    """Exactly the layout's tensors, each with its shape, floating point and finite."""
    expected = layout(config)
    names = {n for n, _ in expected}
    for name, shape in expected:
        got = _shape(tensors, name)
        if got != tuple(shape):
            raise EnhancerFileError(f"tensor {name!r} has shape {got}, but the inferred config "
                                    f"({config.out_size} px, narrow {config.narrow:g}, channel_multiplier "
                                    f"{config.channel_multiplier:g}) implies {tuple(shape)}")
        a = np.asarray(tensors[name])
        if a.dtype.kind != "f":
            raise EnhancerFileError(f"tensor {name!r} has dtype {a.dtype}, expected floating point")
        if not np.all(np.isfinite(a)):
            raise EnhancerFileError(f"tensor {name!r} holds a non-finite value")
    extra = [k for k in tensors if k not in names]
    if extra:
        raise EnhancerFileError(f"tensor {extra[0]!r} is not part of a GFPGANv1Clean network "
                                f"({len(extra)} unexpected key(s))")
    for r in config.levels:
        modulated = config.decoder(r) - (config.decoder(r) // 2 if config.sft_half else 0)
        if modulated != config.condition(r):
            raise EnhancerFileError(f"at {r} px CS-SFT modulates {modulated} decoder channels but the conditions have {config.condition(r)}")


def write_enhancer(path, config, tensors):
    """Writes the tensors (any float dtype) as F32 in layout order with the config's metadata."""
    check_tensors(config, tensors)
    ordered = {name: np.ascontiguousarray(np.asarray(tensors[name], dtype=np.float32)) for name, _ in layout(config)}
    safetensors_io.write(path, ordered, metadata=config.metadata())
