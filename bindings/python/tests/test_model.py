"""Tests of the avpgan Python bindings against the built library and the
golden fixtures (Tests/Fixtures/golden/<arch>/golden.safetensors)."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest

from conftest import read_header

EMBED_ATOL = 1e-4
IMAGE_ATOL = 1e-3
#: generate() may differ from the golden pixels by 1 on at most this many
#: values (float rounding right at a .5 boundary); never by more than 1.
MAX_OFF_BY_ONE = 8
#: a single embedding vs the same row in a batch (float rounding only).
BATCH_ATOL = 1e-4


def n_recordings(golden: Dict[str, np.ndarray]) -> int:
    k = 0
    while f"features_{k}" in golden:
        k += 1
    assert k > 0, "golden.safetensors holds no features_0"
    return k


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


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def test_from_bytes_matches_file(avpgan_module, avpgan_model_path, avpgan_golden):
    avpgan = avpgan_module
    data = avpgan_model_path.read_bytes()
    feats = avpgan_golden["features_0"]
    emb = avpgan_golden["gen_input"]
    with avpgan.Model(avpgan_model_path) as a:
        want_e, want_i, want_info = a.embed(feats), a.generate_raw(emb), a.info
    for kind, buf in (("bytes", data), ("bytearray", bytearray(data)), ("memoryview", memoryview(data))):
        with avpgan.Model.from_bytes(buf) as b:
            assert b.info == want_info, f"from_bytes({kind}) info {b.info} != file info {want_info}"
            assert np.array_equal(b.embed(feats), want_e), f"from_bytes({kind}) embedding differs from the file's"
            assert np.array_equal(b.generate_raw(emb), want_i), f"from_bytes({kind}) images differ from the file's"


def test_pathlike_and_str_paths(avpgan_module, avpgan_model_path):
    avpgan = avpgan_module
    for p in (avpgan_model_path, str(avpgan_model_path), bytes(avpgan_model_path)):
        with avpgan.Model(p) as m:
            assert m.info.arch == "avpgan", f"Model({type(p).__name__}) loaded arch {m.info.arch}"


def test_missing_file_is_io_error(avpgan_module, tmp_path):
    avpgan = avpgan_module
    missing = tmp_path / "no-such-model.safetensors"
    with pytest.raises(avpgan.AvpganError) as exc:
        avpgan.Model(missing)
    e = exc.value
    assert e.status == avpgan.Status.E_IO, f"missing file gave {e.status_name} ({e.status}), want AVPGAN_E_IO"
    assert e.status_name == "AVPGAN_E_IO", f"status_name {e.status_name!r}"
    assert isinstance(e, avpgan.AvpganIOError), f"missing file raised {type(e).__name__}, want AvpganIOError"
    assert e.message, "missing file: avpgan_last_error() was empty"


def test_truncated_file_is_model_format_error(avpgan_module, avpgan_model_path, tmp_path):
    avpgan = avpgan_module
    data = avpgan_model_path.read_bytes()
    for cut in (4, 100, len(data) // 2, len(data) - 1):
        bad = tmp_path / f"truncated-{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(avpgan.AvpganError) as exc:
            avpgan.Model(bad)
        e = exc.value
        assert e.status == avpgan.Status.E_MODEL_FORMAT, (
            f"file truncated to {cut} of {len(data)} bytes gave {e.status_name}, want AVPGAN_E_MODEL_FORMAT"
        )
        assert isinstance(e, avpgan.ModelFormatError), f"raised {type(e).__name__}, want ModelFormatError"
        assert e.message, f"file truncated to {cut} bytes: avpgan_last_error() was empty"
        assert e.message in str(e), f"str(error) {str(e)!r} does not include the message {e.message!r}"
    with pytest.raises(avpgan.ModelFormatError) as exc2:
        avpgan.Model.from_bytes(data[: len(data) // 2])
    assert exc2.value.message, "from_bytes of a truncated model: empty message"
    with pytest.raises(avpgan.ModelFormatError):
        avpgan.Model.from_bytes(b"")


def test_max_header_bytes(avpgan_module, avpgan_model_path):
    avpgan = avpgan_module
    with pytest.raises(avpgan.ModelFormatError) as exc:
        avpgan.Model(avpgan_model_path, max_header_bytes=16)
    assert exc.value.message, "max_header_bytes=16: empty message"
    header_len = int.from_bytes(avpgan_model_path.read_bytes()[:8], "little")
    with avpgan.Model(avpgan_model_path, max_header_bytes=header_len) as m:
        assert m.info.arch == "avpgan", "max_header_bytes equal to the header length was refused"
    with pytest.raises(ValueError):
        avpgan.Model(avpgan_model_path, max_header_bytes=-1)


# --------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------


def test_bad_features(avpgan_module, avpgan_model_path, avpgan_golden):
    avpgan = avpgan_module
    feats = avpgan_golden["features_0"]
    with avpgan.Model(avpgan_model_path) as model:
        with pytest.raises(ValueError, match="n_mels"):
            model.embed(feats[:, :-1])
        with pytest.raises(ValueError):
            model.embed(feats[None])  # 3-D
        with pytest.raises(ValueError):
            model.embed(feats[0])  # 1-D
        with pytest.raises(ValueError):
            model.embed(feats[:0])  # no frames
        bad = feats.copy()
        bad[min(3, len(bad) - 1), 5] = np.nan
        with pytest.raises(avpgan.AvpganError) as exc:
            model.embed(bad)
        e = exc.value
        assert e.status == avpgan.Status.E_INVALID_ARGUMENT, f"NaN features gave {e.status_name}, want INVALID_ARGUMENT"
        assert isinstance(e, avpgan.InvalidArgumentError), f"NaN features raised {type(e).__name__}"
        assert e.message, "NaN features: avpgan_last_error() was empty"
        bad[min(3, len(bad) - 1), 5] = np.inf
        with pytest.raises(avpgan.InvalidArgumentError):
            model.embed(bad)
        # Non-contiguous and float64 input is converted, not rejected.
        f64 = np.asfortranarray(feats.astype(np.float64))
        assert np.array_equal(model.embed(f64), model.embed(feats)), "float64/Fortran-order features gave another embedding"


def test_bad_embeddings(avpgan_module, avpgan_model_path, avpgan_golden):
    avpgan = avpgan_module
    emb = avpgan_golden["gen_input"]
    with avpgan.Model(avpgan_model_path) as model:
        for bad, what in ((emb[:, :-1], "wrong E"), (emb[None], "3-D"), (emb[:0], "N = 0"), (np.float32(1), "0-D")):
            with pytest.raises(ValueError):
                model.generate_raw(bad)
            with pytest.raises(ValueError):
                model.generate(bad)
        with pytest.raises(ValueError):
            model.generate(emb, pixels="sepia")
        nan = emb.copy()
        nan[1, 0] = np.nan
        with pytest.raises(avpgan.InvalidArgumentError):
            model.generate_raw(nan)
        with pytest.raises(avpgan.InvalidArgumentError):
            model.generate(nan)


# --------------------------------------------------------------------------
# Lifetime
# --------------------------------------------------------------------------


def test_closed_model(avpgan_module, avpgan_model_path, avpgan_golden):
    avpgan = avpgan_module
    model = avpgan.Model(avpgan_model_path)
    assert not model.closed, "a fresh model reports closed"
    model.close()
    assert model.closed, "closed is False after close()"
    model.close()  # idempotent
    for call in (
        lambda: model.embed(avpgan_golden["features_0"]),
        lambda: model.generate(avpgan_golden["gen_input"]),
        lambda: model.generate_raw(avpgan_golden["gen_input"]),
    ):
        with pytest.raises(avpgan.ModelClosedError, match="closed"):
            call()
    with pytest.raises(avpgan.ModelClosedError):
        with model:
            pass
    assert model.info.arch == "avpgan", "info is no longer available after close"
    assert "closed" in repr(model), f"repr of a closed model: {model!r}"


def test_context_manager_closes(avpgan_module, avpgan_model_path, avpgan_golden):
    avpgan = avpgan_module
    with avpgan.Model(avpgan_model_path) as model:
        assert not model.closed, "model closed inside its with block"
        model.embed(avpgan_golden["features_0"])
    assert model.closed, "model not closed after its with block"
    with pytest.raises(avpgan.ModelClosedError):
        model.embed(avpgan_golden["features_0"])
    try:
        with avpgan.Model(avpgan_model_path) as model2:
            raise KeyError("boom")
    except KeyError:
        pass
    assert model2.closed, "model not closed when its with block raised"


def test_many_models_garbage_collected(avpgan_module, avpgan_model_path):
    avpgan = avpgan_module
    data = avpgan_model_path.read_bytes()
    for _ in range(20):
        m = avpgan.Model.from_bytes(data)
        del m  # __del__ frees; must not crash or double free


# --------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------


def test_threads_share_one_model(avpgan_module, avpgan_model_path, avpgan_golden):
    avpgan = avpgan_module
    golden = avpgan_golden
    k = n_recordings(golden)
    with avpgan.Model(avpgan_model_path) as model:

        def work(i: int):
            feats = golden[f"features_{i % k}"]
            emb = model.embed(feats)
            batch = np.roll(golden["gen_input"], i, axis=0)
            return emb, model.generate_raw(batch), model.generate(batch, pixels="minmax")

        n_threads, rounds = 8, 3
        sequential = [work(i) for i in range(n_threads)]
        results: List[list] = [[] for _ in range(n_threads)]
        errors: List[BaseException] = []
        start = threading.Barrier(n_threads)

        def run(i: int) -> None:
            try:
                start.wait()
                for _ in range(rounds):
                    results[i].append(work(i))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, f"threads raised: {errors!r}"
        for i in range(n_threads):
            assert len(results[i]) == rounds, f"thread {i} finished {len(results[i])} of {rounds} rounds"
            for r, (e, raw, px) in enumerate(results[i]):
                se, sraw, spx = sequential[i]
                assert np.array_equal(e, se), f"thread {i} round {r}: embedding differs from the sequential run"
                assert np.array_equal(raw, sraw), f"thread {i} round {r}: raw images differ from the sequential run"
                assert np.array_equal(px, spx), f"thread {i} round {r}: pixels differ from the sequential run"


def test_thread_local_error_message(avpgan_module, avpgan_model_path, avpgan_golden):
    """A failure raised on one thread carries that thread's message, even when
    another thread fails differently at the same time."""
    avpgan = avpgan_module
    with avpgan.Model(avpgan_model_path) as model:
        nan = avpgan_golden["features_0"].copy()
        nan[0, 0] = np.nan
        got: Dict[str, List[avpgan.AvpganError]] = {"io": [], "nan": []}
        barrier = threading.Barrier(2)

        def io() -> None:
            barrier.wait()
            for _ in range(50):
                try:
                    avpgan.Model("/nonexistent/dir/model.safetensors")
                except avpgan.AvpganError as e:
                    got["io"].append(e)

        def bad() -> None:
            barrier.wait()
            for _ in range(50):
                try:
                    model.embed(nan)
                except avpgan.AvpganError as e:
                    got["nan"].append(e)

        ts = [threading.Thread(target=io), threading.Thread(target=bad)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert len(got["io"]) == 50 and len(got["nan"]) == 50, f"got {len(got['io'])} io and {len(got['nan'])} nan errors"
    assert all(e.status == avpgan.Status.E_IO for e in got["io"]), "a missing-file load gave a non-IO status"
    assert all(e.status == avpgan.Status.E_INVALID_ARGUMENT for e in got["nan"]), "NaN embed gave a non-INVALID status"
    io_msgs = {e.message for e in got["io"]}
    nan_msgs = {e.message for e in got["nan"]}
    assert len(io_msgs) == 1 and len(nan_msgs) == 1, f"messages varied: io {io_msgs}, nan {nan_msgs}"
    assert io_msgs.isdisjoint(nan_msgs), f"a thread saw the other thread's message: io {io_msgs}, nan {nan_msgs}"
