"""Training recipes beyond the normative reference, built only from the reference's own modules.

The reference (`../shared/reference/avpgan_torch.py`) fixes where spectral norm goes: on the
stride-2 layers of the generator AND of the face encoder (`avpgan`, `avpgan-nocbam`). libavpgan's
trainer has one more option (issue 11, docs/training-design.md "Why avpgan collapsed"):
`generator_spectral_norm = False`, spectral norm on the face encoder only. This module builds
those networks from the reference's classes (`Generator(sn=False)`, `FaceEncoder(sn=True)`, the
same CBAM, heads and voice encoder), so no arithmetic is defined here: the reference defines every
operation, and `gan_step` and `adam` are the reference's.

    import reference_recipes
    ref = reference_recipes.with_recipe(convert_torch.load_reference(path), generator_sn=False)
    nets = ref.build("avpgan", ref.TINY, identities)     # generator without spectral norm
"""
import types

RECIPES = {"generator-sn-off": dict(generator_sn=False)}


def with_recipe(ref, generator_sn=True):
    """A view of the reference module whose `build` applies the recipe; everything else is the
    reference's own (the same module objects)."""
    view = types.SimpleNamespace(**{k: getattr(ref, k) for k in dir(ref) if not k.startswith("__")})

    def build(arch="avpgan", widths=ref.FULL, identities=10):
        o = ref.ARCHS[arch]
        return dict(
            e=ref.VoiceEncoder(widths["voice"], widths["embed"]),
            g=ref.Generator(widths["gen"], widths["embed"], cbam=o["cbam"], sn=o["sn"] and generator_sn),
            f=ref.FaceEncoder(widths["face"], widths["embed"], **o),
            d=ref.Head(widths["embed"], 1),
            c=ref.Head(widths["embed"], identities),
        )

    view.build = build
    view.recipe = dict(generator_spectral_norm=generator_sn)
    return view
