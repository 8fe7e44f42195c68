"""Training recipes beyond the normative reference, built only from the reference's own modules.

The reference (`../shared/reference/avpgan_torch.py`) fixes where spectral norm and CBAM go: on
the stride-2 blocks of the generator AND of the face encoder (spectral norm: `avpgan`,
`avpgan-nocbam`; CBAM, its channel MLP reduced by 16: `avpgan`). libavpgan's trainer has three
more options (issue 11, docs/training-design.md "Why avpgan collapsed"):
- `generator_spectral_norm = False`: spectral norm on the face encoder only;
- `generator_cbam = False`: CBAM in the face encoder only;
- `cbam_reduction = r`: every CBAM's channel MLP has `max(C // r, 1)` hidden units;
- `cbam_gate = "residual"`: every CBAM gates as residual attention (Wang et al. 2017),
  `x' = x (1 + Mc(x))`, `y = x' (1 + Ms(x'))`, instead of the reference's `x' = x Mc(x)`,
  `y = x' Ms(x')` (`"sigmoid"`).
This module builds those networks from the reference's classes (`Generator(sn=..., cbam=...)`,
`FaceEncoder`, the reference's `CBAM(channels, reduction=r)`, the same heads and voice encoder),
so no arithmetic is defined here except the residual gate's `1 +` (`ResidualCBAM`, a subclass of
the reference's CBAM that keeps its modules, parameters and pooling): the reference defines every
other operation, and `gan_step` and `adam` are the reference's.

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
    "cbam-residual": dict(cbam_gate="residual"),
}
REFERENCE_CBAM_REDUCTION = 16
CBAM_GATES = ("sigmoid", "residual")


def residual_cbam_class(ref):
    """The reference's CBAM with the residual gate: the same submodules (`mlp`, `spatial`) and
    state-dict keys, forward `x' = x * (1 + sigmoid(channel))`, `y = x' * (1 + sigmoid(spatial))`
    with the channel and spatial pre-activations exactly as the reference's forward makes them."""
    torch, F = ref.torch, ref.F

    class ResidualCBAM(ref.CBAM):
        def forward(self, x):
            gate = self.mlp(F.adaptive_avg_pool2d(x, 1)) + self.mlp(F.adaptive_max_pool2d(x, 1))
            x = x * (1 + torch.sigmoid(gate))
            pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
            return x * (1 + torch.sigmoid(self.spatial(pooled)))

    return ResidualCBAM


@contextlib.contextmanager
def _cbam(ref, reduction, gate):
    """While active, the reference's networks build their CBAMs as `ref.CBAM(c, reduction)`
    (the reference's own class and its own `reduction` argument; the networks call it by name),
    or as its residual-gate subclass when `gate` is "residual"."""
    if gate not in CBAM_GATES:
        raise ValueError(f"cbam_gate {gate!r} is not one of {CBAM_GATES}")
    original = ref.CBAM
    cls = residual_cbam_class(ref) if gate == "residual" else original
    ref.CBAM = lambda channels: cls(channels, reduction=reduction)
    try:
        yield
    finally:
        ref.CBAM = original


def with_recipe(ref, generator_sn=True, generator_cbam=True, cbam_reduction=REFERENCE_CBAM_REDUCTION, cbam_gate="sigmoid"):
    """A view of the reference module whose `build` applies the recipe; everything else is the
    reference's own (the same module objects). `recipe`: the options that differ from the
    reference, as the trainer's config names them."""
    view = types.SimpleNamespace(**{k: getattr(ref, k) for k in dir(ref) if not k.startswith("__")})

    def build(arch="avpgan", widths=ref.FULL, identities=10):
        o = ref.ARCHS[arch]
        with _cbam(ref, cbam_reduction, cbam_gate):
            return dict(
                e=ref.VoiceEncoder(widths["voice"], widths["embed"]),
                g=ref.Generator(widths["gen"], widths["embed"], cbam=o["cbam"] and generator_cbam,
                                sn=o["sn"] and generator_sn),
                f=ref.FaceEncoder(widths["face"], widths["embed"], **o),
                d=ref.Head(widths["embed"], 1),
                c=ref.Head(widths["embed"], identities),
            )

    view.build = build
    recipe = dict(generator_spectral_norm=generator_sn, generator_cbam=generator_cbam, cbam_reduction=cbam_reduction,
                  cbam_gate=cbam_gate)
    reference = dict(generator_spectral_norm=True, generator_cbam=True, cbam_reduction=REFERENCE_CBAM_REDUCTION,
                     cbam_gate="sigmoid")
    view.recipe = {k: v for k, v in recipe.items() if v != reference[k]}
    return view
