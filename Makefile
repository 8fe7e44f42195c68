# libavpgan — the commands the README names. `make test` works from a fresh clone on Debian 12
# with the Swift toolchain: it installs what is missing, builds, and runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := build

VERSION := 0.1.0
SONAME := libavpgan.so.0
# Debian packages the build and the tests need (installed by `make deps` when running as root).
DEB_PACKAGES := libopenblas-dev libsndfile1-dev libpng-dev libsoxr-dev libturbojpeg0-dev pkg-config python3-venv \
    espeak-ng sox libsox-fmt-all dpkg-dev lintian cmake abigail-tools
VENV := .venv
PYTHON := $(VENV)/bin/python
SWIFT_RELEASE := swift build -c release
CFLAGS_STRICT := -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude
LIBDIR := build/lib
FIXTURES := Tests/Fixtures/golden

.PHONY: build deps venv test test-swift test-c test-python test-symbols test-abi abi-baseline test-python-package test-package bench bench-learning demo default-model ablation deb fixtures clean

## deps: install the Debian packages the project needs (as root), or say which are missing.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "installing:" $$missing; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	    else \
	        echo "missing Debian packages:" $$missing "(sudo apt-get install" $$missing")"; exit 1; \
	    fi; \
	fi

## build: build/lib/libavpgan.so.0 (+ libavpgan.so link) and build/bin/avpgan, release mode.
build: deps
	$(SWIFT_RELEASE) --product avpgan
	$(SWIFT_RELEASE) --product avpgan-cli
	@mkdir -p $(LIBDIR) build/bin
	# Copy, then rename: a running avpgan or a process using the library keeps its old file.
	cp .build/release/libavpgan.so $(LIBDIR)/.libavpgan.so.new && mv -f $(LIBDIR)/.libavpgan.so.new $(LIBDIR)/libavpgan.so.$(VERSION)
	ln -sf libavpgan.so.$(VERSION) $(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(LIBDIR)/libavpgan.so
	cp .build/release/avpgan-cli build/bin/.avpgan.new && mv -f build/bin/.avpgan.new build/bin/avpgan

## venv: the Python test environment (numpy, pytest), made once.
venv: $(VENV)/.ready
$(VENV)/.ready:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check numpy pytest
	touch $@

## test: every test — Swift core, exported symbols, C API and example, Python bindings.
test: build venv test-swift test-symbols test-abi test-c test-python test-python-package test-package
	@echo "all tests passed"

test-swift: deps
	swift test 2>&1 | tail -n 25; exit $${PIPESTATUS[0]}

test-symbols: build
	bash Tests/check_exports.sh $(LIBDIR)/$(SONAME) include/avpgan.h
	python3 tools/api_reference.py --check

ABI_BASELINE := abi/libavpgan.abi

## test-abi: the C ABI (header + library) against abi/libavpgan.abi: fails on an incompatible change.
test-abi: build
	bash Tests/check_abi.sh $(LIBDIR)/$(SONAME) include/avpgan.h $(ABI_BASELINE)

## abi-baseline: rewrite abi/libavpgan.abi from the current header and library, after compatible
## additions or a major bump (ABI_FORCE=1: also over an incompatible change). Commit the result.
abi-baseline: build
	bash Tests/check_abi.sh --write-baseline $(if $(ABI_FORCE),--force) $(LIBDIR)/$(SONAME) include/avpgan.h $(ABI_BASELINE)

test-c: build venv
	@mkdir -p build/tests
	cc $(CFLAGS_STRICT) examples/c/generate.c -o build/tests/generate -L$(LIBDIR) -lavpgan -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	cc $(CFLAGS_STRICT) -pthread Tests/c/test_api.c -o build/tests/test_api -L$(LIBDIR) -lavpgan -lm -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	c++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -x c++ -fsyntax-only include/avpgan.h
	cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -x c -fsyntax-only include/avpgan.h
	# AVPGAN_DEPRECATED must make a use of a retired entry point a warning (an error under -Werror).
	! printf '#include "avpgan.h"\nAVPGAN_DEPRECATED("use avpgan_new_thing") int avpgan_old_thing(void);\nint main(void) { return avpgan_old_thing(); }\n' \
	    | cc -std=c99 -Wall -Werror -Iinclude -x c -fsyntax-only - 2>/dev/null
	rm -rf build/tests/train-data
	build/bin/avpgan synth-data -o build/tests/train-data --speakers 3 --utterances 2 --faces 2 --seed 3 >/dev/null
	# A face model with random weights (no face-recognition weights ship): the face API's contract.
	$(PYTHON) tools/face_model_file.py --random mobilefacenet --seed 2 -o build/tests/face.safetensors
	build/tests/test_api $(FIXTURES)/avpgan/model.safetensors build/tests/train-data build/tests/face.safetensors
	build/tests/generate $(FIXTURES)/avpgan/model.safetensors build/tests/face.ppm 7
	@test -s build/tests/face.ppm && echo "examples/c/generate wrote build/tests/face.ppm"
	cc $(CFLAGS_STRICT) examples/c/portrait.c -o build/tests/portrait -L$(LIBDIR) -lavpgan -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	espeak-ng -w build/tests/voice.wav "A voice is all we have of this speaker."
	build/tests/portrait $(FIXTURES)/avpgan/model.safetensors build/tests/voice.wav build/tests/portrait.png
	@test -s build/tests/portrait.png && echo "examples/c/portrait wrote build/tests/portrait.png"

test-python: build venv
	PYTHONPATH=bindings/python $(PYTHON) -m pytest -q bindings/python/tests Tests/cli

## test-python-package: pip install ./bindings/python into a new virtualenv; the bindings' tests
## against that installed copy and the checkout's build/lib; py.typed and docstrings.
test-python-package: build
	bash Tests/python_package_test.sh

## test-package: the .deb packages unpacked into a scratch root: lintian, a C program built with
## pkg-config, examples/c built with CMake's find_package(avpgan), the CLI and the Python example.
test-package: deb venv
	bash Tests/package_test.sh build/deb $(PYTHON)

## bench: library vs PyTorch (when importable: TORCH_PYTHON=/path/to/python) at full widths,
## 2 threads, side by side; then the front end and a whole portrait against the Python
## reference front end; then one training step (gan_step) at batch 64 per architecture; then one
## face embedding against onnxruntime and PyTorch, and avpgan eval on 100 recordings x 4 lengths.
bench: build venv
	$(VENV)/bin/pip install -q --disable-pip-version-check webrtcvad-wheels
	PYTHONPATH=bindings/python:tools $(PYTHON) tools/bench.py
	$(PYTHON) tools/bench_train.py
	$(PYTHON) tools/bench_face.py
	$(MAKE) bench-learning

## demo: the main job — a recording in, a portrait PNG out. The bundled recording is a synthetic
## speaker the default model never saw in training (models/README.md); its procedural face is
## beside it for comparison.
DEMO_MODEL ?= models/default.safetensors
DEMO_VOICE ?= examples/voices/heldout-speaker.flac
demo: build
	build/bin/avpgan portrait --model $(DEMO_MODEL) $(DEMO_VOICE) -o build/demo.png
	@echo "wrote build/demo.png from $(DEMO_VOICE) (model $(DEMO_MODEL));"
	@echo "the speaker's own synthetic face, never seen in training: examples/voices/heldout-speaker-face.png"

## bench-learning: does the pipeline learn? synth-data, train-voice, train, evaluate within the
## issue's CPU budget, for each of the three architectures (the same data, encoder steps, GAN
## steps and seed; about 10 minutes each on 2 cores); prints held-out retrieval top-1 against
## chance and any training-health warning (tools/bench_learning.py).
bench-learning: build
	for arch in voice2face avpgan avpgan-nocbam; do \
	    python3 tools/bench_learning.py --workdir build/bench-learning/$$arch --arch $$arch \
	        --json build/bench-learning/$$arch.json || exit 1; done
	python3 tools/bench_learning.py --summary build/bench-learning

## default-model: retrains models/default.safetensors from scratch as README "Models" says
## (synthetic data, voice-encoder pre-training, Algorithm 1; about half an hour on 2 cores).
default-model: build
	python3 tools/bench_learning.py --workdir build/default-model --speakers 100 --voice-steps 1500 \
	    --gan-steps 6000 --json build/default-model.json --install models/default.safetensors

## ablation: the README's Table-4 ablation on synthetic data: avpgan and avpgan-nocbam trained
## with make default-model's recipe (same data, encoder steps, GAN steps, seed), then avpgan eval of
## the three architectures on the 20 held-out speakers. About an hour on 2 cores. Needs a face
## model: FACE_MODEL=face.safetensors (python3 tools/convert_face.py --onnx mobilefacenet.onnx -o ...).
ABLATION := build/ablation
ablation: build
	@test -n "$(FACE_MODEL)" || { echo "set FACE_MODEL=face.safetensors (tools/convert_face.py makes one)"; exit 2; }
	for arch in avpgan avpgan-nocbam; do \
	    python3 tools/bench_learning.py --workdir $(ABLATION)/$$arch --speakers 100 --voice-steps 1500 \
	        --gan-steps 6000 --arch $$arch --json $(ABLATION)/$$arch.json || exit 1; done
	build/bin/avpgan eval --model models/default.safetensors --model $(ABLATION)/avpgan/model.safetensors \
	    --model $(ABLATION)/avpgan-nocbam/model.safetensors --voices $(ABLATION)/avpgan/data/voices \
	    --faces $(ABLATION)/avpgan/data/faces --face-model $(FACE_MODEL) --seconds 1,2,all -o $(ABLATION)/eval

## deb: the Debian packages (libavpgan0, libavpgan-dev, avpgan-tools, python3-avpgan) in build/deb/,
## from the release build, with dpkg-deb; Depends computed by dpkg-shlibdeps.
deb: build
	bash packaging/build-deb.sh $(VERSION) build/deb

## fixtures: regenerate the golden fixtures (needs PyTorch: TORCH_PYTHON=/path/to/python).
fixtures:
	$(or $(TORCH_PYTHON),python3) tools/make_golden.py

clean:
	rm -rf build .build
