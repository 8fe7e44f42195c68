/*
 * avpgan.h — the C interface of libavpgan (SONAME libavpgan.so.0).
 *
 * libavpgan turns a recording of a voice into a face portrait (the AVP-GAN
 * paper and its Voice2Face baseline). This header is the contract: the
 * library implements exactly what is declared here, and every change to it is
 * listed in CHANGELOG.md.
 *
 * Conventions
 * - Every function that can fail returns an avpgan_status: 0 (AVPGAN_OK) on
 *   success, a negative code otherwise. No function aborts the process on bad
 *   input: every pointer, size and count is checked at the boundary. A size_t
 *   argument of 2^63 or more (a negative value converted) is
 *   AVPGAN_E_INVALID_ARGUMENT. No function returns a NaN or infinite result
 *   with AVPGAN_OK: a model whose finite weights overflow float32 on an input
 *   gives AVPGAN_E_MODEL_FORMAT.
 * - Files the library writes (portraits, checkpoints, models) are written to a
 *   temporary file beside the target, flushed and renamed into place: the
 *   target is the complete new file or untouched. Only regular files are
 *   written: a device, FIFO, socket or directory at the path is AVPGAN_E_IO.
 * - After a failure, avpgan_last_error() returns a message, local to the
 *   calling thread, that names the cause (the argument, the tensor, the field).
 * - Buffers belong to the caller. A function that fills one takes
 *   (pointer, capacity in elements) and an optional out-parameter `needed`
 *   that receives the number of elements the result has. A buffer that is too
 *   small gives AVPGAN_E_BUFFER_TOO_SMALL with *needed filled in; passing
 *   (NULL, 0) is a size query that returns AVPGAN_OK, fills *needed and
 *   computes nothing.
 * - Params and info structs start with `size_t struct_size` = sizeof the
 *   struct as the caller's header declares it; new fields are only ever added
 *   at the end. Fill params with the matching avpgan_*_params_init(&p, sizeof p)
 *   before setting fields. A struct_size below the struct's size in the
 *   version that introduced it is AVPGAN_E_INVALID_ARGUMENT. A struct from a
 *   newer header (larger) works: the library fills the fields it knows of an
 *   out-struct and zeroes the rest, and accepts an in-struct whose unknown
 *   fields are zero (their default), else AVPGAN_E_UNSUPPORTED.
 * - Threads: an avpgan_model is immutable once loaded. Any number of threads
 *   may call any function on the same model at the same time; the results are
 *   identical to those of sequential calls. avpgan_model_free must not race
 *   with other calls on that model. An avpgan_trainer is mutable: one call at
 *   a time (see "Training").
 */
#ifndef AVPGAN_H
#define AVPGAN_H

#include <stddef.h>
#include <stdint.h>

#define AVPGAN_VERSION_MAJOR 0
#define AVPGAN_VERSION_MINOR 1
#define AVPGAN_VERSION_PATCH 0
#define AVPGAN_VERSION_STRING "0.1.0"
/** The version as one comparable number: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define AVPGAN_VERSION_NUMBER \
    (AVPGAN_VERSION_MAJOR * 10000 + AVPGAN_VERSION_MINOR * 100 + AVPGAN_VERSION_PATCH)

/* Marks entry points that are retired but kept for ABI compatibility. */
#if defined(__GNUC__) || defined(__clang__)
#define AVPGAN_DEPRECATED(message) __attribute__((deprecated(message)))
#elif defined(_MSC_VER)
#define AVPGAN_DEPRECATED(message) __declspec(deprecated(message))
#else
#define AVPGAN_DEPRECATED(message)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

/** Result of every fallible call. Values are stable; new ones are added. */
typedef enum avpgan_status {
    AVPGAN_OK = 0,
    /** A pointer was NULL, a count was zero or out of range, a struct_size was wrong. */
    AVPGAN_E_INVALID_ARGUMENT = -1,
    /** The caller's buffer is smaller than the result; *needed says how large. */
    AVPGAN_E_BUFFER_TOO_SMALL = -2,
    /** Memory for the computation could not be had. */
    AVPGAN_E_OUT_OF_MEMORY = -3,
    /** A file could not be opened, read or written. */
    AVPGAN_E_IO = -4,
    /** A model file is malformed: bad safetensors framing, metadata, tensor set or shape,
     *  non-finite values; or its finite weights overflow float32 on this input. */
    AVPGAN_E_MODEL_FORMAT = -5,
    /** Well-formed but not supported by this build (e.g. a newer model format version). */
    AVPGAN_E_UNSUPPORTED = -6,
    /** The model does not contain the networks the call needs. */
    AVPGAN_E_MISSING_NETWORK = -7,
    /** Audio that cannot be decoded: unknown or damaged format, non-finite samples or
     *  samples beyond +-65536 times full scale, a recording longer than the library accepts. */
    AVPGAN_E_AUDIO_FORMAT = -8,
    /** The recording holds no speech (no samples, or none the voice activity detector keeps). */
    AVPGAN_E_NO_SPEECH = -9,
    /** Long work stopped early because the caller's abort callback asked for it. */
    AVPGAN_E_ABORTED = -10,
    /** A bug in libavpgan; the message says where. Please report it. */
    AVPGAN_E_INTERNAL = -100
} avpgan_status;

/** Library version, e.g. "0.1.0". Static storage; never NULL. */
const char *avpgan_version(void);

/** Library version as MAJOR * 10000 + MINOR * 100 + PATCH, for a runtime check
 *  against AVPGAN_VERSION_NUMBER (same major: compatible). */
uint32_t avpgan_version_number(void);

/** Nonzero when the libavpgan loaded at run time serves a program compiled against this
 *  header: the same major version, and at least the header's minor and patch (the library
 *  only ever adds within a major). Check it once at startup:
 *      if (!AVPGAN_VERSION_COMPATIBLE()) { fprintf(stderr, "libavpgan %s is too old\n", avpgan_version()); ... } */
#define AVPGAN_VERSION_COMPATIBLE() \
    (avpgan_version_number() / 10000 == AVPGAN_VERSION_MAJOR && avpgan_version_number() >= AVPGAN_VERSION_NUMBER)

/** A short English description of a status code. Static storage; never NULL
 *  (unknown codes give "unknown status"). */
const char *avpgan_status_string(avpgan_status status);

/** The message of the last failed call on this thread, or "" when the last
 *  call succeeded. Valid until the next avpgan_ call on the same thread. */
const char *avpgan_last_error(void);

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

/** Sets how many threads one computation uses, process-wide. 0 = all online CPUs
 *  (the default). libavpgan runs its own worker threads and calls OpenBLAS
 *  single-threaded, so that two thread pools never compete for the cores: while
 *  an avpgan_ call runs, OpenBLAS's process-wide thread count is 1, and the
 *  count the host had is restored when the last running call returns (a host
 *  that runs its own BLAS work at the same time gets one thread for it then).
 *  Must not be called while another thread is inside an avpgan_ call.
 *  OpenBLAS's kernels: when the system's OpenBLAS did not recognise the CPU and
 *  runs older kernels than it supports (its SSE3 "Prescott" ones on an AVX2 or
 *  AVX-512 CPU, its AVX2 ones on an AVX-512 CPU), libavpgan's first call into
 *  OpenBLAS switches it, process-wide, to the kernels the CPU's flags allow,
 *  unless OPENBLAS_CORETYPE is set. A host that runs its own OpenBLAS work on
 *  another thread during libavpgan's first computation must set
 *  OPENBLAS_CORETYPE itself (any value OpenBLAS knows) to keep that from happening. */
avpgan_status avpgan_set_num_threads(int32_t n_threads);

/** The number of threads computations use. */
int32_t avpgan_get_num_threads(void);

/* ------------------------------------------------------------------------ */
/* Models                                                                    */
/* ------------------------------------------------------------------------ */

/** A loaded model: voice encoder and generator, and when the file has them the
 *  face encoder, discriminator and identity classifier. Immutable; thread-safe. */
typedef struct avpgan_model avpgan_model;

/** Architectures (avpgan_model_info.arch). */
typedef enum avpgan_arch {
    AVPGAN_ARCH_VOICE2FACE = 0,    /* Wen et al. 2019: no CBAM, no spectral norm */
    AVPGAN_ARCH_AVPGAN = 1,        /* CBAM and spectral norm */
    AVPGAN_ARCH_AVPGAN_NOCBAM = 2  /* spectral norm, no CBAM */
} avpgan_arch;

/** How generator output in [-1, 1] becomes 8-bit pixels. */
typedef enum avpgan_pixels {
    /** Use the model file's default ("pixels" in its config). */
    AVPGAN_PIXELS_MODEL_DEFAULT = 0,
    /** p = floor((clamp(x, -1, 1) + 1) / 2 * 255 + 0.5). */
    AVPGAN_PIXELS_CLAMP = 1,
    /** Per image, over all channels: v = clamp(x, -1, 1), then
     *  p = floor((v - min v) / max(max v - min v, 1e-5) * 255 + 0.5). */
    AVPGAN_PIXELS_MINMAX = 2
} avpgan_pixels;

/** Options for loading a model. */
typedef struct avpgan_model_params {
    size_t struct_size;
    /** Largest safetensors JSON header accepted, in bytes; 0 = 100 MiB. */
    uint64_t max_header_bytes;
    /** 1 (default): load only what inference needs (voice encoder, generator).
     *  0: also load the face encoder and heads when the file has them. */
    int32_t inference_only;
} avpgan_model_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_model_params). */
avpgan_status avpgan_model_params_init(avpgan_model_params *params, size_t struct_size);

/** Loads a model file (safetensors with avpgan.* metadata). params may be NULL
 *  for defaults. On success *out_model is a new handle; on failure it is NULL. */
avpgan_status avpgan_model_load_file(const char *path, const avpgan_model_params *params,
                                     avpgan_model **out_model);

/** Loads a model from a memory image of a model file. The bytes are copied;
 *  the caller may free them after the call. */
avpgan_status avpgan_model_load_buffer(const void *data, size_t size,
                                       const avpgan_model_params *params,
                                       avpgan_model **out_model);

/** Frees a model. NULL is allowed and does nothing. */
void avpgan_model_free(avpgan_model *model);

/** Capacity of the width arrays in avpgan_model_info. */
#define AVPGAN_MAX_LAYERS 16

/** What a model is. Set struct_size = sizeof(avpgan_model_info) before the call. */
typedef struct avpgan_model_info {
    size_t struct_size;
    int32_t arch;              /* an avpgan_arch value */
    char arch_name[32];        /* "voice2face", "avpgan", "avpgan-nocbam"; NUL-terminated */
    uint32_t format_version;   /* avpgan.format of the file */
    uint32_t n_mels;           /* feature bands the voice encoder takes (64) */
    uint32_t embed_dim;        /* voice embedding size (64 full, 16 tiny) */
    uint32_t image_size;       /* generated faces are image_size x image_size (64);
                                  0 for an encoder-only file (no generator) */
    uint32_t image_channels;   /* 3 (RGB) */
    uint32_t n_voice_widths;   /* voice-encoder conv widths, in order */
    uint32_t voice_widths[AVPGAN_MAX_LAYERS];
    uint32_t n_generator_widths;
    uint32_t generator_widths[AVPGAN_MAX_LAYERS];
    uint32_t n_face_widths;    /* 0 when the face encoder is not loaded */
    uint32_t face_widths[AVPGAN_MAX_LAYERS];
    uint32_t n_identities;     /* classifier outputs; 0 when not loaded */
    int32_t default_pixels;    /* an avpgan_pixels value, never MODEL_DEFAULT */
    uint64_t n_parameters;     /* number of scalar weights loaded */
} avpgan_model_info;

/** Fills *info; set info->struct_size = sizeof(avpgan_model_info) first. */
avpgan_status avpgan_model_get_info(const avpgan_model *model, avpgan_model_info *info);

/** Voice embedding from log-mel features.
 *  features: n_frames x n_mels floats, frame-major (all bands of frame 0, then
 *  frame 1, ...), normalised as the front end does; n_mels must equal the
 *  model's; 1 <= n_frames <= 1048576; every value finite.
 *  embedding: receives embed_dim floats, an L2-unit vector. */
avpgan_status avpgan_model_embed(const avpgan_model *model, const float *features,
                                 size_t n_frames, size_t n_mels, float *embedding,
                                 size_t capacity, size_t *needed);

/** Raw generator output for a batch of embeddings.
 *  A model file holding only a voice encoder (as `avpgan train-voice` writes)
 *  gives AVPGAN_E_MISSING_NETWORK here, in avpgan_model_generate_rgb8 and in
 *  avpgan_portrait_pcm/_file, even for a size query.
 *  embeddings: n x embed_dim floats, row-major, finite (used as given: the
 *  generator is not re-normalising them). 1 <= n <= 65536.
 *  images: receives n x 3 x S x S floats (S = image_size), planar RGB per
 *  image, unbounded (clamp to [-1, 1] for display). */
avpgan_status avpgan_model_generate(const avpgan_model *model, const float *embeddings,
                                    size_t n, size_t embed_dim, float *images,
                                    size_t capacity, size_t *needed);

/** Options for generating pixels. */
typedef struct avpgan_generate_params {
    size_t struct_size;
    /** An avpgan_pixels value; default AVPGAN_PIXELS_MODEL_DEFAULT. */
    int32_t pixels;
} avpgan_generate_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_generate_params). */
avpgan_status avpgan_generate_params_init(avpgan_generate_params *params, size_t struct_size);

/** Faces as 8-bit RGB for a batch of embeddings (as avpgan_model_generate).
 *  pixels: receives n x S x S x 3 bytes, interleaved RGB, rows top to bottom.
 *  params may be NULL for defaults. */
avpgan_status avpgan_model_generate_rgb8(const avpgan_model *model, const float *embeddings,
                                         size_t n, size_t embed_dim,
                                         const avpgan_generate_params *params,
                                         uint8_t *pixels, size_t capacity, size_t *needed);

/* ------------------------------------------------------------------------ */
/* Audio                                                                     */
/* ------------------------------------------------------------------------ */

/** What a decoded recording was. Set struct_size = sizeof(avpgan_audio_info). */
typedef struct avpgan_audio_info {
    size_t struct_size;
    uint32_t sample_rate;      /* rate of the returned samples, Hz */
    uint32_t original_rate;    /* the file's rate, Hz */
    uint32_t channels;         /* the file's channel count (the samples are their mean) */
    uint64_t n_samples;        /* returned samples */
    double seconds;            /* n_samples / sample_rate */
    char format[64];           /* libsndfile's name of the format, e.g. "WAV (Microsoft), Signed 16 bit PCM" */
} avpgan_audio_info;

/** Decodes an audio file with libsndfile (WAV, FLAC, Ogg Vorbis/Opus, MP3, ... whatever
 *  the installed libsndfile reads), mixes it to mono (mean of the channels) and resamples
 *  it to target_rate Hz with libsoxr (high quality); target_rate 0 keeps the file's rate.
 *  samples: receives mono floats in [-1, 1]. A (NULL, 0) size query decodes the file to
 *  measure it. info may be NULL. Recordings longer than 4 hours are refused.
 *  Errors: AVPGAN_E_IO (cannot open, a directory), AVPGAN_E_AUDIO_FORMAT (empty, not
 *  audio, damaged, non-finite samples). */
avpgan_status avpgan_decode_file(const char *path, uint32_t target_rate, float *samples,
                                 size_t capacity, size_t *needed, avpgan_audio_info *info);

/** As avpgan_decode_file, from the bytes of an encoded file in memory (read during the
 *  call only). */
avpgan_status avpgan_decode_buffer(const void *data, size_t size, uint32_t target_rate,
                                   float *samples, size_t capacity, size_t *needed,
                                   avpgan_audio_info *info);

/* ------------------------------------------------------------------------ */
/* Front end and portraits                                                   */
/* ------------------------------------------------------------------------ */

/** Front-end options: how samples become features (reference/voice_frontend.py). */
typedef struct avpgan_frontend_params {
    size_t struct_size;
    /** Use only the first `seconds` of (voiced) audio; 0 (default) = all of it. Decoding
     *  stops once they are in (the rest of a file is not read). */
    double seconds;
    /** 1 (default): keep only voiced audio (WebRTC VAD, 20 ms frames, 50 ms ring,
     *  90 % trigger); 0: use every sample. */
    int32_t vad;
    /** VAD aggressiveness 0-3; default 2. */
    int32_t vad_mode;
} avpgan_frontend_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_frontend_params). */
avpgan_status avpgan_frontend_params_init(avpgan_frontend_params *params, size_t struct_size);

/** What the front end did. Set struct_size = sizeof(avpgan_features_info). */
typedef struct avpgan_features_info {
    size_t struct_size;
    uint32_t n_frames;         /* frames returned: max(computed, 1000) (repeat rule) */
    uint32_t n_computed;       /* frames computed from the audio before repetition */
    double input_seconds;      /* length of the input at 16 kHz */
    double voiced_seconds;     /* audio that went into the features (after VAD and `seconds`) */
} avpgan_features_info;

/** Log-mel features of PCM samples, as the reference front end computes them.
 *  samples: n_samples mono floats in [-1, 1] (scaled to the int16 range inside) at
 *  sample_rate Hz (1000-1000000; resampled to 16 kHz with libsoxr); finite.
 *  features: receives n_frames x 64 floats, frame-major, per-band normalised.
 *  params and info may be NULL. A (NULL, 0) size query runs the front end to measure.
 *  Errors: AVPGAN_E_NO_SPEECH when there are no samples or the VAD keeps none. */
avpgan_status avpgan_features_from_pcm(const float *samples, size_t n_samples, uint32_t sample_rate,
                                       const avpgan_frontend_params *params, float *features,
                                       size_t capacity, size_t *needed, avpgan_features_info *info);

/** Options for a portrait. */
typedef struct avpgan_portrait_params {
    size_t struct_size;
    /** The front end, as avpgan_frontend_params. */
    double seconds;
    int32_t vad;
    int32_t vad_mode;
    /** An avpgan_pixels value; default AVPGAN_PIXELS_MODEL_DEFAULT. */
    int32_t pixels;
    /** Standard deviation of Gaussian noise added to the unit embedding, which is then
     *  re-normalised (as in training, 0.05 there); 0 (default) = none. Gives variations. */
    float noise;
    /** Seed of that noise: the same seed gives the same portrait. */
    uint64_t seed;
    /** PNG output: 1 (default) = write provenance text chunks (software, model and audio
     *  SHA-256, parameters, voiced duration, notice); 0 = none. */
    int32_t provenance;
    /** PNG output: 1 = add a "Creation Time" chunk (the PNG then differs run to run);
     *  0 (default) = none, so the same inputs give byte-identical files. */
    int32_t timestamp;
    /** NULL (default), or an enhancer (declared below) that restores the face and
     *  enlarges it to its size S: avpgan_portrait_pcm then writes S x S x 3 bytes, and
     *  the PNG's provenance names the enhancer's SHA-256 and file size. The face is
     *  enhanced as avpgan_enhance does with the generator's 8-bit face. */
    const struct avpgan_enhancer *enhancer;
} avpgan_portrait_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_portrait_params). */
avpgan_status avpgan_portrait_params_init(avpgan_portrait_params *params, size_t struct_size);

/** Largest embedding avpgan_portrait_info carries in full. */
#define AVPGAN_MAX_EMBED 256

/** What a portrait was made from. Set struct_size = sizeof(avpgan_portrait_info). */
typedef struct avpgan_portrait_info {
    size_t struct_size;
    double input_seconds;      /* the recording's length (the length its header declares
                                  when `seconds` stopped the reading early) */
    double voiced_seconds;     /* audio used for the features */
    uint32_t n_frames;         /* feature frames (after the repeat rule) */
    uint32_t embed_dim;        /* the model's embedding size */
    float embedding[AVPGAN_MAX_EMBED]; /* the embedding used (its first AVPGAN_MAX_EMBED values) */
} avpgan_portrait_info;

/** A face from PCM samples: front end, voice encoder, generator, pixel mapping.
 *  samples as in avpgan_features_from_pcm. pixels: receives S x S x 3 bytes (RGB8).
 *  params and info may be NULL. */
avpgan_status avpgan_portrait_pcm(const avpgan_model *model, const float *samples, size_t n_samples,
                                  uint32_t sample_rate, const avpgan_portrait_params *params,
                                  uint8_t *pixels, size_t capacity, size_t *needed,
                                  avpgan_portrait_info *info);

/** A face from an audio file (any format libsndfile reads), in one call: decode, front end,
 *  voice encoder, generator (and params' enhancer). pixels: S x S x 3 bytes (RGB8), S the
 *  model's image size or the enhancer's; a size query ((NULL, 0)) checks the arguments and
 *  that the file is readable, without decoding it. params and info may be NULL. */
avpgan_status avpgan_portrait_file_rgb8(const avpgan_model *model, const char *voice_path,
                                        const avpgan_portrait_params *params, uint8_t *pixels,
                                        size_t capacity, size_t *needed, avpgan_portrait_info *info);

/** As avpgan_portrait_file_rgb8, from the bytes of an audio file in memory (data, size). */
avpgan_status avpgan_portrait_buffer_rgb8(const avpgan_model *model, const void *data, size_t size,
                                          const avpgan_portrait_params *params, uint8_t *pixels,
                                          size_t capacity, size_t *needed, avpgan_portrait_info *info);

/** A face from an audio file, written as a PNG file (with provenance unless asked not
 *  to). Nothing is written when the call fails; the PNG is written to a temporary file
 *  and renamed into place. params and info may be NULL. */
avpgan_status avpgan_portrait_file(const avpgan_model *model, const char *voice_path,
                                   const char *png_path, const avpgan_portrait_params *params,
                                   avpgan_portrait_info *info);

/** The default model file, for callers that name none (as the avpgan command does), looked
 *  for in this order: $AVPGAN_MODEL when set (and then only there); beside this library,
 *  <prefix>/share/avpgan/default.safetensors for <prefix>/lib[/<multiarch>]/libavpgan.so.0
 *  (make install, the Debian package) and a checkout's models/default.safetensors for its
 *  build/lib; /usr/share/avpgan/default.safetensors. path receives the first readable one,
 *  NUL-terminated (capacity and *needed in bytes, the NUL included; (NULL, 0) asks for the
 *  size). None found: AVPGAN_E_IO, and avpgan_last_error() names every place looked at. */
avpgan_status avpgan_default_model_path(char *path, size_t capacity, size_t *needed);

/** The default enhancer file (a GFPGAN-compatible enhancer for avpgan_enhancer_load_file),
 *  looked for as avpgan_default_model_path looks for the model, under the name
 *  default-enhancer.safetensors: $AVPGAN_ENHANCER when set (and then only there); beside this
 *  library, <prefix>/share/avpgan/default-enhancer.safetensors and a checkout's
 *  models/default-enhancer.safetensors; /usr/share/avpgan/default-enhancer.safetensors.
 *  The same buffer contract and errors as avpgan_default_model_path. */
avpgan_status avpgan_default_enhancer_path(char *path, size_t capacity, size_t *needed);

/* ------------------------------------------------------------------------ */
/* Images                                                                    */
/* ------------------------------------------------------------------------ */

/** Encodes 8-bit RGB pixels (width x height x 3, interleaved, rows top to bottom) as a
 *  PNG into png (capacity in bytes). Deterministic: the same pixels give the same bytes. */
avpgan_status avpgan_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height,
                                uint8_t *png, size_t capacity, size_t *needed);

/** As avpgan_png_encode, with n_text text entries (at most 1024), e.g. a caller's own
 *  provenance: keys[i] (1-79 printable ASCII characters, no leading or trailing space) and
 *  values[i] (UTF-8), stored as uncompressed iTXt chunks, as the library's portraits are. */
avpgan_status avpgan_png_encode_text(const uint8_t *pixels, uint32_t width, uint32_t height,
                                     const char *const *keys, const char *const *values, size_t n_text,
                                     uint8_t *png, size_t capacity, size_t *needed);

/* ------------------------------------------------------------------------ */
/* Face recognition (evaluation)                                             */
/* ------------------------------------------------------------------------ */

/* The paper judges a voice portrait by the cosine similarity between the
 * face-recognition embeddings of the generated face and of the speaker's real
 * faces. A face model is such a recognition network (MobileFaceNet or an
 * ArcFace IResNet), loaded from a face model file (docs/face-model-format.md;
 * tools/converters/convert_face.py writes one from ONNX or PyTorch weights). No face model
 * ships with libavpgan. Like avpgan_model, a face model is immutable and
 * thread-safe; avpgan_face_model_free must not race with other calls on it. */

/** A loaded face-recognition network. */
typedef struct avpgan_face_model avpgan_face_model;

/** Face-recognition architectures (avpgan_face_model_info.arch). */
typedef enum avpgan_face_arch {
    AVPGAN_FACE_ARCH_MOBILEFACENET = 0,
    AVPGAN_FACE_ARCH_IRESNET18 = 1,
    AVPGAN_FACE_ARCH_IRESNET34 = 2,
    AVPGAN_FACE_ARCH_IRESNET50 = 3,
    AVPGAN_FACE_ARCH_IRESNET100 = 4,
    AVPGAN_FACE_ARCH_IRESNET200 = 5
} avpgan_face_arch;

/** Loads a face model file. params may be NULL (only max_header_bytes is used).
 *  A voice-portrait model file is refused with AVPGAN_E_MODEL_FORMAT (and a face
 *  model file by avpgan_model_load_file). On failure *out_model is NULL. */
avpgan_status avpgan_face_model_load_file(const char *path, const avpgan_model_params *params,
                                          avpgan_face_model **out_model);

/** Loads a face model from a memory image of the file (the bytes are copied). */
avpgan_status avpgan_face_model_load_buffer(const void *data, size_t size,
                                            const avpgan_model_params *params,
                                            avpgan_face_model **out_model);

/** Frees a face model. NULL is allowed and does nothing. */
void avpgan_face_model_free(avpgan_face_model *model);

/** What a face model is. Set struct_size = sizeof(avpgan_face_model_info). */
typedef struct avpgan_face_model_info {
    size_t struct_size;
    int32_t arch;              /* an avpgan_face_arch value */
    char arch_name[32];        /* "mobilefacenet", "iresnet50", ...; NUL-terminated */
    uint32_t input_size;       /* the network's input is input_size x input_size (112) */
    uint32_t embed_dim;        /* embedding size (128 MobileFaceNet, 512 IResNet) */
    float input_mean;          /* a pixel p enters as (p - input_mean) / input_std */
    float input_std;
    int32_t bgr;               /* 1 when the network's first input plane is blue */
    uint64_t n_parameters;     /* number of scalar weights in the file */
} avpgan_face_model_info;

/** Fills *info; set info->struct_size = sizeof(avpgan_face_model_info) first. */
avpgan_status avpgan_face_model_get_info(const avpgan_face_model *model, avpgan_face_model_info *info);

/** The embedding of one face image.
 *  pixels: width x height x 3 bytes, interleaved RGB, rows top to bottom, each row
 *  row_stride bytes apart (0 means width * 3); 1 <= width, height <= 16384. The
 *  image is resized to input_size x input_size, each axis on its own (pass an
 *  aligned face crop: nothing is cropped and the aspect ratio is not kept), by
 *  bilinear interpolation that averages when shrinking (the arithmetic of torch's
 *  interpolate(mode="bilinear", align_corners=False, antialias=True)), then
 *  normalised with input_mean and input_std.
 *  embedding: receives embed_dim floats, the network's raw output (not normalised). */
avpgan_status avpgan_face_model_embed_rgb8(const avpgan_face_model *model, const uint8_t *pixels,
                                           size_t width, size_t height, size_t row_stride,
                                           float *embedding, size_t capacity, size_t *needed);

/** Cosine similarity a.b / (|a| |b|) of two n-float vectors (computed in double),
 *  in *similarity; 0 when either vector is zero. 1 <= n <= 2^24; values finite. */
avpgan_status avpgan_cosine(const float *a, const float *b, size_t n, float *similarity);

/* ------------------------------------------------------------------------ */
/* Training                                                                  */
/* ------------------------------------------------------------------------ */

/* A trainer runs Algorithm 1 of the paper as the reference's gan_step does
 * (reference/avpgan_torch.py; Tests/Fixtures/training/README.md): the voice
 * encoder frozen, the generator, face encoder, discriminator and identity
 * classifier trained with Adam (lr 2e-4, betas 0.5, 0.999).
 *
 * Threads: a trainer is mutable. Calls on one trainer must not overlap: a call
 * made while another call on the same trainer is in progress (from another
 * thread, or from inside a callback of avpgan_trainer_run) is refused with
 * AVPGAN_E_INVALID_ARGUMENT and changes nothing. Different trainers are
 * independent. avpgan_trainer_free must not race with other calls on the
 * trainer. */

/** A training run: the five networks, Adam's state, the step count and, when it
 *  has one, a data set to draw batches from. */
typedef struct avpgan_trainer avpgan_trainer;

/** Network widths of a new trainer (avpgan_trainer_params.widths). */
typedef enum avpgan_widths {
    /** The paper's: generator 1024-512-256-128-64, face encoder 32-64-128-256-512. */
    AVPGAN_WIDTHS_FULL = 0,
    /** The test size: generator 128-64-32-16-16, face encoder 8-16-32-32-64. */
    AVPGAN_WIDTHS_TINY = 1
} avpgan_widths;

/** How a trainer's data set splits identities into training and held-out sets. */
typedef enum avpgan_split {
    /** Held out: the identities named in test_list (when it is NULL, those of
     *  voices_dir/../test.txt if that file exists, else none). */
    AVPGAN_SPLIT_TEST_LIST = 0,
    /** The VoxCeleb/VGGFace split of Nagrani et al. that the paper follows, by the
     *  identity folder's first letter (any case): A-B validation, C-E test, the rest
     *  trained. test_list must be NULL. */
    AVPGAN_SPLIT_INITIAL_LETTER = 1,
    /** The corpus's own speaker split: the Set column of params.meta_file ("test" held
     *  out, the rest trained). test_list must be NULL; meta_file is required. */
    AVPGAN_SPLIT_CORPUS_SET = 2
} avpgan_split;

/** How CBAM's attention maps M (sigmoids) multiply the features it gates
 *  (avpgan_trainer_params.cbam_gate; avpgan only). */
typedef enum avpgan_cbam_gate {
    /** The reference's CBAM: x' = x * Mc(x), y = x' * Ms(x'). */
    AVPGAN_CBAM_GATE_SIGMOID = 0,
    /** Residual attention: x' = x * (1 + Mc(x)), y = x' * (1 + Ms(x')); an untrained gate
     *  scales by about 1.5 instead of 0.5, so the voice reaches the generator's output
     *  (docs/training-design.md, "Third round: a residual CBAM gate"). */
    AVPGAN_CBAM_GATE_RESIDUAL = 1
} avpgan_cbam_gate;

/** Number of losses a training step returns. */
#define AVPGAN_N_LOSSES 5

/** The losses of a step, in the reference gan_step's order (indices into losses[]). */
typedef enum avpgan_loss {
    AVPGAN_LOSS_D_REAL = 0,   /* BCE of the discriminator on real faces (target 1) */
    AVPGAN_LOSS_D_FAKE = 1,   /* BCE of the discriminator on generated faces (target 0) */
    AVPGAN_LOSS_C_REAL = 2,   /* NLL of the classifier on real faces, face labels */
    AVPGAN_LOSS_G_FAKE = 3,   /* BCE of the discriminator on generated faces (target 1), the G step */
    AVPGAN_LOSS_G_CLASS = 4   /* NLL of the classifier on generated faces, voice labels */
} avpgan_loss;

/** Health warnings of a training run (bits of avpgan_trainer_info.health). Each is judged
 *  on moving averages over about 100 steps, from step params.health_warm_up (500) on, and
 *  stays raised once raised (docs/training-design.md, "Training health"). */
typedef enum avpgan_health {
    /** The generated faces of a batch no longer differ (mode collapse). */
    AVPGAN_HEALTH_COLLAPSE = 1,
    /** The discriminator's loss (d_real + d_fake) stays near zero. */
    AVPGAN_HEALTH_DISCRIMINATOR_WINS = 2,
    /** The classifier's loss on generated faces (g_class) is at or above chance, ln(n_identities). */
    AVPGAN_HEALTH_CLASSIFIER_AT_CHANCE = 4
} avpgan_health;

/** Data-parallel training: replaces values[0..count) by their element-wise sum over all
 *  ranks, the same result on every rank (MPI_Allreduce with MPI_IN_PLACE, MPI_FLOAT and
 *  MPI_SUM does exactly this; NCCL or Gloo serve as well). Called on the thread that made the
 *  trainer call, at the same points on every rank. Returns 0 on success; anything else fails
 *  the trainer call with AVPGAN_E_IO (the host then ends the job: the other ranks may be
 *  waiting inside their own call). */
typedef int (*avpgan_allreduce_fn)(float *values, size_t count, void *user_data);

/** Options of a trainer. The strings are read during the call only. */
typedef struct avpgan_trainer_params {
    size_t struct_size;
    /** avpgan_trainer_create: an avpgan_arch value; default AVPGAN_ARCH_AVPGAN. */
    int32_t arch;
    /** avpgan_trainer_create: an avpgan_widths value; default AVPGAN_WIDTHS_FULL. */
    int32_t widths;
    /** Voices and faces per batch drawn from the data set, 1-4096; default 64. */
    uint32_t batch_size;
    /** avpgan_trainer_create: seeds the new networks' weights and the batch sampler
     *  (batches, crops, mirroring, embedding noise); default 1. */
    uint64_t seed;
    /** The data set: voices_dir/<identity>/<recording> (any audio libsndfile reads) and
     *  faces_dir/<identity>/<picture> (PNG or JPEG). Identities in both directories,
     *  and not in test_list, are trained, in sorted order (label = position). */
    const char *voices_dir;
    const char *faces_dir;
    /** Optional: a text file of identity names held out of training (one per line);
     *  NULL = voices_dir/../test.txt when that file exists (as avpgan synth-data writes it
     *  and as the avpgan command does), else none. */
    const char *test_list;
    /** avpgan_trainer_create: a model file holding a voice encoder, which stays frozen;
     *  its widths, mels and embedding size become the trainer's. */
    const char *voice_encoder;
    /** Directory of the feature cache (created if missing): each recording's
     *  features are computed once and stored there. Required with a data set. */
    const char *cache_dir;
    /** An avpgan_split value; default AVPGAN_SPLIT_TEST_LIST. */
    int32_t split;
    /** avpgan_trainer_create: 1 puts spectral norm on the generator's stride-2 layers as
     *  well as the face encoder's (the reference's avpgan and avpgan-nocbam); 0 on the face
     *  encoder only (an experiment of docs/training-design.md, "Why avpgan collapsed").
     *  Ignored for voice2face and by avpgan_trainer_load_checkpoint (the checkpoint
     *  decides). Default 1. (It fills what was the struct's tail padding:
     *  a struct_size that stops before stop_on_collapse, from a caller compiled against the
     *  first header, leaves the default.) */
    int32_t generator_spectral_norm;
    /** Non-zero: avpgan_trainer_run stops with AVPGAN_E_ABORTED, before its next step, when
     *  a step raises AVPGAN_HEALTH_COLLAPSE or AVPGAN_HEALTH_DISCRIMINATOR_WINS
     *  (avpgan_trainer_info.health; AVPGAN_HEALTH_CLASSIFIER_AT_CHANCE only warns).
     *  Default 0: warn only. */
    int32_t stop_on_collapse;
    /** avpgan_trainer_create: steps before the health warnings are judged (a fresh
     *  generator's faces are all alike); default 500. A checkpoint keeps its own. */
    uint32_t health_warm_up;
    /** Optional: VoxCeleb's identity table (vox1_meta.csv: tab-separated, a header row with
     *  "VoxCeleb1 ID" and "VGGFace1 ID", optionally "Set"), for a data set in the corpus's own
     *  layout: voices_dir/id10001/<video>/<clip>.wav beside faces_dir/A.J._Buckley/<n>.jpg.
     *  Each voice folder takes the face folder name the table gives it. NULL: folders are
     *  matched by name. Voices may also be Voice2Face's .npy log-mel files ([frames, 64]). */
    const char *meta_file;
    /** Data-parallel training over n_ranks processes (or threads), this trainer being rank
     *  `rank` (0..n_ranks-1); n_ranks 0 or 1 (the default): alone, and allreduce is unused.
     *  With n_ranks >= 2 and allreduce set, avpgan_trainer_create and
     *  avpgan_trainer_load_checkpoint are collective: every rank calls them with the same
     *  params (but its own rank) and they fail on every rank (AVPGAN_E_INVALID_ARGUMENT)
     *  unless all ranks hold the same networks, optimizer state, sampler state and data set.
     *  Then avpgan_trainer_step and avpgan_trainer_run draw the same global batch of
     *  batch_size on every rank, each rank computes its own rows (contiguous, as equal as can
     *  be), and gradients are summed through allreduce before every optimizer step, so all
     *  ranks keep identical weights and report the global batch's losses;
     *  avpgan_trainer_gan_step takes this rank's rows of a batch whose size is their total.
     *  These calls are collective too; an abort callback of avpgan_trainer_run that fires on
     *  any rank stops every rank after the same step. avpgan_trainer_save and
     *  avpgan_trainer_export are not: call them on one rank. */
    avpgan_allreduce_fn allreduce;
    void *allreduce_user_data;
    uint32_t rank;
    uint32_t n_ranks;
    /** avpgan_trainer_create, avpgan only: 1 puts CBAM after the generator's blocks 2-5
     *  as well as the face encoder's (the reference); 0 in the face encoder only (docs/
     *  training-design.md, "Why avpgan collapsed"). Default 1. */
    int32_t generator_cbam;
    /** avpgan_trainer_create, avpgan only: CBAM's channel MLP has max(C / cbam_reduction, 1)
     *  hidden units, 1-65536; default 16 (the reference). */
    uint32_t cbam_reduction;
    /** avpgan_trainer_create, avpgan only: an avpgan_cbam_gate value for every CBAM;
     *  default AVPGAN_CBAM_GATE_RESIDUAL (avpgan learns with it; AVPGAN_CBAM_GATE_SIGMOID is
     *  the reference's, and what a struct_size from before this field gets). Kept in
     *  checkpoints and exported models, so a resumed run and the exported model use the gate
     *  the run was made with. */
    int32_t cbam_gate;
} avpgan_trainer_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_trainer_params). */
avpgan_status avpgan_trainer_params_init(avpgan_trainer_params *params, size_t struct_size);

/** A new trainer on a data set: the voice encoder from params->voice_encoder, a new
 *  generator, face encoder and heads for params->arch and params->widths (seeded),
 *  one classifier output per training identity. params is required: voices_dir,
 *  faces_dir, voice_encoder and cache_dir must be set. Loading computes the
 *  features of every recording not yet in the cache, which takes time.
 *  On failure *out_trainer is NULL. */
avpgan_status avpgan_trainer_create(const avpgan_trainer_params *params, avpgan_trainer **out_trainer);

/** A trainer in the state a checkpoint file holds (avpgan_trainer_save, the avpgan CLI's
 *  checkpoint.safetensors, or tools/converters/convert_torch.py --training). The checkpoint decides
 *  the architecture, widths and sampler state: params->arch, widths, seed and
 *  voice_encoder are ignored. params may be NULL.
 *  With params->voices_dir and faces_dir (and cache_dir), the trainer draws batches
 *  from that data set (of as many training identities as the checkpoint has) and
 *  continues the saved run bit-identically. Without them it has no data set:
 *  avpgan_trainer_gan_step works, avpgan_trainer_step and avpgan_trainer_run fail with
 *  AVPGAN_E_INVALID_ARGUMENT.
 *  Errors: AVPGAN_E_IO, AVPGAN_E_MODEL_FORMAT (not a checkpoint, a missing or
 *  mis-shaped tensor), AVPGAN_E_INVALID_ARGUMENT (the data set does not fit). */
avpgan_status avpgan_trainer_load_checkpoint(const char *path, const avpgan_trainer_params *params,
                                             avpgan_trainer **out_trainer);

/** Frees a trainer. NULL is allowed and does nothing. */
void avpgan_trainer_free(avpgan_trainer *trainer);

/** What a trainer is. Set struct_size = sizeof(avpgan_trainer_info) before the call. */
typedef struct avpgan_trainer_info {
    size_t struct_size;
    uint64_t step;             /* training steps taken (kept in checkpoints) */
    int32_t arch;              /* an avpgan_arch value */
    char arch_name[32];        /* "voice2face", "avpgan", "avpgan-nocbam"; NUL-terminated */
    uint32_t n_mels;           /* feature bands of a voice (64) */
    uint32_t embed_dim;        /* E: voice embedding size, the noise's width */
    uint32_t image_size;       /* S: faces are 3 x S x S */
    uint32_t n_identities;     /* classifier outputs: labels are 0 ... n_identities - 1 */
    uint32_t batch_size;       /* of avpgan_trainer_step; 0 without a data set */
    int32_t has_dataset;       /* 1: avpgan_trainer_step and _run work; 0: only _gan_step */
    uint32_t n_voice_widths;   /* voice-encoder conv widths, in order */
    uint32_t voice_widths[AVPGAN_MAX_LAYERS];
    uint32_t n_generator_widths;
    uint32_t generator_widths[AVPGAN_MAX_LAYERS];
    uint32_t n_face_widths;
    uint32_t face_widths[AVPGAN_MAX_LAYERS];
    uint64_t n_trained_parameters; /* scalars Adam updates (generator, face encoder, heads) */
    uint32_t health;           /* avpgan_health bits raised so far; 0: healthy */
    int32_t generator_spectral_norm; /* 1: the generator's stride-2 layers are spectrally normalised */
    uint64_t health_step;      /* the step at which the first warning was raised; 0: none */
    float batch_spread;        /* the last step's generated faces: mean over pixels of the std across the batch */
    int32_t generator_cbam;    /* 1: CBAM in the generator too (avpgan); 0: face encoder only, or no CBAM */
    uint32_t cbam_reduction;   /* CBAM's channel-MLP reduction (16 as the reference; also without CBAM) */
    int32_t cbam_gate;         /* an avpgan_cbam_gate value (AVPGAN_CBAM_GATE_SIGMOID also without CBAM) */
} avpgan_trainer_info;

/** Fills *info; set info->struct_size = sizeof(avpgan_trainer_info) first. */
avpgan_status avpgan_trainer_get_info(const avpgan_trainer *trainer, avpgan_trainer_info *info);

/** One training step on the caller's batch, exactly as the reference's
 *  gan_step(nets, opts, voice, voice_label, face, face_label, noise) with the voice
 *  encoder in eval mode and the other four networks in train mode.
 *  n: batch size, 1-4096. n_frames: frames per voice, 1-1048576; n_mels: the trainer's (64).
 *  voices: n x n_frames x n_mels floats, frame-major per voice (the library's feature
 *    layout: the transpose of torch's [N, mels, frames]).
 *  voice_labels: n identities of the voices (the G step's classifier target).
 *  faces: n x 3 x S x S floats, planar RGB (torch's NCHW), in [-1, 1].
 *  face_labels: n identities of the faces (the D step's classifier target).
 *  noise: n x embed_dim floats added to each normalised embedding, which is then
 *    normalised again (0.05 N(0, 1) in training; all zero for none).
 *  losses: NULL, or receives AVPGAN_N_LOSSES floats (avpgan_loss order).
 *  Labels must lie in 0 ... n_identities - 1, every float must be finite. Everything is
 *  checked before anything changes: a refused batch leaves the trainer as it was.
 *  Works with or without a data set; counts as one step. */
avpgan_status avpgan_trainer_gan_step(avpgan_trainer *trainer, size_t n, size_t n_frames, size_t n_mels,
                                      const float *voices, const int32_t *voice_labels,
                                      const float *faces, const int32_t *face_labels,
                                      const float *noise, float *losses);

/** One training step on a batch drawn from the trainer's data set (batch_size voices,
 *  one random crop length of 300-800 frames, random faces mirrored half the time,
 *  0.05 N(0, 1) embedding noise). losses: NULL, or receives AVPGAN_N_LOSSES floats.
 *  AVPGAN_E_INVALID_ARGUMENT when the trainer has no data set. */
avpgan_status avpgan_trainer_step(avpgan_trainer *trainer, float *losses);

/** Called after each step of avpgan_trainer_run: `done` steps of `total` are finished,
 *  `losses` (AVPGAN_N_LOSSES floats, valid during the call) are the last step's.
 *  It must not call functions on the same trainer (they are refused). */
typedef void (*avpgan_trainer_progress_fn)(uint64_t done, uint64_t total, const float *losses,
                                           void *user_data);

/** Asked before each step of long work: non-zero stops it. */
typedef int (*avpgan_abort_fn)(void *user_data);

/** n_steps steps of avpgan_trainer_step (1 <= n_steps <= 2^40). progress and abort_fn
 *  may be NULL; their user_data is passed through. abort_fn is asked before every
 *  step, the first included; when it returns non-zero the run stops between two steps
 *  (the trainer stays consistent: save it, or run on later) and returns
 *  AVPGAN_E_ABORTED. With params.stop_on_collapse, a step that raises a collapse or
 *  runaway-discriminator warning also stops the run with AVPGAN_E_ABORTED, after that step
 *  (the message names the warning; running on is allowed, and stops again only on a new
 *  warning).
 *  steps_done: NULL, or receives the number of steps this call took, on success and
 *  failure alike. AVPGAN_E_INVALID_ARGUMENT when the trainer has no
 *  data set. */
avpgan_status avpgan_trainer_run(avpgan_trainer *trainer, uint64_t n_steps,
                                 avpgan_trainer_progress_fn progress, void *progress_user_data,
                                 avpgan_abort_fn abort_fn, void *abort_user_data,
                                 uint64_t *steps_done);

/** Writes a checkpoint file: the five networks (spectral norm as weight_orig, weight_u,
 *  weight_v), Adam's state, the step and the sampler state, so that
 *  avpgan_trainer_load_checkpoint continues bit-identically. Written to a temporary
 *  file and renamed into place. */
avpgan_status avpgan_trainer_save(const avpgan_trainer *trainer, const char *path);

/** Writes the inference model file of the current state (voice encoder and generator,
 *  spectral norm folded as torch's eval mode does), for avpgan_model_load_file. Written
 *  to a temporary file and renamed into place. */
avpgan_status avpgan_trainer_export(const avpgan_trainer *trainer, const char *path);

/* ------------------------------------------------------------------------ */
/* Face enhancement                                                          */
/* ------------------------------------------------------------------------ */

/* The paper's third module restores and enlarges a face with a GFP-GAN network:
 * a degradation-removal U-Net whose features steer a StyleGAN2 face prior through
 * channel-split spatial feature transforms (CS-SFT). An enhancer is such a
 * network, GFPGANv1Clean as the upstream `gfpgan` package computes it (the
 * architecture of the GFPGAN v1.2-v1.4 checkpoints), loaded from an enhancer
 * file (docs/enhancer-format.md; tools/converters/convert_gfpgan.py converts a release
 * checkpoint). Inference uses the noise stored in the file, so results are
 * deterministic. No enhancer ships with libavpgan. Like avpgan_model, an
 * enhancer is immutable and thread-safe; avpgan_enhancer_free must not race with
 * other calls on it. */

/** A loaded face enhancer. */
typedef struct avpgan_enhancer avpgan_enhancer;

/** Loads an enhancer file. params may be NULL (only max_header_bytes is used).
 *  A voice-portrait or face-recognition model file is refused with
 *  AVPGAN_E_MODEL_FORMAT, as are NaN or infinite weights. On failure *out_enhancer
 *  is NULL. */
avpgan_status avpgan_enhancer_load_file(const char *path, const avpgan_model_params *params,
                                        avpgan_enhancer **out_enhancer);

/** Loads an enhancer from a memory image of the file (the bytes are copied). */
avpgan_status avpgan_enhancer_load_buffer(const void *data, size_t size,
                                          const avpgan_model_params *params,
                                          avpgan_enhancer **out_enhancer);

/** Frees an enhancer. NULL is allowed and does nothing. */
void avpgan_enhancer_free(avpgan_enhancer *enhancer);

/** What an enhancer is: upstream GFPGANv1Clean's constructor arguments.
 *  Set struct_size = sizeof(avpgan_enhancer_info). */
typedef struct avpgan_enhancer_info {
    size_t struct_size;
    char arch_name[32];        /* "gfpgan-v1-clean"; NUL-terminated */
    uint32_t size;             /* output side S in pixels (32-1024), also the network's input side */
    uint32_t num_style_feat;   /* length of a style vector */
    double channel_multiplier; /* widths: see docs/enhancer-format.md */
    double narrow;
    uint32_t num_mlp;          /* style MLP layers (used when input_is_latent is 0) */
    int32_t different_w;       /* 1: one style vector per decoder layer */
    int32_t sft_half;          /* 1: CS-SFT on half of the decoder's channels, 0: on all */
    int32_t input_is_latent;   /* 1: the style code skips the style MLP */
    uint64_t n_parameters;     /* scalar weights and noise values in the file */
    uint64_t file_bytes;       /* size of the file or buffer it was loaded from */
    char sha256[65];           /* SHA-256 of those bytes, lowercase hex, NUL-terminated */
} avpgan_enhancer_info;

/** Fills *info; set info->struct_size = sizeof(avpgan_enhancer_info) first. */
avpgan_status avpgan_enhancer_get_info(const avpgan_enhancer *enhancer, avpgan_enhancer_info *info);

/** Called as long work advances: `done` of `total` stages are finished. */
typedef void (*avpgan_progress_fn)(uint64_t done, uint64_t total, void *user_data);

/** Options for an enhancement. */
typedef struct avpgan_enhance_params {
    size_t struct_size;
    /** NULL (default), or called after each stage (2 (log2 S - 2) stages per image). */
    avpgan_progress_fn progress;
    void *progress_user_data;
    /** NULL (default), or asked before each stage: non-zero stops the call with
     *  AVPGAN_E_ABORTED (nothing is written to the output). */
    avpgan_abort_fn abort_fn;
    void *abort_user_data;
} avpgan_enhance_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_enhance_params). */
avpgan_status avpgan_enhance_params_init(avpgan_enhance_params *params, size_t struct_size);

/** Restores one face picture into an S x S one (S = info.size).
 *  pixels: width x height x 3 bytes, interleaved RGB, rows top to bottom, each row
 *  row_stride bytes apart (0 means width * 3); 1 <= width, height <= 16384. The
 *  picture (an aligned face crop: nothing is cropped, the aspect ratio is not kept)
 *  is resized to S x S by bilinear interpolation with half-pixel centres that
 *  averages when shrinking (torch's interpolate(mode="bilinear",
 *  align_corners=False, antialias=True)), mapped to [-1, 1] by p / 127.5 - 1,
 *  restored, clamped to [-1, 1] and mapped back by floor((x + 1) / 2 * 255 + 0.5).
 *  out: receives S x S x 3 bytes, interleaved RGB. params may be NULL. */
avpgan_status avpgan_enhance(const avpgan_enhancer *enhancer, const uint8_t *pixels,
                             size_t width, size_t height, size_t row_stride,
                             const avpgan_enhance_params *params,
                             uint8_t *out, size_t capacity, size_t *needed);

/** The network itself on a batch: images n x 3 x S x S floats (planar RGB, in
 *  [-1, 1] as the network expects; any finite values are taken), 1 <= n <= 1024.
 *  out: receives n x 3 x S x S floats, the network's output before clamping. */
avpgan_status avpgan_enhance_raw(const avpgan_enhancer *enhancer, const float *images, size_t n,
                                 const avpgan_enhance_params *params,
                                 float *out, size_t capacity, size_t *needed);

/* ------------------------------------------------------------------------ */
/* Enhancer training                                                         */
/* ------------------------------------------------------------------------ */

/* An enhancer trainer trains an enhancer as `avpgan train-enhancer` does
 * (docs/enhancer-training.md): GFPGAN's training loop (the generator, the face
 * discriminator with its R1 penalty, the eye and mouth discriminators, an EMA copy
 * of the generator) on a folder of square, aligned, high-resolution faces, which it
 * degrades into inputs as GFPGAN's training does. A new enhancer starts at one of the
 * avpgan_enhancer_widths, or from an enhancer file (fine-tuning a converted GFPGAN).
 * Runs are seeded and deterministic, also across thread counts
 * (avpgan_set_num_threads sets them, process-wide); a checkpoint continues bit-identically.
 * A share of the faces (params.validation_fraction) is held out for validation.
 *
 * Threads: an enhancer trainer is mutable, as an avpgan_trainer: calls on one must not
 * overlap; a call made while another is in progress (another thread, or a callback of
 * avpgan_enhancer_trainer_run) is refused with AVPGAN_E_INVALID_ARGUMENT and changes
 * nothing. avpgan_enhancer_trainer_free must not race with other calls on it. */

/** An enhancer training run. */
typedef struct avpgan_enhancer_trainer avpgan_enhancer_trainer;

/** Widths of a new enhancer (avpgan_enhancer_trainer_params.widths); every one keeps
 *  GFPGAN v1.3/v1.4's layout. */
typedef enum avpgan_enhancer_widths {
    /** num_style_feat 64, channel_multiplier 1, narrow 0.25 (3.2M parameters at 128 px). */
    AVPGAN_ENHANCER_WIDTHS_SMALL = 0,
    /** GFPGAN v1.3/v1.4's: num_style_feat 512, channel_multiplier 2, narrow 1. */
    AVPGAN_ENHANCER_WIDTHS_FULL = 1,
    /** num_style_feat 8, channel_multiplier 1, narrow 1/64 (tests). */
    AVPGAN_ENHANCER_WIDTHS_TINY = 2
} avpgan_enhancer_widths;

/** Number of losses an enhancer training step reports. */
#define AVPGAN_ENHANCER_N_LOSSES 16

/** The losses of an enhancer training step (indices into losses[]), as upstream's
 *  GFPGANModel logs them (avpgan_enhancer_loss_name gives the log name). A step computes
 *  only some: the terms whose weight is 0 are off, the R1 penalty runs every 16th step,
 *  and the facial-component terms need the component discriminators. Bit i of a
 *  `present` mask is set when losses[i] was computed; the others are 0. */
typedef enum avpgan_enhancer_loss {
    AVPGAN_ENHANCER_LOSS_G_PIX = 0,             /* l_g_pix: weighted L1 */
    AVPGAN_ENHANCER_LOSS_G_PERCEP = 1,          /* l_g_percep: weighted perceptual (VGG-19) */
    AVPGAN_ENHANCER_LOSS_G_STYLE = 2,           /* l_g_style: weighted Gram style on VGG-19 features */
    AVPGAN_ENHANCER_LOSS_G_GAN = 3,             /* l_g_gan: weighted adversarial, face discriminator */
    AVPGAN_ENHANCER_LOSS_G_GAN_LEFT_EYE = 4,    /* l_g_gan_left_eye */
    AVPGAN_ENHANCER_LOSS_G_GAN_RIGHT_EYE = 5,   /* l_g_gan_right_eye */
    AVPGAN_ENHANCER_LOSS_G_GAN_MOUTH = 6,       /* l_g_gan_mouth */
    AVPGAN_ENHANCER_LOSS_G_COMP_STYLE = 7,      /* l_g_comp_style_loss: Gram style of the components */
    AVPGAN_ENHANCER_LOSS_IDENTITY = 8,          /* l_identity: weighted identity (face model) */
    AVPGAN_ENHANCER_LOSS_D = 9,                 /* l_d: the face discriminator's loss */
    AVPGAN_ENHANCER_LOSS_REAL_SCORE = 10,       /* real_score: its mean score on the truths */
    AVPGAN_ENHANCER_LOSS_FAKE_SCORE = 11,       /* fake_score: its mean score on the outputs */
    AVPGAN_ENHANCER_LOSS_D_R1 = 12,             /* l_d_r1: its weighted R1 penalty (every 16th step) */
    AVPGAN_ENHANCER_LOSS_D_LEFT_EYE = 13,       /* l_d_left_eye */
    AVPGAN_ENHANCER_LOSS_D_RIGHT_EYE = 14,      /* l_d_right_eye */
    AVPGAN_ENHANCER_LOSS_D_MOUTH = 15           /* l_d_mouth */
} avpgan_enhancer_loss;

/** Upstream's log name of an avpgan_enhancer_loss ("l_g_pix", ...), a static string;
 *  NULL for a value out of range. */
const char *avpgan_enhancer_loss_name(int32_t loss);

/** Options of an enhancer trainer. The strings are read during the call only.
 *  "create:" fields make a new run; avpgan_enhancer_trainer_load_checkpoint takes them
 *  from the checkpoint instead. */
typedef struct avpgan_enhancer_trainer_params {
    size_t struct_size;
    /** Required: the face folder, read recursively: square PNG or JPEG faces, all of one
     *  size (32, 64, 128, 256, 512 or 1024 px), at least 2; optional landmarks.json for
     *  the eye and mouth boxes (docs/enhancer-training.md). */
    const char *faces_dir;
    /** NULL (default): nothing is written by itself. A folder (created if missing): every
     *  checkpoint_every steps, and when avpgan_enhancer_trainer_run is aborted, the checkpoint
     *  (enhancer-checkpoint.safetensors), the JSONL log (train-enhancer.jsonl) and a sample
     *  sheet (samples/step-NNNNNN.png) go there. */
    const char *checkpoint_dir;
    /** create: the training size; 0 (default): the faces' (an init enhancer's must match). */
    uint32_t size;
    /** create: an avpgan_enhancer_widths value; default AVPGAN_ENHANCER_WIDTHS_SMALL.
     *  Ignored with init_enhancer. */
    int32_t widths;
    /** create: replace the widths' channel_multiplier and narrow when not 0 (default 0). */
    double channel_multiplier;
    double narrow;
    /** create: NULL, or an enhancer file to fine-tune (a converted GFPGAN, or one of
     *  ours): the generator and its EMA start from it, the discriminators fresh. */
    const char *init_enhancer;
    /** A VGG-19 file (tools/converters/convert_vgg.py) for the perceptual losses, and a
     *  face-recognition model (tools/converters/convert_face.py) for the identity loss.
     *  NULL: that loss is off (create), or refused when the checkpoint's run has it on. */
    const char *perceptual;
    const char *face_model;
    /** create: the loss weights, finite and not negative, 0 turning a term off; defaults
     *  the paper's: L1 0.1, perceptual 1, perceptual style 0, adversarial 0.1, facial
     *  components 1, component style 200, identity 10. */
    float loss_l1;
    float loss_perceptual;
    float loss_perceptual_style;
    float loss_adversarial;
    float loss_facial_components;
    float loss_component_style;
    float loss_identity;
    /** create: learning rate of the generator and all discriminators; default 2e-3 (upstream's). */
    double lr;
    /** Faces per step, 1-4096; 0 (default): 4 for a new run, the checkpoint's when
     *  resuming (another size is refused there). With the adversarial loss on, it must be
     *  below 4 or a multiple of 4 (the discriminator's groups). */
    uint32_t batch_size;
    /** create: seeds the networks, the noise, the degradations, the batches and the
     *  held-out split; default 1. */
    uint64_t seed;
    /** create: share of the faces held out for validation, in [0, 1); default 0.05 (at
     *  least one face is held out). */
    double validation_fraction;
    /** Steps between automatic checkpoints and validations (with checkpoint_dir), >= 1;
     *  default 100. */
    uint32_t checkpoint_every;
    /** Rows of each sample sheet; default 8; 0: no sheets. */
    uint32_t sheet_rows;
    /** Side of validation's low-resolution inputs, 4 up to the training size; 0 (default):
     *  min(64, size / 2). */
    uint32_t validation_low_size;
    /** Data-parallel training over n_ranks processes (or threads), this trainer being rank
     *  `rank` (0..n_ranks-1), with the meaning and collective rules of avpgan_trainer_params'
     *  fields of the same names; n_ranks 0 or 1 (the default): alone, and allreduce is unused.
     *  With n_ranks >= 2 and allreduce set, avpgan_enhancer_trainer_create and
     *  avpgan_enhancer_trainer_load_checkpoint are collective: every rank calls them with the
     *  same params (but its own rank) and they fail on every rank (AVPGAN_E_INVALID_ARGUMENT)
     *  unless all ranks hold the same networks, optimizer state, faces and batch position. The
     *  batch must give each rank whole groups of the face discriminator (batch_size a multiple
     *  of 4 * n_ranks with the adversarial loss on). avpgan_enhancer_trainer_step and
     *  avpgan_enhancer_trainer_run draw the same batch on every rank, each rank computes its
     *  own faces, and the gradients are summed through allreduce before every optimizer step,
     *  so all ranks keep identical networks and report the whole batch's losses; they are
     *  collective too, and an abort callback that fires on any rank stops every rank after the
     *  same step. Rank 0 alone writes into checkpoint_dir and validates automatically;
     *  avpgan_enhancer_trainer_save, _export and _validate are not collective: call them on one
     *  rank (export writes on rank 0 only). (A struct_size from before these fields, up to
     *  validation_low_size, trains alone.) */
    avpgan_allreduce_fn allreduce;
    void *allreduce_user_data;
    uint32_t rank;
    uint32_t n_ranks;
} avpgan_enhancer_trainer_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_enhancer_trainer_params). */
avpgan_status avpgan_enhancer_trainer_params_init(avpgan_enhancer_trainer_params *params, size_t struct_size);

/** A new enhancer trainer on params->faces_dir (required). Reads the faces and the
 *  network files, and makes checkpoint_dir. A loss without its network file is turned off
 *  (avpgan_enhancer_trainer_info.loss_weights shows what is on).
 *  Errors: AVPGAN_E_INVALID_ARGUMENT (a field out of range, faces of mixed or unsupported
 *  sizes, non-square faces, fewer than 2 faces), AVPGAN_E_IO (a missing folder or file),
 *  AVPGAN_E_MODEL_FORMAT (a network file that is not one). On failure *out_trainer is NULL. */
avpgan_status avpgan_enhancer_trainer_create(const avpgan_enhancer_trainer_params *params,
                                             avpgan_enhancer_trainer **out_trainer);

/** A trainer continuing the checkpoint at `path` (avpgan_enhancer_trainer_save, or the
 *  enhancer-checkpoint.safetensors of a checkpoint_dir or of avpgan train-enhancer) on
 *  the same faces (params->faces_dir, required: a checkpoint of another folder is refused),
 *  bit-identically. The checkpoint decides the networks, losses, seed, split and batch; the
 *  network files of the losses it has on must be given again (perceptual, face_model). */
avpgan_status avpgan_enhancer_trainer_load_checkpoint(const char *path, const avpgan_enhancer_trainer_params *params,
                                                      avpgan_enhancer_trainer **out_trainer);

/** Frees an enhancer trainer. NULL is allowed and does nothing. */
void avpgan_enhancer_trainer_free(avpgan_enhancer_trainer *trainer);

/** What an enhancer trainer is. Set struct_size = sizeof(avpgan_enhancer_trainer_info). */
typedef struct avpgan_enhancer_trainer_info {
    size_t struct_size;
    uint64_t step;             /* training steps taken (kept in checkpoints) */
    uint32_t size;             /* the faces' and the enhancer's side S in pixels */
    uint32_t num_style_feat;   /* the generator's shape, as avpgan_enhancer_info's */
    double channel_multiplier;
    double narrow;
    uint32_t batch_size;       /* faces per step */
    uint32_t n_faces;          /* faces in the folder */
    uint32_t n_training_faces; /* of which trained on */
    uint32_t n_validation_faces; /* and held out */
    /** The loss weights in effect (0: off), in avpgan_enhancer_trainer_params order: l1,
     *  perceptual, perceptual style, adversarial, facial components, component style, identity. */
    float loss_weights[7];
    /** The last step's losses (avpgan_enhancer_loss order) and which were computed; all 0
     *  before the trainer's first step. */
    float losses[AVPGAN_ENHANCER_N_LOSSES];
    uint32_t losses_present;
} avpgan_enhancer_trainer_info;

/** Fills *info; set info->struct_size = sizeof(avpgan_enhancer_trainer_info) first. */
avpgan_status avpgan_enhancer_trainer_get_info(const avpgan_enhancer_trainer *trainer,
                                               avpgan_enhancer_trainer_info *info);

/** Called after each step of avpgan_enhancer_trainer_run: `done` steps of `total` are
 *  finished; `losses` (AVPGAN_ENHANCER_N_LOSSES floats, valid during the call) are the last
 *  step's, bit i of `present` set when losses[i] was computed. It must not call functions
 *  on the same trainer (they are refused). */
typedef void (*avpgan_enhancer_progress_fn)(uint64_t done, uint64_t total, const float *losses,
                                            uint32_t present, void *user_data);

/** One training step on a batch drawn from the faces (with checkpoint_dir, the automatic
 *  checkpoint when the step is a multiple of checkpoint_every). losses: NULL, or receives
 *  AVPGAN_ENHANCER_N_LOSSES floats; present: NULL, or receives their mask.
 *  A loss that is not finite gives AVPGAN_E_MODEL_FORMAT naming it: the run has diverged,
 *  nothing is saved after it; continue from the last checkpoint. */
avpgan_status avpgan_enhancer_trainer_step(avpgan_enhancer_trainer *trainer, float *losses, uint32_t *present);

/** n_steps steps (1 <= n_steps <= 2^40), as avpgan_enhancer_trainer_step. progress and
 *  abort_fn may be NULL; abort_fn is asked before every step, the first included; when it
 *  returns non-zero the run stops between two steps, writes the checkpoint into
 *  checkpoint_dir when there is one (the trainer stays consistent: save it, or run on later)
 *  and returns AVPGAN_E_ABORTED. steps_done: NULL, or receives the number of steps this call
 *  took, on success and failure alike. */
avpgan_status avpgan_enhancer_trainer_run(avpgan_enhancer_trainer *trainer, uint64_t n_steps,
                                          avpgan_enhancer_progress_fn progress, void *progress_user_data,
                                          avpgan_abort_fn abort_fn, void *abort_user_data,
                                          uint64_t *steps_done);

/** Writes the checkpoint of the current step (networks, Adam's state, EMA, the sampler's
 *  position, the faces' fingerprint) for avpgan_enhancer_trainer_load_checkpoint. Written to
 *  a temporary file and renamed into place: a failed write leaves the old file whole. */
avpgan_status avpgan_enhancer_trainer_save(const avpgan_enhancer_trainer *trainer, const char *path);

/** Writes the EMA generator as an enhancer file, for avpgan_enhancer_load_file. */
avpgan_status avpgan_enhancer_trainer_export(const avpgan_enhancer_trainer *trainer, const char *path);

/** What avpgan_enhancer_trainer_validate measured. Set struct_size first. */
typedef struct avpgan_enhancer_validation {
    size_t struct_size;
    uint64_t step;             /* the step validated */
    uint32_t n_faces;          /* held-out faces measured */
    uint32_t low_size;         /* side they were downsampled to (bicubic) before enhancing */
    double psnr;               /* mean PSNR (dB) of the EMA enhancer's outputs against the truths */
    double ssim;               /* and mean SSIM */
    double bicubic_psnr;       /* the same of bicubic upscaling of the same inputs */
    double bicubic_ssim;
} avpgan_enhancer_validation;

/** Validates the EMA generator on the held-out faces: each downsampled to low_size,
 *  enhanced, and measured against the truth beside bicubic upscaling. Logs the result and,
 *  with checkpoint_dir, writes the step's sample sheet. */
avpgan_status avpgan_enhancer_trainer_validate(avpgan_enhancer_trainer *trainer,
                                               avpgan_enhancer_validation *result);

/* ------------------------------------------------------------------------ */
/* Face-prior training                                                       */
/* ------------------------------------------------------------------------ */

/* A prior trainer trains the StyleGAN2 face prior that a new enhancer's decoder starts from, as
 * `avpgan train-prior` does (docs/enhancer-training.md, "The face prior"): basicsr's StyleGAN2
 * training (non-saturating softplus losses, R1 every 16th step, path-length regularisation every
 * 4th, style mixing, an EMA copy of the generator) on a folder of square, aligned faces,
 * mirrored at random. Runs are seeded and deterministic, also across thread counts; a checkpoint
 * continues bit-identically. The exported prior (avpgan_prior_trainer_export) is what `avpgan
 * train-enhancer --prior` takes; a prior of widths W at size S fits a new enhancer of the same
 * avpgan_enhancer_widths and size.
 *
 * Threads: a prior trainer is mutable, as an avpgan_enhancer_trainer: calls on one must not
 * overlap; a call made while another is in progress (another thread, or a callback of
 * avpgan_prior_trainer_run) is refused with AVPGAN_E_INVALID_ARGUMENT and changes nothing.
 * avpgan_prior_trainer_free must not race with other calls on it. */

/** A face-prior training run. */
typedef struct avpgan_prior_trainer avpgan_prior_trainer;

/** Number of losses a prior training step reports. */
#define AVPGAN_PRIOR_N_LOSSES 7

/** The losses of a prior training step (indices into losses[]), as upstream's StyleGAN2Model
 *  logs them (avpgan_prior_loss_name gives the log name). The R1 penalty is computed every
 *  16th step and the path-length terms every 4th; bit i of a `present` mask is set when
 *  losses[i] was computed, the others are 0. */
typedef enum avpgan_prior_loss {
    AVPGAN_PRIOR_LOSS_D = 0,           /* l_d: the discriminator's softplus loss */
    AVPGAN_PRIOR_LOSS_REAL_SCORE = 1,  /* real_score: its mean score on the faces */
    AVPGAN_PRIOR_LOSS_FAKE_SCORE = 2,  /* fake_score: its mean score on the generated faces */
    AVPGAN_PRIOR_LOSS_D_R1 = 3,        /* l_d_r1: its weighted R1 penalty (every 16th step) */
    AVPGAN_PRIOR_LOSS_G = 4,           /* l_g: the generator's non-saturating loss */
    AVPGAN_PRIOR_LOSS_G_PATH = 5,      /* l_g_path: weighted path-length penalty (every 4th step) */
    AVPGAN_PRIOR_LOSS_PATH_LENGTH = 6  /* path_length: the mean path length it measured */
} avpgan_prior_loss;

/** Upstream's log name of an avpgan_prior_loss ("l_d", ...), a static string; NULL for a
 *  value out of range. */
const char *avpgan_prior_loss_name(int32_t loss);

/** Options of a prior trainer. The strings are read during the call only. "create:" fields
 *  make a new run; avpgan_prior_trainer_load_checkpoint takes them from the checkpoint. */
typedef struct avpgan_prior_trainer_params {
    size_t struct_size;
    /** Required: the face folder, read recursively: square PNG or JPEG faces, all of one size
     *  (32, 64, 128, 256, 512 or 1024 px), at least 2 (one is held out, as an enhancer
     *  trainer's split does, and not trained on). */
    const char *faces_dir;
    /** NULL (default): nothing is written by itself. A folder (created if missing): every
     *  checkpoint_every steps, and when avpgan_prior_trainer_run is aborted, the checkpoint
     *  (prior-checkpoint.safetensors), the JSONL log (train-prior.jsonl) and, at the
     *  checkpoints, a sheet of the EMA generator's samples (samples/step-NNNNNN.png) go there. */
    const char *checkpoint_dir;
    /** create: the training size; 0 (default): the faces'. */
    uint32_t size;
    /** create: an avpgan_enhancer_widths value, the widths of the enhancer decoder the prior
     *  is for; default AVPGAN_ENHANCER_WIDTHS_SMALL. */
    int32_t widths;
    /** create: learning rate of the generator and the discriminator, finite and not
     *  negative; default 2e-3 (upstream's). */
    double lr;
    /** create: seeds the networks, the noise and style mixing, the batches, the split and the
     *  sample sheets' z; default 1. */
    uint64_t seed;
    /** Faces per step, 1-4096; 0 (default): 4 for a new run, the checkpoint's when resuming
     *  (another size is refused there). It must be below 4 or a multiple of 4 (the
     *  discriminator's groups). */
    uint32_t batch_size;
    /** Steps between automatic checkpoints (with checkpoint_dir), >= 1; default 100. */
    uint32_t checkpoint_every;
    /** Faces on each sample sheet, 0-256; default 16; 0: no sheets. */
    uint32_t sheet_samples;
    /** The sheets' truncation psi, finite (1, the default: none; toward the mean style). */
    float truncation;
    /** Data-parallel training over n_ranks processes (or threads), this trainer being rank
     *  `rank` (0..n_ranks-1), with the meaning and collective rules of avpgan_trainer_params'
     *  fields of the same names; n_ranks 0 or 1 (the default): alone, and allreduce is unused.
     *  With n_ranks >= 2 and allreduce set, avpgan_prior_trainer_create and
     *  avpgan_prior_trainer_load_checkpoint are collective: every rank calls them with the
     *  same params (but its own rank) and they fail on every rank (AVPGAN_E_INVALID_ARGUMENT)
     *  unless all ranks hold the same networks, optimizer state, faces and batch position. The
     *  batch must give each rank whole groups of the discriminator (batch_size a multiple of
     *  4 * n_ranks). avpgan_prior_trainer_step and avpgan_prior_trainer_run draw the same real
     *  faces and random codes on every rank, each rank computes its own faces (and its share
     *  of the path-length term's), and the gradients are summed through allreduce before
     *  every optimizer step, so all ranks keep identical networks and report the whole
     *  batch's losses; they are collective too, and an abort callback that fires on any rank
     *  stops every rank after the same step. Rank 0 alone writes into checkpoint_dir;
     *  avpgan_prior_trainer_save and _export are not collective: call them on one rank
     *  (export writes on rank 0 only). (A struct_size from before these fields, up to
     *  truncation, trains alone.) */
    avpgan_allreduce_fn allreduce;
    void *allreduce_user_data;
    uint32_t rank;
    uint32_t n_ranks;
} avpgan_prior_trainer_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_prior_trainer_params). */
avpgan_status avpgan_prior_trainer_params_init(avpgan_prior_trainer_params *params, size_t struct_size);

/** A new prior trainer on params->faces_dir (required): reads the faces, makes new networks
 *  (seeded) and checkpoint_dir.
 *  Errors: AVPGAN_E_INVALID_ARGUMENT (a field out of range, faces of mixed or unsupported
 *  sizes, non-square faces, fewer than 2 faces, a batch the discriminator's groups do not
 *  divide), AVPGAN_E_IO (a missing folder). On failure *out_trainer is NULL. */
avpgan_status avpgan_prior_trainer_create(const avpgan_prior_trainer_params *params,
                                          avpgan_prior_trainer **out_trainer);

/** A trainer continuing the checkpoint at `path` (avpgan_prior_trainer_save, or the
 *  prior-checkpoint.safetensors of a checkpoint_dir or of avpgan train-prior) on the same
 *  faces (params->faces_dir, required: a checkpoint of another folder is refused),
 *  bit-identically. The checkpoint decides the networks, seed, split and batch.
 *  Errors: AVPGAN_E_IO (a missing file), AVPGAN_E_MODEL_FORMAT (not a prior checkpoint),
 *  AVPGAN_E_INVALID_ARGUMENT (other faces, another batch size). */
avpgan_status avpgan_prior_trainer_load_checkpoint(const char *path, const avpgan_prior_trainer_params *params,
                                                   avpgan_prior_trainer **out_trainer);

/** Frees a prior trainer. NULL is allowed and does nothing. */
void avpgan_prior_trainer_free(avpgan_prior_trainer *trainer);

/** What a prior trainer is. Set struct_size = sizeof(avpgan_prior_trainer_info). */
typedef struct avpgan_prior_trainer_info {
    size_t struct_size;
    uint64_t step;             /* training steps taken (kept in checkpoints) */
    uint32_t size;             /* the faces' and the prior's side S in pixels */
    uint32_t num_style_feat;   /* length of z and of the style vectors */
    uint32_t num_mlp;          /* linear layers of the style MLP */
    uint32_t batch_size;       /* faces per step */
    double channel_multiplier; /* the widths, as avpgan_enhancer_info's */
    double narrow;
    uint32_t n_faces;          /* faces in the folder */
    uint32_t n_training_faces; /* of which trained on */
    /** The last step's losses (avpgan_prior_loss order) and which were computed; all 0
     *  before the trainer's first step. */
    float losses[AVPGAN_PRIOR_N_LOSSES];
    uint32_t losses_present;
} avpgan_prior_trainer_info;

/** Fills *info; set info->struct_size = sizeof(avpgan_prior_trainer_info) first. */
avpgan_status avpgan_prior_trainer_get_info(const avpgan_prior_trainer *trainer, avpgan_prior_trainer_info *info);

/** Called after each step of avpgan_prior_trainer_run: `done` steps of `total` are finished;
 *  `losses` (AVPGAN_PRIOR_N_LOSSES floats, valid during the call) are the last step's, bit i of
 *  `present` set when losses[i] was computed. It must not call functions on the same trainer
 *  (they are refused). */
typedef void (*avpgan_prior_progress_fn)(uint64_t done, uint64_t total, const float *losses,
                                         uint32_t present, void *user_data);

/** One training step on a batch drawn from the faces (with checkpoint_dir, the automatic
 *  checkpoint and sheet when the step is a multiple of checkpoint_every). losses: NULL, or
 *  receives AVPGAN_PRIOR_N_LOSSES floats; present: NULL, or receives their mask.
 *  A loss that is not finite gives AVPGAN_E_MODEL_FORMAT naming it: the run has diverged,
 *  nothing is saved after it; continue from the last checkpoint. */
avpgan_status avpgan_prior_trainer_step(avpgan_prior_trainer *trainer, float *losses, uint32_t *present);

/** n_steps steps (1 <= n_steps <= 2^40), as avpgan_prior_trainer_step. progress and abort_fn
 *  may be NULL; abort_fn is asked before every step, the first included; when it returns
 *  non-zero the run stops between two steps, writes the checkpoint into checkpoint_dir when
 *  there is one (the trainer stays consistent: save it, or run on later) and returns
 *  AVPGAN_E_ABORTED. steps_done: NULL, or receives the number of steps this call took, on
 *  success and failure alike. */
avpgan_status avpgan_prior_trainer_run(avpgan_prior_trainer *trainer, uint64_t n_steps,
                                       avpgan_prior_progress_fn progress, void *progress_user_data,
                                       avpgan_abort_fn abort_fn, void *abort_user_data,
                                       uint64_t *steps_done);

/** Writes the checkpoint of the current step (networks, Adam's state, EMA, the path-length
 *  mean, the sampler's position, the faces' fingerprint) for
 *  avpgan_prior_trainer_load_checkpoint. Written to a temporary file and renamed into place:
 *  a failed write leaves the old file whole. */
avpgan_status avpgan_prior_trainer_save(const avpgan_prior_trainer *trainer, const char *path);

/** Writes the EMA generator as a face-prior file (StyleGAN2GeneratorClean's names), for
 *  `avpgan train-enhancer --prior`. */
avpgan_status avpgan_prior_trainer_export(const avpgan_prior_trainer *trainer, const char *path);

/* ------------------------------------------------------------------------ */
/* Evaluation, voice-encoder training and synthetic data                    */
/* ------------------------------------------------------------------------ */

/* What the avpgan command's pixel-retrieval, eval, train-voice and synth-data do, as
 * functions. They read a data set in the trainer's layout (voices_dir/<identity>/<recording>,
 * faces_dir/<identity>/<picture>) and split its identities as the trainer does (params.split,
 * params.test_list). Strings are read during the call only. Callbacks run on the calling
 * thread unless a function says otherwise, and must not free the handles the call uses. */

/** Which identities of a data set an evaluation takes. */
typedef enum avpgan_eval_split {
    AVPGAN_EVAL_SPLIT_TEST = 0,        /* the held-out identities (the default) */
    AVPGAN_EVAL_SPLIT_VALIDATION = 1,  /* the validation identities (AVPGAN_SPLIT_INITIAL_LETTER) */
    AVPGAN_EVAL_SPLIT_TRAIN = 2,       /* the training identities */
    AVPGAN_EVAL_SPLIT_ALL = 3          /* every identity with voices and faces */
} avpgan_eval_split;

/** Options of avpgan_pixel_retrieval_evaluate. */
typedef struct avpgan_pixel_retrieval_params {
    size_t struct_size;
    /** The data set (required) and its split, as in avpgan_trainer_params. */
    const char *voices_dir;
    const char *faces_dir;
    const char *test_list;
    int32_t split;            /* an avpgan_split value; default AVPGAN_SPLIT_TEST_LIST */
    int32_t eval_split;       /* an avpgan_eval_split value; default AVPGAN_EVAL_SPLIT_TEST */
    /** Directory of the feature cache (created if missing); NULL (default): the user's,
     *  $XDG_CACHE_HOME/avpgan/features or ~/.cache/avpgan/features, as the avpgan command's. */
    const char *cache_dir;
    /** NULL (default), or a PNG file to write: per identity (up to 16) its mean picture, then
     *  up to 7 faces generated from its recordings. */
    const char *grid_png;
    /** NULL, or called after each recording: `done` of `total` recordings. */
    avpgan_progress_fn progress;
    void *progress_user_data;
    /** NULL, or asked before each recording: non-zero stops the call with AVPGAN_E_ABORTED. */
    avpgan_abort_fn abort_fn;
    void *abort_user_data;
} avpgan_pixel_retrieval_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_pixel_retrieval_params). */
avpgan_status avpgan_pixel_retrieval_params_init(avpgan_pixel_retrieval_params *params, size_t struct_size);

/** The result of avpgan_pixel_retrieval_evaluate. Set struct_size first. Fractions in [0, 1]. */
typedef struct avpgan_pixel_retrieval_result {
    size_t struct_size;
    uint32_t n_identities;     /* identities ranked (the gallery) */
    uint32_t n_recordings;     /* recordings with speech, one generated face each */
    /** The generated faces: the fraction whose own identity ranks first, in the first five,
     *  and its mean rank (1 = nearest). */
    double top1;
    double top5;
    double mean_rank;
    /** Guessing: 1 / n, min(5, n) / n, (n + 1) / 2 for n identities. */
    double chance_top1;
    double chance_top5;
    double chance_mean_rank;
    /** The real pictures ranked the same way: the ceiling of this metric on the data set. */
    double real_top1;
    double real_top5;
    double real_mean_rank;
} avpgan_pixel_retrieval_result;

/** The learning check by pixel distance (avpgan pixel-retrieval): for every recording with
 *  speech of the chosen identities (at least 2), the model's face from the whole utterance
 *  (no noise) is ranked by mean squared pixel difference against one mean picture per
 *  identity; the real pictures are ranked the same way. Recordings without speech are left
 *  out; none with speech is AVPGAN_E_NO_SPEECH. A model without a generator is
 *  AVPGAN_E_MISSING_NETWORK. */
avpgan_status avpgan_pixel_retrieval_evaluate(const avpgan_model *model, const avpgan_pixel_retrieval_params *params,
                                              avpgan_pixel_retrieval_result *result);

/* avpgan_pixel_retrieval_evaluate in two steps, for hosts that share the work out: list the
 * recordings, embed any share of them anywhere (avpgan_pixel_retrieval_embeddings: features
 * and voice embeddings), join the shares in recording order, and generate and rank once
 * (avpgan_pixel_retrieval_score): bit for bit the result of the one call. */

/** The recordings avpgan_pixel_retrieval_evaluate would take with `params` (its data set and
 *  split; the other fields are not read), in its order: each path NUL-terminated, one after
 *  another, in `paths`. *needed = the bytes they take; a size query (paths NULL, capacity 0)
 *  fills only *needed; *n_recordings (may be NULL) = their number. */
avpgan_status avpgan_pixel_retrieval_recordings(const avpgan_pixel_retrieval_params *params, char *paths, size_t capacity,
                                                size_t *needed, size_t *n_recordings);

/** Options of avpgan_pixel_retrieval_embeddings. */
typedef struct avpgan_pixel_retrieval_embeddings_params {
    size_t struct_size;
    /** The feature cache, as avpgan_pixel_retrieval_params.cache_dir (NULL: the user's). */
    const char *cache_dir;
    /** NULL, or called after each recording: `done` of `total`. */
    avpgan_progress_fn progress;
    void *progress_user_data;
    /** NULL, or asked before each recording: non-zero stops the call with AVPGAN_E_ABORTED. */
    avpgan_abort_fn abort_fn;
    void *abort_user_data;
} avpgan_pixel_retrieval_embeddings_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_pixel_retrieval_embeddings_params). */
avpgan_status avpgan_pixel_retrieval_embeddings_params_init(avpgan_pixel_retrieval_embeddings_params *params,
                                                            size_t struct_size);

/** The per-recording part of pixel retrieval: the voice embeddings of `recordings` (paths from
 *  avpgan_pixel_retrieval_recordings, or any share of them) as opaque records, one per
 *  recording and each of the same size (`buffer` receives *needed bytes, known before any
 *  work; a size query, buffer NULL and capacity 0, computes nothing). Records of consecutive
 *  shares concatenate, carry no pointers and may cross processes. A recording without speech
 *  is a record saying so. The format is versioned and checked by the scoring, not a
 *  contract: make and score with the same library version. */
avpgan_status avpgan_pixel_retrieval_embeddings(const avpgan_model *model, const char *const *recordings, size_t n_recordings,
                                                const avpgan_pixel_retrieval_embeddings_params *params,
                                                uint8_t *buffer, size_t capacity, size_t *needed);

/** The rest of pixel retrieval: as avpgan_pixel_retrieval_evaluate (same params, result and
 *  grid), but the embeddings are not computed: `embeddings` (`size` bytes) holds the model's
 *  records of every recording of avpgan_pixel_retrieval_recordings in its order. Each
 *  record is checked against its recording and the model; a mismatch is
 *  AVPGAN_E_INVALID_ARGUMENT naming the record. params->progress is not called. */
avpgan_status avpgan_pixel_retrieval_score(const avpgan_model *model, const avpgan_pixel_retrieval_params *params,
                                           const uint8_t *embeddings, size_t size, avpgan_pixel_retrieval_result *result);

/** Options of avpgan_face_similarity_evaluate. */
typedef struct avpgan_face_similarity_params {
    size_t struct_size;
    /** The data set (required) and its split, as in avpgan_pixel_retrieval_params. */
    const char *voices_dir;
    const char *faces_dir;
    const char *test_list;
    int32_t split;
    int32_t eval_split;
    /** NULL (default), or identity names separated by commas: these identities, in this
     *  order, instead of eval_split. */
    const char *identities;
    /** Voice lengths in seconds, each in (0, 3600], or 0 for the whole voiced recording;
     *  NULL / 0 (default): 2, 4, 6, 8. At most 64. */
    const double *seconds;
    size_t n_seconds;
    /** NULL (default: "model 1", "model 2", ...), or n_models labels for the report files. */
    const char *const *model_labels;
    /** NULL (default: "face model"), or the face model's label for the report files. */
    const char *face_model_label;
    /** NULL (default), or a folder (created if missing) that receives what avpgan eval -o
     *  writes: eval.md, eval.csv, eval-recordings.csv, eval.json, grid.png, sweep-N.png. */
    const char *out_dir;
    /** Identities shown in the figures, 1-10000; default 8. */
    uint32_t rows;
    /** NULL, or called as portraits are made: `done` of `total` over all models. It is called
     *  from the library's worker threads, one call at a time. */
    avpgan_progress_fn progress;
    void *progress_user_data;
    /** NULL, or asked on the calling thread before each model: non-zero stops the call with
     *  AVPGAN_E_ABORTED. */
    avpgan_abort_fn abort_fn;
    void *abort_user_data;
} avpgan_face_similarity_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_face_similarity_params). */
avpgan_status avpgan_face_similarity_params_init(avpgan_face_similarity_params *params, size_t struct_size);

/** Bits of avpgan_face_similarity.unavailable: measures with nothing to average (e.g. the
 *  interval of a single speaker, the voiced seconds of the real faces' row). */
typedef enum avpgan_face_similarity_unavailable {
    AVPGAN_FACE_SIMILARITY_NO_OWN = 1,
    AVPGAN_FACE_SIMILARITY_NO_IMPOSTOR = 2,
    AVPGAN_FACE_SIMILARITY_NO_DIFFERENCE = 4,
    AVPGAN_FACE_SIMILARITY_NO_INTERVAL = 8,
    AVPGAN_FACE_SIMILARITY_NO_VOICED_SECONDS = 16
} avpgan_face_similarity_unavailable;

/** One row of the face-similarity table (the paper's Table 4). Its layout is fixed: new
 *  measures would come with a new struct and function. */
typedef struct avpgan_face_similarity {
    uint32_t model_index;      /* the model (0 ... n_models - 1); n_models: the real faces */
    uint32_t n_recordings;     /* recordings with speech (the real faces' row: faces) */
    uint32_t n_identities;
    uint32_t unavailable;      /* avpgan_face_similarity_unavailable bits: those fields are 0, not measured */
    double seconds;            /* the voice length asked; 0: the whole voiced recording */
    double voiced_seconds;     /* mean seconds of speech the portraits were made from */
    double own;                /* mean cosine with the speaker's real faces */
    double impostor;           /* mean cosine with the other identities' faces */
    double difference;         /* own - impostor, mean over speakers, with its 95 % t interval */
    double difference_low;
    double difference_high;
    double top1;               /* the speaker's faces rank first */
    double top5;               /* the speaker's faces rank in the first five */
} avpgan_face_similarity;

/** The paper's evaluation protocol (avpgan eval): every model's faces of every recording of the
 *  chosen identities (at least 2), at every voice length, embedded by face_model and compared
 *  by cosine similarity with the real faces. rows receives n_models * n_seconds rows (model
 *  by model, lengths in the order given), then one row for the real faces (model_index =
 *  n_models): *needed = n_models * n_seconds + 1. A size query (rows NULL, capacity 0)
 *  checks every argument and evaluates nothing. n_models: 1-64. Recordings without speech
 *  are left out. Every value is finite: a measure with nothing to average is 0 with its
 *  bit set in `unavailable`. */
avpgan_status avpgan_face_similarity_evaluate(const avpgan_model *const *models, size_t n_models,
                                              const avpgan_face_model *face_model,
                                              const avpgan_face_similarity_params *params,
                                              avpgan_face_similarity *rows, size_t capacity, size_t *needed);

/* avpgan_face_similarity_evaluate in two steps, for hosts that share the work out (Dask,
 * their own MPI): list the recordings, make the portraits of any share of them anywhere
 * (avpgan_face_similarity_portraits: the expensive part), join the shares in recording order,
 * and score them once (avpgan_face_similarity_score). The rows are bit for bit those of
 * avpgan_face_similarity_evaluate with the same arguments. */

/** The recordings avpgan_face_similarity_evaluate would evaluate with `params` (its data set,
 *  split and identities; the other fields are not read), in its order: each path
 *  NUL-terminated, one after another, in `paths`. *needed = the bytes they take; a size
 *  query (paths NULL, capacity 0) fills only *needed; *n_recordings (may be NULL) = their
 *  number. At least 2 identities, as avpgan_face_similarity_evaluate. */
avpgan_status avpgan_face_similarity_recordings(const avpgan_face_similarity_params *params, char *paths, size_t capacity,
                                                size_t *needed, size_t *n_recordings);

/** Options of avpgan_face_similarity_portraits. */
typedef struct avpgan_face_similarity_portraits_params {
    size_t struct_size;
    /** The voice lengths, as avpgan_face_similarity_params.seconds (the same values the
     *  scoring is given); NULL / 0 (default): 2, 4, 6, 8. */
    const double *seconds;
    size_t n_seconds;
    /** NULL, or called as portraits are made: `done` of `total` (recordings x lengths), from
     *  the library's worker threads, one call at a time. */
    avpgan_progress_fn progress;
    void *progress_user_data;
    /** NULL, or asked before each recording (from worker threads): non-zero stops the call
     *  with AVPGAN_E_ABORTED. */
    avpgan_abort_fn abort_fn;
    void *abort_user_data;
} avpgan_face_similarity_portraits_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_face_similarity_portraits_params). */
avpgan_status avpgan_face_similarity_portraits_params_init(avpgan_face_similarity_portraits_params *params,
                                                           size_t struct_size);

/** The per-recording part of the evaluation: `model`'s faces of `recordings` (paths from
 *  avpgan_face_similarity_recordings, or any share of them) at each length, as opaque
 *  records, one per recording and each of the same size (`buffer` receives *needed bytes:
 *  n_recordings times the size of one record, known before any work; a size query, buffer
 *  NULL and capacity 0, makes nothing). Records of consecutive shares concatenate: the
 *  caller joins them in recording order for avpgan_face_similarity_score; they carry no
 *  pointers and may cross processes and machines. A recording without speech is a record
 *  saying so (it is left out of the scores, as by avpgan_face_similarity_evaluate); any
 *  other failure fails the call with the first failing recording's error. The format is
 *  versioned and checked by the scoring, not a contract: make and score with the same
 *  library version. */
avpgan_status avpgan_face_similarity_portraits(const avpgan_model *model, const char *const *recordings, size_t n_recordings,
                                               const avpgan_face_similarity_portraits_params *params,
                                               uint8_t *buffer, size_t capacity, size_t *needed);

/** The scoring part of the evaluation: as avpgan_face_similarity_evaluate (same arguments,
 *  rows and size query), but the portraits are not made: portraits[m] (portrait_sizes[m]
 *  bytes) holds models[m]'s records of every recording of avpgan_face_similarity_recordings
 *  in its order, made with params->seconds. Each record is checked against its recording,
 *  the model and the lengths; a mismatch is AVPGAN_E_INVALID_ARGUMENT naming the record.
 *  params->progress is not called. */
avpgan_status avpgan_face_similarity_score(const avpgan_model *const *models, size_t n_models,
                                           const avpgan_face_model *face_model,
                                           const avpgan_face_similarity_params *params,
                                           const uint8_t *const *portraits, const size_t *portrait_sizes,
                                           avpgan_face_similarity *rows, size_t capacity, size_t *needed);

/** Called after each step of avpgan_voice_encoder_train: `step` of `steps`, the step's loss,
 *  and the running accuracy (crops classified as their speaker over the last 20 steps). */
typedef void (*avpgan_voice_training_progress_fn)(uint64_t step, uint64_t steps, float loss, double accuracy,
                                                  void *user_data);

/** Options of avpgan_voice_encoder_train. */
typedef struct avpgan_voice_training_params {
    size_t struct_size;
    /** voices_dir/<speaker>/<recording> (required); test_list and split as in
     *  avpgan_trainer_params; held-out speakers are not trained. */
    const char *voices_dir;
    const char *test_list;
    int32_t split;
    /** avpgan_widths of a new run; default AVPGAN_WIDTHS_FULL. */
    int32_t widths;
    /** Directory of the feature cache; NULL (default): the user's (as in
     *  avpgan_pixel_retrieval_params). */
    const char *cache_dir;
    /** The encoder-only model file written when all steps are done (required). */
    const char *output;
    /** NULL (default), or a folder (created if missing) for voice-checkpoint.safetensors. */
    const char *checkpoint_dir;
    /** NULL (default: checkpoint_dir/train-voice.jsonl, or none), or the JSONL log. */
    const char *log_path;
    /** Non-zero: continue from checkpoint_dir's checkpoint (and log). Default 0. */
    int32_t resume;
    /** Steps to reach (counted from 0, a resumed run included), 0-2^40; default 1000. */
    uint64_t steps;
    /** Utterance crops per batch, 2-4096; default 64. */
    uint32_t batch_size;
    /** A checkpoint every this many steps (and at the end), >= 1; default 100. */
    uint32_t checkpoint_every;
    /** Adam's learning rate of a new run, in (0, 1); default 2e-4. */
    double lr;
    /** Seeds a new run's weights and batches; default 1. */
    uint64_t seed;
    avpgan_voice_training_progress_fn progress;
    void *progress_user_data;
    /** NULL, or asked before each step: non-zero saves the checkpoint and stops the call with
     *  AVPGAN_E_ABORTED (no model file is written; resume later). */
    avpgan_abort_fn abort_fn;
    void *abort_user_data;
    /** Data-parallel pre-training over n_ranks processes (or threads), this call being rank
     *  `rank` (0..n_ranks-1), as avpgan_trainer_params' fields of the same names; n_ranks 0
     *  or 1 (the default): alone, and allreduce is unused. With n_ranks >= 2 and allreduce
     *  set, the call is collective: every rank makes it with the same params (but its own
     *  rank) and it fails on every rank (AVPGAN_E_INVALID_ARGUMENT) unless all hold the same
     *  data set, options and checkpoint. Each rank then computes its own crops of every
     *  global batch of batch_size (>= n_ranks), BatchNorm normalises with the whole batch's
     *  statistics (synchronised through allreduce), and gradients are summed before every
     *  Adam step: the ranks keep identical weights and running statistics and report the
     *  whole batch's loss. Rank 0 alone writes the checkpoint, the log and output; an abort
     *  callback that fires on any rank stops every rank after the same step. */
    avpgan_allreduce_fn allreduce;
    void *allreduce_user_data;
    uint32_t rank;
    uint32_t n_ranks;
} avpgan_voice_training_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_voice_training_params). */
avpgan_status avpgan_voice_training_params_init(avpgan_voice_training_params *params, size_t struct_size);

/** What avpgan_voice_encoder_train did. Set struct_size first. */
typedef struct avpgan_voice_training_result {
    size_t struct_size;
    uint64_t first_step;       /* the step the call started from (0, or the checkpoint's) */
    uint64_t step;             /* the step it reached */
    uint32_t n_speakers;       /* trained speakers (classifier outputs) */
    uint32_t n_held_out;       /* held-out utterances (one per speaker with two or more) */
    uint32_t held_out_correct; /* of those, classified as their speaker by the written model */
    uint32_t embed_dim;
    double steps_per_second;
} avpgan_voice_training_result;

/** Voice-encoder pre-training as a speaker classifier (avpgan train-voice; the step before
 *  Algorithm 1), with checkpoints, resume and a JSONL log; writes params->output, a model
 *  file holding only the voice encoder (for avpgan_trainer_params.voice_encoder), and
 *  measures the held-out accuracy. result may be NULL; it is filled on success and on
 *  AVPGAN_E_ABORTED. */
avpgan_status avpgan_voice_encoder_train(const avpgan_voice_training_params *params, avpgan_voice_training_result *result);

/** Options of avpgan_synthetic_dataset_write. */
typedef struct avpgan_synthetic_params {
    size_t struct_size;
    uint32_t speakers;         /* 2-10000; default 20 */
    uint32_t utterances;       /* recordings per speaker, 1-100; default 4 */
    uint32_t faces;            /* pictures per speaker, 1-100; default 4 */
    uint64_t seed;             /* default 1 */
    /** NULL, or called after each speaker. */
    avpgan_progress_fn progress;
    void *progress_user_data;
    /** NULL, or asked before each speaker: non-zero stops with AVPGAN_E_ABORTED. */
    avpgan_abort_fn abort_fn;
    void *abort_user_data;
} avpgan_synthetic_params;

/** Fills *params with defaults; struct_size is sizeof(avpgan_synthetic_params). */
avpgan_status avpgan_synthetic_params_init(avpgan_synthetic_params *params, size_t struct_size);

/** Writes a synthetic voice-face data set into the folder dir (avpgan synth-data): voices/<id>/
 *  <k>.wav spoken by espeak-ng (which must be installed: AVPGAN_E_IO otherwise),
 *  faces/<id>/<k>.png procedural 64x64 faces that depend on the voice, identities.csv and
 *  test.txt (every fifth speaker held out). Deterministic for a seed. params may be NULL. */
avpgan_status avpgan_synthetic_dataset_write(const char *dir, const avpgan_synthetic_params *params);

#ifdef __cplusplus
}
#endif

#endif /* AVPGAN_H */
