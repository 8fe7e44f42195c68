"""Tests of the avpgan Python bindings against the built library and the
golden fixtures (Tests/Fixtures/golden/<arch>/golden.safetensors)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
import pytest

from conftest import n_recordings, read_header

EMBED_ATOL = 1e-4
IMAGE_ATOL = 1e-3
#: generate() may differ from the golden pixels by 1 on at most this many
#: values (float rounding right at a .5 boundary); never by more than 1.
MAX_OFF_BY_ONE = 8
#: a single embedding vs the same row in a batch (float rounding only).
BATCH_ATOL = 1e-4


def model_config(path: Path) -> Tuple[Dict, Dict[str, str], Dict]:
    tensors, meta = read_header(path)
    return json.loads(meta["avpgan.config"]), meta, tensors


def assert_pixels_match(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.dtype == np.uint8, f"{what}: dtype {got.dtype}, want uint8"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    worst = int(diff.max()) if diff.size else 0
    off = int(np.count_nonzero(diff))
    assert worst <= 1, (
        f"{what}: pixels differ by up to {worst} (at {np.unravel_index(int(diff.argmax()), diff.shape)}); "
        f"{off} of {diff.size} values differ"
    )
    assert off <= MAX_OFF_BY_ONE, f"{what}: {off} of {diff.size} values differ by 1 (allowed {MAX_OFF_BY_ONE})"


# --------------------------------------------------------------------------
# Golden values
# --------------------------------------------------------------------------


def test_embeddings_match_golden(case):
    arch, path, golden = case
    import avpgan

    with avpgan.Model(path) as model:
        for k in range(n_recordings(golden)):
            feats = golden[f"features_{k}"]
            want = golden[f"embedding_{k}"]
            got = model.embed(feats)
            assert got.dtype == np.float32 and got.shape == want.shape, (
                f"{arch}/{path.name}: embedding_{k} has dtype {got.dtype} shape {got.shape}, "
                f"want float32 {want.shape}"
            )
            err = float(np.max(np.abs(got - want)))
            assert err <= EMBED_ATOL, f"{arch}/{path.name}: embedding_{k} differs by {err:.3g} (> {EMBED_ATOL})"
            norm = float(np.linalg.norm(got))
            assert abs(norm - 1.0) < 1e-4, f"{arch}/{path.name}: embedding_{k} has norm {norm}, want 1"


def test_raw_images_match_golden(case):
    arch, path, golden = case
    import avpgan

    with avpgan.Model(path) as model:
        emb = golden["gen_input"]
        want = golden["images"]
        got = model.generate_raw(emb)
        assert got.dtype == np.float32 and got.shape == want.shape, (
            f"{arch}/{path.name}: generate_raw gave dtype {got.dtype} shape {got.shape}, want float32 {want.shape}"
        )
        err = np.abs(got - want)
        worst = float(err.max())
        assert worst <= IMAGE_ATOL, (
            f"{arch}/{path.name}: raw images differ by up to {worst:.3g} (> {IMAGE_ATOL}) at "
            f"{np.unravel_index(int(err.argmax()), err.shape)}; {int((err > IMAGE_ATOL).sum())} values over"
        )
        # A single 1-D embedding gives one image without the batch dimension.
        # (Equal to the batch row up to float rounding: the library does not
        # promise results independent of the batch size.)
        one = model.generate_raw(emb[2])
        assert one.shape == want.shape[1:], f"{arch}: generate_raw(1-D) shape {one.shape}, want {want.shape[1:]}"
        d = float(np.max(np.abs(one - got[2])))
        assert d <= BATCH_ATOL, f"{arch}: generate_raw(1-D) differs from row 2 of the batch by {d:.3g}"


def test_pixels_match_golden(case):
    arch, path, golden = case
    import avpgan

    with avpgan.Model(path) as model:
        emb = golden["gen_input"]
        clamp = model.generate(emb, pixels="clamp")
        assert_pixels_match(clamp, golden["pixels_clamp"], f"{arch}/{path.name} pixels='clamp'")
        minmax = model.generate(emb, pixels="minmax")
        assert_pixels_match(minmax, golden["pixels_minmax"], f"{arch}/{path.name} pixels='minmax'")
        assert np.array_equal(model.generate(emb, pixels=avpgan.Pixels.CLAMP), clamp), (
            f"{arch}: pixels=Pixels.CLAMP differs from pixels='clamp'"
        )

        default = model.generate(emb)
        want_default = clamp if model.info.default_pixels == "clamp" else minmax
        assert np.array_equal(default, want_default), (
            f"{arch}: generate() with the model default ({model.info.default_pixels}) differs from "
            f"pixels={model.info.default_pixels!r}"
        )
        one = model.generate(emb[0], pixels="clamp")
        assert one.shape == clamp.shape[1:], f"{arch}: generate(1-D) shape {one.shape}, want {clamp.shape[1:]}"
        assert_pixels_match(one, clamp[0], f"{arch}: generate(1-D) vs row 0 of the batch")


# --------------------------------------------------------------------------
# Info
# --------------------------------------------------------------------------


def test_info(case):
    arch, path, golden = case
    import avpgan

    config, meta, tensors = model_config(path)
    with avpgan.Model(path) as model:
        info = model.info
    assert isinstance(info, avpgan.ModelInfo), f"info is a {type(info).__name__}"
    assert info.arch == arch, f"info.arch {info.arch!r}, want {arch!r}"
    assert info.format_version == int(meta["avpgan.format"]), (
        f"info.format_version {info.format_version}, file says {meta['avpgan.format']}"
    )
    assert info.n_mels == config["n_mels"] == golden["features_0"].shape[1], (
        f"info.n_mels {info.n_mels}, config {config['n_mels']}, features {golden['features_0'].shape}"
    )
    assert info.embed_dim == config["embed_dim"] == golden["embedding_0"].shape[0], (
        f"info.embed_dim {info.embed_dim}, config {config['embed_dim']}"
    )
    assert info.image_size == config["image_size"] == golden["images"].shape[-1], (
        f"info.image_size {info.image_size}, config {config['image_size']}"
    )
    assert info.image_channels == 3, f"info.image_channels {info.image_channels}, want 3"
    assert info.voice_widths == tuple(config["voice_widths"]), (
        f"info.voice_widths {info.voice_widths}, config {config['voice_widths']}"
    )
    assert info.generator_widths == tuple(config["generator_widths"]), (
        f"info.generator_widths {info.generator_widths}, config {config['generator_widths']}"
    )
    assert info.face_widths == (), f"inference_only model has face_widths {info.face_widths}"
    assert info.n_identities == 0, f"inference_only model has n_identities {info.n_identities}"
    assert info.default_pixels == config.get("pixels", "clamp"), (
        f"info.default_pixels {info.default_pixels!r}, config {config.get('pixels')!r}"
    )
    if config.get("spectral_norm", "folded") != "stored":
        want = sum(
            int(np.prod(e["shape"], dtype=np.int64))
            for name, e in tensors.items()
            if name.split(".", 1)[0] in ("voice_encoder", "generator")
        )
        assert info.n_parameters == want, (
            f"info.n_parameters {info.n_parameters}, the voice_encoder + generator tensors hold {want}"
        )
    else:
        assert info.n_parameters > 0, f"info.n_parameters {info.n_parameters}"
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.arch = "x"  # type: ignore[misc]


def test_info_full_load(case):
    arch, path, _ = case
    import avpgan

    config, _, _ = model_config(path)
    networks = config["networks"]
    with avpgan.Model(path, inference_only=False) as full, avpgan.Model(path) as small:
        info = full.info
        want_face = tuple(config["face_widths"]) if "face_encoder" in networks else ()
        assert info.face_widths == want_face, f"{arch}: full load face_widths {info.face_widths}, want {want_face}"
        want_ids = int(config["identities"]) if "classifier" in networks else 0
        assert info.n_identities == want_ids, f"{arch}: full load n_identities {info.n_identities}, want {want_ids}"
        if len(networks) > 2:
            assert info.n_parameters > small.info.n_parameters, (
                f"{arch}: full load n_parameters {info.n_parameters} not above inference-only "
                f"{small.info.n_parameters} though the file has {networks}"
            )
        emb = np.ones(info.embed_dim, np.float32) / np.sqrt(info.embed_dim)
        assert np.array_equal(full.generate_raw(emb), small.generate_raw(emb)), (
            f"{arch}: inference_only=False changes the generator output"
        )


def test_version_and_threads(avpgan_module):
    avpgan = avpgan_module
    v = avpgan.version()
    assert v.count(".") == 2 and all(p.isdigit() for p in v.split(".")), f"version() = {v!r}"
    major, minor, patch = (int(p) for p in v.split("."))
    assert avpgan.version_number() == major * 10000 + minor * 100 + patch, (
        f"version_number() {avpgan.version_number()} disagrees with version() {v}"
    )
    before = avpgan.get_num_threads()
    assert before >= 1, f"get_num_threads() = {before}"
    try:
        avpgan.set_num_threads(2)
        assert avpgan.get_num_threads() == 2, f"after set_num_threads(2), get_num_threads() = {avpgan.get_num_threads()}"
        avpgan.set_num_threads(0)
        assert avpgan.get_num_threads() >= 1, f"after set_num_threads(0), get_num_threads() = {avpgan.get_num_threads()}"
        with pytest.raises(ValueError):
            avpgan.set_num_threads(-1)
    finally:
        avpgan.set_num_threads(before)
    for code in avpgan.Status:
        assert avpgan.status_string(code), f"status_string({code.name}) is empty"
