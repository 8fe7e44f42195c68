"""Tests of the avpgan Python bindings: loading a model (from bytes, paths, bad files, the header
cap), input validation, and a model's lifetime (closing, context managers, garbage collection)."""

from __future__ import annotations

import numpy as np
import pytest


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
