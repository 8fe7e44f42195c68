"""Training recipes beyond the normative reference, built only from the reference's own modules.

The reference (`../shared/reference/avpgan_torch.py`) fixes where spectral norm and CBAM go: on
the stride-2 blocks of the generator AND of the face encoder (spectral norm: `avpgan`,
`avpgan-nocbam`; CBAM, its channel MLP reduced by 16: `avpgan`). libavpgan's trainer has three
more options (issue 11, docs/training-design.md "Why avpgan collapsed"):
- `generator_spectral_norm = False`: spectral norm on the face encoder only;
- `generator_cbam = False`: CBAM in the face encoder only;
- `cbam_reduction = r`: every CBAM's channel MLP has `max(C // r, 1)` hidden units.
This module builds those networks from the reference's classes (`Generator(sn=..., cbam=...)`,
`FaceEncoder`, the reference's `CBAM(channels, reduction=r)`, the same heads and voice encoder),
so no arithmetic is defined here: the reference defines every operation, and `gan_step` and
`adam` are the reference's.

    import reference_recipes
    ref = reference_recipes.with_recipe(convert_torch.load_reference(path), generator_cbam=False)
    nets = ref.build("avpgan", ref.TINY, identities)     # generator without CBAM
"""
import contextlib
import types

RECIPES = {
    "generator-sn-off": dict(generator_sn=False),
    "generator-cbam-off": dict(generator_cbam=False),
    "cbam-reduction-4": dict(cbam_reduction=4),
}
REFERENCE_CBAM_REDUCTION = 16


@contextlib.contextmanager
def _cbam_reduction(ref, reduction):
    """While active, the reference's networks build their CBAMs as `ref.CBAM(c, reduction)`
    (the reference's own class and its own `reduction` argument; the networks call it by name)."""
    original = ref.CBAM
    ref.CBAM = lambda channels: original(channels, reduction=reduction)
    try:
        yield
    finally:
        ref.CBAM = original


def with_recipe(ref, generator_sn=True, generator_cbam=True, cbam_reduction=REFERENCE_CBAM_REDUCTION):
    """A view of the reference module whose `build` applies the recipe; everything else is the
    reference's own (the same module objects). `recipe`: the options that differ from the
    reference, as the trainer's config names them."""
    view = types.SimpleNamespace(**{k: getattr(ref, k) for k in dir(ref) if not k.startswith("__")})

    def build(arch="avpgan", widths=ref.FULL, identities=10):
        o = ref.ARCHS[arch]
        with _cbam_reduction(ref, cbam_reduction):
            return dict(
                e=ref.VoiceEncoder(widths["voice"], widths["embed"]),
                g=ref.Generator(widths["gen"], widths["embed"], cbam=o["cbam"] and generator_cbam,
                                sn=o["sn"] and generator_sn),
                f=ref.FaceEncoder(widths["face"], widths["embed"], **o),
                d=ref.Head(widths["embed"], 1),
                c=ref.Head(widths["embed"], identities),
            )

    view.build = build
    recipe = dict(generator_spectral_norm=generator_sn, generator_cbam=generator_cbam, cbam_reduction=cbam_reduction)
    reference = dict(generator_spectral_norm=True, generator_cbam=True, cbam_reduction=REFERENCE_CBAM_REDUCTION)
    view.recipe = {k: v for k, v in recipe.items() if v != reference[k]}
    return view
