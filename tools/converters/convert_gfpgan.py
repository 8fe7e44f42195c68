#!/usr/bin/env python3
"""Converts a GFPGAN "clean" checkpoint (GFPGANv1Clean: v1.2, v1.3, v1.4) to a libavpgan enhancer.

    python3 tools/converters/convert_gfpgan.py CHECKPOINT.pth -o ENHANCER.safetensors [--no-input-is-latent]

CHECKPOINT is a torch.save file as released: {"params_ema": state_dict} (preferred when both
are present), {"params": state_dict}, or a bare state_dict; a leading "module." is stripped.
It is read without torch, by convert_face.py's restricted unpickler (no code from the file
runs). The configuration (size, num_style_feat, channel_multiplier, narrow, num_mlp,
different_w, sft_half) is inferred from the tensor shapes and every tensor is checked against
it; input_is_latent cannot be seen in the shapes and defaults to True, which is what GFPGAN's
own inference code (GFPGANer) uses for every clean checkpoint. The output follows
docs/enhancer-format.md (tools/converters/enhancer_file.py): upstream's names and shapes, F32.

On success one line: size, widths, parameter count, output path. On any problem one line to
stderr naming the key or shape, and exit status 2.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import convert_face as cf  # noqa: E402
import enhancer_file as ef  # noqa: E402

PROG = "convert_gfpgan.py"
WRAPPERS = ("params_ema", "params")


def read_state_dict(blob):
    """{name: numpy array} of a GFPGAN checkpoint's bytes (params_ema, params or bare)."""
    if blob[:4] == b"PK\x03\x04":
        obj, _ = cf._read_zip(blob)
    elif blob[:1] == b"\x80":
        obj, _ = cf._read_legacy(blob)
    else:
        raise cf.ConversionError("not a PyTorch checkpoint (neither a zip archive nor a legacy torch.save file)")
    if not isinstance(obj, dict) or not obj:
        raise cf.ConversionError(f"the checkpoint holds a {type(obj).__name__}, not a dict of tensors")
    if not all(isinstance(v, cf._TensorRef) for v in obj.values()):
        inner = next((k for k in WRAPPERS if isinstance(obj.get(k), dict)), None)
        if inner is None:
            keys = ", ".join(repr(k) for k in list(obj)[:5])
            raise cf.ConversionError(f"the checkpoint is neither a state dict nor a dict with 'params_ema' or 'params' "
                                     f"(its keys: {keys})")
        obj = obj[inner]
    bad = next((k for k, v in obj.items() if not isinstance(v, cf._TensorRef)), None)
    if bad is not None:
        raise cf.ConversionError(f"entry {bad!r} is a {type(obj[bad]).__name__}, not a tensor")
    if not all(isinstance(k, str) for k in obj):
        raise cf.ConversionError("the state dict has keys that are not strings")
    keys = list(obj)
    if keys and all(k.startswith("module.") for k in keys):
        keys = [k[len("module."):] for k in keys]
    return {k: cf._tensor_array(v) for k, v in zip(keys, obj.values())}


def convert(checkpoint, output, input_is_latent=True):
    """Converts; returns (config, parameter count). Raises ConversionError or EnhancerFileError."""
    with open(checkpoint, "rb") as f:
        blob = f.read()
    tensors = read_state_dict(blob)
    config = ef.infer_config(tensors, input_is_latent=input_is_latent)
    ef.write_enhancer(output, config, tensors)
    return config, sum(int(np.prod(s)) for _, s in ef.layout(config))


def main(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="GFPGAN .pth (params_ema, params or a bare state_dict)")
    parser.add_argument("-o", "--output", required=True, help="the enhancer .safetensors to write")
    parser.add_argument("--no-input-is-latent", action="store_true",
                        help="run the style code through the decoder's style MLP (GFPGANv1Clean's "
                             "constructor default; GFPGANer's checkpoints do not)")
    args = parser.parse_args(argv)
    try:
        config, count = convert(args.checkpoint, args.output, input_is_latent=not args.no_input_is_latent)
    except (cf.ConversionError, ef.EnhancerFileError, OSError) as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    print(f"{config.out_size} px, num_style_feat {config.num_style_feat}, channel_multiplier "
          f"{config.channel_multiplier:g}, narrow {config.narrow:g}, sft_half {config.sft_half}, "
          f"different_w {config.different_w}, {count} parameters -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
