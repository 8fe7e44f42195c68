#!/usr/bin/env python3
"""Inference parity for a training recipe: the reference generator's faces from a recipe fixture.

    /work/torchenv/bin/python tools/make_recipe_generator_golden.py --recipe cbam-residual [--verify]

Needs torch (run by hand; the tests only read the file). Builds avpgan with the recipe from the
reference's own modules (tools/reference_recipes.py), loads the generator of
Tests/Fixtures/training/avpgan.<recipe>/initial.safetensors (tools/make_training_golden.py), puts
it in eval mode (spectral norm from the stored u, v, no power iteration: what an exported model
holds) and writes avpgan.<recipe>/generator.safetensors:
  embeddings  [N, E] float32, unit vectors (seed EMBEDDING_SEED)
  images      [N, 3, S, S] float32, the reference generator's output for them
Metadata: avpgan.recipe, torch, generator. --verify recomputes the images and checks they are
bit-identical to the file's. Running it twice gives byte-identical files.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import convert_torch  # noqa: E402
import reference_recipes  # noqa: E402
import safetensors_io  # noqa: E402

EMBEDDING_SEED = 7001
COUNT = 3


def generator_images(ref, torch, fixture):
    """(embeddings, images, recipe metadata) of the fixture's initial generator in eval mode."""
    init, meta = safetensors_io.read(os.path.join(fixture, "initial.safetensors"))
    cfg = json.loads(meta["avpgan.training_config"])
    widths = dict(voice=tuple(cfg["widths"]["voice"]), gen=tuple(cfg["widths"]["gen"]),
                  face=tuple(cfg["widths"]["face"]), embed=cfg["embed"])
    torch.manual_seed(12345)  # any: every generator tensor is loaded from the file
    g = ref.build(meta["avpgan.arch"], widths, cfg["identities"])["g"]
    state = {n[len("generator."):]: torch.from_numpy(a) for n, a in init.items() if n.startswith("generator.")}
    g.load_state_dict(state, strict=True)
    g.eval()
    gen = torch.Generator().manual_seed(EMBEDDING_SEED)
    e = cfg["embed"]
    z = torch.nn.functional.normalize(torch.randn(COUNT, e, generator=gen))
    with torch.no_grad():
        images = g(z.view(COUNT, e, 1, 1))
    return z.numpy().copy(), images.numpy().copy(), meta["avpgan.recipe"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", default=convert_torch.DEFAULT_REFERENCE)
    p.add_argument("--recipe", required=True, choices=sorted(reference_recipes.RECIPES))
    p.add_argument("--fixtures", default=os.path.join(convert_torch.REPO_ROOT, "Tests", "Fixtures", "training"))
    p.add_argument("--verify", action="store_true", help="check the written file instead of writing it")
    a = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    ref = reference_recipes.with_recipe(convert_torch.load_reference(a.reference), **reference_recipes.RECIPES[a.recipe])
    fixture = os.path.join(a.fixtures, "avpgan." + a.recipe)
    path = os.path.join(fixture, "generator.safetensors")
    embeddings, images, recipe = generator_images(ref, torch, fixture)
    if json.loads(recipe) != ref.recipe:
        sys.exit(f"{fixture}: its recipe {recipe} is not --recipe {a.recipe}'s {ref.recipe}")
    if a.verify:
        back, _ = safetensors_io.read(path)
        same = np.array_equal(back["embeddings"], embeddings) and np.array_equal(back["images"], images)
        print(f"verify {path}: {'bit-identical' if same else 'DIFFERS'}")
        return 0 if same else 1
    safetensors_io.write(path, {"embeddings": embeddings, "images": images},
                         {"avpgan.recipe": recipe, "torch": torch.__version__,
                          "generator": "tools/make_recipe_generator_golden.py"})
    print(f"{os.path.relpath(path, convert_torch.REPO_ROOT)}: {COUNT} faces, image std {images.std():.3g}, "
          f"spread across embeddings {images.std(0).mean():.3g}, {os.path.getsize(path)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
