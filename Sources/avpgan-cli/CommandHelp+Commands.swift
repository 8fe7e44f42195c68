/// The commands of `avpgan`, in the order `avpgan help` lists them. Each command's parser reads
/// only the options listed here (CommandLine+Options.swift), so this table is the whole interface.
extension CommandHelp {
    typealias O = Option

    static let modelOption = O("--model", "MODEL", "model file (safetensors)",
                               default: "$AVPGAN_MODEL, then the installed default model")
    static let overwriteOption = O("--overwrite", nil, "replace existing outputs (otherwise they are skipped with a note)")
    static let threadsOption = O("--threads", "N", "computation threads; 0 = all CPUs", default: "0")
    static let frontEndOptions = [
        O("--seconds", "S", "use only the first S seconds of voiced audio", default: "all of it"),
        O("--no-vad", nil, "keep silence and noise too (no voice activity detection)"),
        O("--vad-mode", "0-3", "VAD aggressiveness, as WebRTC's", default: "2"),
    ]
    static let splitOptions = [
        O("--test-list", "FILE", "identities held out for testing, one per line", default: "VOICES/../test.txt when it exists"),
        O("--split-rule", "RULE", "initial-letter: the paper's split (names A-B validation, C-E test, the rest training); corpus-set: the meta table's Set column (test held out)",
          default: "initial-letter with --meta, else the test list"),
        O("--meta", "FILE", "VoxCeleb's vox1_meta.csv: joins voice folders (id10001) to face folders (A.J._Buckley)"),
    ]
    static let checkpointOptions = [
        O("--checkpoint-dir", "D", "checkpoints, the JSONL log and sample sheets go here"),
        O("--checkpoint-every", "N", "steps between checkpoints", default: "100"),
        O("--resume", nil, "continue from D's checkpoint (the same data and options)"),
        O("--log", "F.jsonl", "one JSON line of losses per step", default: "D/train.jsonl"),
        O("--cache", "DIR", "feature cache of the recordings, keyed by recording and front-end settings",
          default: "$XDG_CACHE_HOME/avpgan/features, else ~/.cache/avpgan/features"),
    ]

    static let all: [CommandHelp] = [
        CommandHelp(
            name: "portrait", synopsis: "VOICE... [-o OUT.png | --out-dir DIR] [options]",
            summary: "faces from recordings (files or folders of them), as PNG with provenance",
            description: """
            Turns each recording into a face portrait: decode, voice activity detection, log-mel \
            features, voice encoder, generator. Each PNG carries text chunks with the software, the \
            model's and the audio's SHA-256, the parameters and the voiced duration, and the notice \
            that it is a synthetic image, not a photograph. The same inputs give byte-identical \
            files. A folder stands for the audio files in it. One line per failed recording; the \
            exit status is 1 if any failed. Started by mpirun -np N (or srun -n N), each copy \
            takes every N-th file, so no file is done twice.
            Without --model: $AVPGAN_MODEL, else the installed default model \
            (/usr/share/avpgan/default.safetensors, trained on synthetic data: not a model of real \
            faces). In a checkout: --model models/default.safetensors.
            """,
            options: [
                O("-o", "OUT.png", "the output, for one recording"),
                O("--out-dir", "DIR", "one PNG per recording, named after it", default: "."),
                modelOption,
            ] + frontEndOptions + [
                O("--pixels", "clamp|minmax", "pixel mapping", default: "the model's"),
                O("--noise", "SD", "Gaussian noise on the unit embedding, for variations", default: "0"),
                O("--seed", "N", "seed of that noise", default: "0"),
                O("--timestamp", nil, "add a Creation Time chunk (the PNG then differs run to run)"),
                O("--enhance", "[ENHANCER]", "restore and enlarge each face with this enhancer file (GFPGAN, "
                    + "tools/converters/convert_gfpgan.py; a name ending in .safetensors), or without one the "
                    + "default enhancer ($AVPGAN_ENHANCER, else the installed "
                    + "default-enhancer.safetensors, trained on synthetic faces); the PNG then has the "
                    + "enhancer's size and SHA-256"),
                overwriteOption,
                threadsOption,
            ],
            examples: ["avpgan portrait voice.flac -o face.png",
                       "avpgan portrait --seconds 4 recordings/ --out-dir faces/",
                       "avpgan portrait --model models/default.safetensors voice.wav -o face.png",
                       "avpgan portrait --enhance voice.wav -o face128.png",
                       "mpirun -np 4 avpgan portrait archive/ --out-dir faces/"]),
        CommandHelp(
            name: "enhance", synopsis: "--enhancer ENHANCER FACE... (-o OUT.png | --out-dir DIR) [options]",
            summary: "face pictures restored and enlarged by a GFPGAN-compatible enhancer",
            description: """
            Restores and enlarges face pictures (PNG or JPEG, any size) with the enhancement \
            module: each is resized to the enhancer's input size, restored, and written as a PNG \
            at the enhancer's size, with the picture's and the enhancer's SHA-256. One line per \
            failed picture; the exit status is 1 if any failed.
            """,
            options: [
                O("--enhancer", "ENHANCER", "enhancer file (tools/converters/convert_gfpgan.py from a GFPGAN checkpoint)"),
                O("-o", "OUT.png", "the output, for one picture"),
                O("--out-dir", "DIR", "one PNG per picture, named after it", default: "."),
                overwriteOption,
                threadsOption,
            ],
            examples: ["avpgan enhance --enhancer gfpgan-v1.4.safetensors face.png -o big.png"]),
        CommandHelp(
            name: "features", synopsis: "VOICE -o FEATURES.npy [options]",
            summary: "the front end's log-mel features [n_frames, 64] of a recording",
            description: """
            Writes the features the voice encoder reads: 64-band log-mel, normalised per band, \
            repeated to 1000 frames, as a float32 .npy array [n_frames, 64].
            """,
            options: [O("-o", "FEATURES.npy", "the output")] + frontEndOptions + [overwriteOption],
            examples: ["avpgan features voice.flac -o voice.npy"]),
        CommandHelp(
            name: "info", synopsis: "FILE",
            summary: "what a model, face-recognition model, enhancer, face prior or checkpoint holds",
            description: "Prints the kind of the file, its architecture, widths and sizes.",
            examples: ["avpgan info models/default.safetensors"]),
        CommandHelp(
            name: "generate", synopsis: "--model MODEL -o OUT.png [--embedding E.npy | --seed N [--count N]] [options]",
            summary: "faces from embeddings in a .npy file, or from seeded unit vectors",
            description: """
            Runs the generator alone. --embedding reads [E] or [N, E] float32 embeddings; --seed \
            draws --count seeded unit vectors. More than one face writes OUT-0.png, OUT-1.png, ...
            """,
            options: [
                O("--model", "MODEL", "model file (safetensors)"),
                O("-o", "OUT.png", "the output"),
                O("--embedding", "E.npy", "embeddings [E] or [N, E]"),
                O("--seed", "N", "seed of the first unit vector", default: "0"),
                O("--count", "N", "how many seeded faces, 1-1024", default: "1"),
                O("--pixels", "clamp|minmax", "pixel mapping", default: "the model's"),
                overwriteOption,
                threadsOption,
            ],
            examples: ["avpgan generate --model models/default.safetensors \\", "    --seed 3 --count 4 -o face.png"]),
        CommandHelp(
            name: "embed", synopsis: "--model MODEL FEATURES.npy [-o EMBEDDING.npy]",
            summary: "the voice embedding of log-mel features [n_frames, n_mels]",
            description: "Runs the voice encoder alone; prints the embedding when no -o is given.",
            options: [O("--model", "MODEL", "model file (safetensors)"), O("-o", "EMBEDDING.npy", "the output"), overwriteOption],
            examples: ["avpgan embed --model models/default.safetensors voice.npy"]),
        CommandHelp(
            name: "train", synopsis: "--voices DIR --faces DIR --voice-encoder MODEL -o MODEL.safetensors [options]",
            summary: "Algorithm 1: train the generator on a voice-face data set",
            description: """
            Trains the face generator, face encoder, discriminator and classifier with the voice \
            encoder frozen (the paper's Algorithm 1), on VOICES/<identity>/*.wav and \
            FACES/<identity>/*.png|jpg. Ctrl-C writes a checkpoint and stops; --resume continues. \
            With --checkpoint-dir D, sample sheets go to D/samples/step-N.png.
            """,
            options: [
                O("--voices", "DIR", "recordings, one folder per identity"),
                O("--faces", "DIR", "face pictures, one folder per identity"),
                O("--voice-encoder", "MODEL", "a model file holding a (pre-trained) voice encoder"),
                O("-o", "MODEL.safetensors", "the trained model"),
                O("--arch", "NAME", "voice2face, avpgan or avpgan-nocbam", default: "avpgan"),
                O("--widths", "full|tiny", "network widths", default: "full"),
                O("--steps", "N", "training steps", default: "1000"),
                O("--batch", "N", "batch size", default: "64"),
                O("--seed", "N", "seed of initialisation and sampling", default: "1"),
                O("--samples-every", "N", "steps between sample sheets; 0 = none", default: "--checkpoint-every"),
                O("--generator-sn", "on|off", "spectral norm on the generator too, as the reference (avpgan, "
                    + "avpgan-nocbam)", default: "on"),
                O("--generator-cbam", "on|off", "CBAM in the generator too, as the reference (avpgan)", default: "on"),
                O("--cbam-reduction", "R", "CBAM's channel MLP has max(C/R, 1) hidden units (avpgan)", default: "16"),
                O("--cbam-gate", "sigmoid|residual", "how CBAM's attention multiplies: x*M (the reference) or "
                    + "x*(1+M), residual attention that passes the voice at init (avpgan)", default: "residual"),
                O("--stop-on-collapse", nil, "stop (exit 3), keeping the last healthy checkpoint, when the faces "
                    + "collapse or the discriminator runs away"),
                O("--health-warm-up", "N", "steps before collapse and a runaway discriminator are judged", default: "500"),
            ] + checkpointOptions + splitOptions + [threadsOption],
            examples: ["avpgan train --voices data/voices --faces data/faces \\",
                       "    --voice-encoder enc.safetensors -o model.safetensors \\",
                       "    --checkpoint-dir run/"]),
        CommandHelp(
            name: "train-voice", synopsis: "--voices DIR -o ENCODER.safetensors [options]",
            summary: "pre-train the voice encoder as a speaker classifier",
            description: """
            Trains the voice encoder with a speaker-classification head (as Voice2Face did) and \
            writes an encoder-only model file for train --voice-encoder. Reports the speaker \
            accuracy on held-out utterances. Ctrl-C writes a checkpoint and stops. Started by \
            mpirun -np N (or srun -n N), the copies train data-parallel on shares of each batch, \
            BatchNorm synchronised; rank 0 writes.
            """,
            options: [
                O("--voices", "DIR", "recordings, one folder per speaker"),
                O("-o", "ENCODER.safetensors", "the trained encoder"),
                O("--widths", "full|tiny", "network widths", default: "full"),
                O("--steps", "N", "training steps", default: "1000"),
                O("--batch", "N", "batch size, 2-4096", default: "64"),
                O("--lr", "LR", "Adam learning rate", default: "2e-4"),
                O("--seed", "N", "seed of initialisation and sampling", default: "1"),
            ] + checkpointOptions + splitOptions + [threadsOption],
            examples: ["avpgan train-voice --voices data/voices -o enc.safetensors --steps 1500"]),
        CommandHelp(
            name: "train-prior", synopsis: "--faces DIR -o PRIOR.safetensors [options]",
            summary: "train a StyleGAN2 face prior, the decoder a new enhancer starts from",
            description: """
            Trains the face prior GFPGAN's decoder starts from, the way basicsr's StyleGAN2 \
            training does: a StyleGAN2 generator from random style codes against a StyleGAN2 \
            discriminator on real faces (mirrored at random), softplus losses, lazy R1 and \
            path-length regularisation, style mixing, Adam, an averaged (EMA) copy that becomes \
            the prior file, under upstream's names (train-enhancer --prior takes it, as GFPGAN's \
            decoder_load_path). FACES holds aligned square faces of one size (PNG or JPEG, any \
            nesting); one is held out. At each checkpoint a sheet of samples from fixed random \
            codes goes to D/samples. Ctrl-C writes a checkpoint and stops; --resume continues \
            bit-identically. A loss that is not finite stops the run (exit 3), keeping the last \
            checkpoint. Started by mpirun -np N (or srun -n N), the copies train data-parallel, \
            each on whole groups of 4 faces of every batch (so --batch is at least 4N), as one \
            process would; rank 0 prints and writes.
            """,
            options: [
                O("--faces", "DIR", "aligned square faces of one size"),
                O("-o", "PRIOR.safetensors", "the trained prior (the EMA generator)"),
                O("--size", "N", "training size, 32-1024, a power of two", default: "the faces' size"),
                O("--widths", "full|small|tiny", "the decoder widths of a train-enhancer --widths of the same name",
                  default: "small"),
                O("--lr", "LR", "Adam learning rate of both networks", default: "2e-3"),
                O("--steps", "N", "training steps", default: "1000"),
                O("--batch", "N", "faces per step", default: "4"),
                O("--seed", "N", "seed of initialisation, random codes and noise, batches and the sheets' codes", default: "1"),
                O("--samples", "N", "faces on each sample sheet (0: none)", default: "16"),
                O("--truncation", "PSI", "the sheets' truncation toward the mean style (1: none)", default: "1"),
                O("--checkpoint-dir", "D", "checkpoints, the JSONL log and sample sheets go here"),
                O("--checkpoint-every", "N", "steps between checkpoints and sheets", default: "100"),
                O("--resume", nil, "continue from D's checkpoint (the same faces; the run keeps its own recipe)"),
                O("--log", "F.jsonl", "one JSON line of losses per step", default: "D/train-prior.jsonl"),
                threadsOption,
            ],
            examples: ["avpgan synth-data -o synth --speakers 200 --face-size 128",
                       "avpgan train-prior --faces synth/faces -o prior.safetensors \\",
                       "    --checkpoint-dir prior-run/",
                       "avpgan train-enhancer --faces synth/faces --prior prior.safetensors \\",
                       "    -o enhancer.safetensors"]),
        CommandHelp(
            name: "train-enhancer", synopsis: "--faces DIR -o ENHANCER.safetensors [options]",
            summary: "train or fine-tune a face enhancer (GFPGAN's losses) on a face folder",
            description: """
            Trains a GFPGAN-compatible enhancer the way GFPGAN's training does: faces degraded \
            (blur, shrink, noise, JPEG) into inputs, the paper's losses (L1, perceptual, \
            adversarial, eye and mouth discriminators with their style loss, identity), Adam, \
            an averaged (EMA) copy that becomes the enhancer file. FACES holds aligned square \
            faces of one size (PNG or JPEG, any nesting) and optionally landmarks.json; a share \
            is held out, and at each checkpoint the enhancer is measured on it against bicubic \
            upscaling (PSNR, SSIM) with a sheet of input | output | truth in D/samples. A loss \
            whose network is not given (--perceptual, --face-model) is off. --init fine-tunes an \
            enhancer file (a converted GFPGAN or one of ours); --prior starts a new one's decoder \
            from a face prior (train-prior). Ctrl-C writes a checkpoint and \
            stops; --resume continues bit-identically. A loss that is not finite stops the run \
            (exit 3), keeping the last checkpoint. Started by mpirun -np N (or srun -n N), the \
            copies train data-parallel, each on whole groups of 4 faces of every batch (so \
            --batch is at least 4N), as one process would; rank 0 prints and writes.
            """,
            options: [
                O("--faces", "DIR", "aligned square faces of one size, and optionally landmarks.json"),
                O("-o", "ENHANCER.safetensors", "the trained enhancer (the EMA generator)"),
                O("--size", "N", "training size, 32-1024, a power of two", default: "the faces' size"),
                O("--widths", "full|small|tiny", "a new enhancer's widths: GFPGAN v1.3's, num_style_feat 64 with "
                    + "narrow 0.25, or test size", default: "small"),
                O("--channel-multiplier", "M", "a new enhancer's channel_multiplier", default: "the widths'"),
                O("--narrow", "N", "a new enhancer's narrow", default: "the widths'"),
                O("--init", "ENHANCER", "fine-tune this enhancer file instead of a new one"),
                O("--prior", "PRIOR", "a new enhancer's decoder from this face prior (train-prior; the same --widths and size)"),
                O("--face-model", "F", "face-recognition model for the identity loss (tools/converters/convert_face.py)"),
                O("--perceptual", "VGG", "VGG-19 for the perceptual loss (tools/converters/convert_vgg.py)"),
                O("--losses", "NAME=W,...", "loss weights (l1, perceptual, perceptualStyle, adversarial, facialComponents, "
                    + "componentStyle, identity); 0 turns one off", default: "the paper's"),
                O("--degradation", "NAME=LO:HI,...", "how inputs are made from the faces: blur sigma (px), downsample factor, "
                    + "noise sigma (of 255), jpeg quality, each LO:HI or off; kernel=N, isotropic=P", default: "GFPGAN's: "
                    + "blur=0.1:10, downsample=0.8:8, noise=0:20, jpeg=60:100, kernel=41, isotropic=0.5"),
                O("--lr", "LR", "Adam learning rate of every network", default: "2e-3"),
                O("--betas", "B1,B2", "the generator's Adam betas", default: "0,0.99"),
                O("--ema-decay", "D", "decay of the averaged generator that becomes the enhancer (half-life ln 0.5 / ln D steps)", default: "0.99778"),
                O("--steps", "N", "training steps", default: "1000"),
                O("--batch", "N", "faces per step", default: "4"),
                O("--seed", "N", "seed of initialisation, noise, batches and the held-out split", default: "1"),
                O("--validation-fraction", "F", "share of the faces held out (at least one)", default: "0.05"),
                O("--checkpoint-dir", "D", "checkpoints, the JSONL log and sample sheets go here"),
                O("--checkpoint-every", "N", "steps between checkpoints and validations", default: "100"),
                O("--resume", nil, "continue from D's checkpoint (the same faces; the run keeps its own recipe)"),
                O("--log", "F.jsonl", "one JSON line of losses per step, one per validation", default: "D/train-enhancer.jsonl"),
                threadsOption,
            ],
            examples: ["avpgan synth-data -o synth --speakers 200 --face-size 128",
                       "avpgan train-enhancer --faces synth/faces -o enhancer.safetensors \\",
                       "    --perceptual vgg19.safetensors --checkpoint-dir run/",
                       "avpgan train-enhancer --faces ffhq512/ --init gfpgan-v1.4.safetensors \\",
                       "    --face-model arcface.safetensors --perceptual vgg19.safetensors \\",
                       "    -o tuned.safetensors --checkpoint-dir tune/"]),
        CommandHelp(
            name: "synth-data", synopsis: "-o DIR [options]",
            summary: "a synthetic voice-face data set (espeak-ng voices, procedural faces)",
            description: """
            Writes DIR/voices/<speaker>/*.wav (espeak-ng with per-speaker voice parameters), \
            DIR/faces/<speaker>/*.png (procedural faces that depend on those parameters) and \
            DIR/test.txt (held-out speakers). Needs espeak-ng. The faces are 64 px, the \
            generator's size; --face-size 128 or 256 draws the same faces larger, with fine \
            detail (pupils, eyebrows, nostrils, lip line, skin shading) for training an enhancer.
            """,
            options: [
                O("-o", "DIR", "the data set's folder"),
                O("--speakers", "N", "number of speakers", default: "20"),
                O("--utterances", "N", "recordings per speaker", default: "4"),
                O("--faces", "N", "pictures per speaker", default: "4"),
                O("--face-size", "64|128|256|512", "side of the face pictures in pixels", default: "64"),
                O("--seed", "N", "seed", default: "1"),
            ],
            examples: ["avpgan synth-data -o data --speakers 60", "avpgan synth-data -o faces256 --speakers 200 --face-size 256"]),
        CommandHelp(
            name: "pixel-retrieval", aliases: ["evaluate"],
            synopsis: "--model MODEL --voices DIR --faces DIR [options]",
            summary: "does a portrait resemble its speaker? pixel retrieval against mean faces",
            description: """
            Generates a face from each recording of the chosen split and ranks every identity's \
            mean picture by pixel distance to it: top-1, top-5 and mean rank, beside chance and \
            beside the real pictures. Needs no face-recognition network (see eval for that). \
            Started by mpirun -np N (or srun -n N), the copies share the recordings; rank 0 \
            prints the one-process result.
            """,
            options: [
                O("--model", "MODEL", "model file (safetensors)"),
                O("--voices", "DIR", "recordings, one folder per identity"),
                O("--faces", "DIR", "face pictures, one folder per identity"),
                O("--split", "test|validation|train", "which identities", default: "test"),
            ] + splitOptions + [
                O("--cache", "DIR", "feature cache of the recordings, keyed by recording and front-end settings",
                  default: "$XDG_CACHE_HOME/avpgan/features, else ~/.cache/avpgan/features"),
                O("--json", "F.json", "the results as JSON"),
                O("--grid", "F.png", "a sheet of real and generated faces"),
                threadsOption,
            ],
            examples: ["avpgan pixel-retrieval --model model.safetensors \\", "    --voices data/voices --faces data/faces"]),
        CommandHelp(
            name: "eval", synopsis: "--model M [--model M2 ...] --voices DIR --faces DIR --face-model F [options]",
            summary: "the paper's protocol: face-recognition cosine of portraits and real faces",
            description: """
            Per model and voice length: mean cosine (on a face-recognition network) between the \
            portraits and the speaker's own faces and other identities' (the impostor baseline), \
            their difference with a 95% confidence interval over speakers, and retrieval \
            top-1/top-5. Writes eval.md, eval.csv, eval-recordings.csv, eval.json, grid.png and \
            sweep-N.png. Started by mpirun -np N (or srun -n N), the copies share the \
            recordings; rank 0 writes the one-process report.
            """,
            options: [
                O("--model", "MODEL", "model file; repeat to compare models"),
                O("--voices", "DIR", "recordings, one folder per identity"),
                O("--faces", "DIR", "face pictures, one folder per identity"),
                O("--face-model", "F", "face-recognition model (tools/converters/convert_face.py)"),
                O("--seconds", "LIST", "voice lengths, comma-separated; all = every voiced second", default: "2,4,6,8"),
                O("--identities", "FILE|a,b,c", "which identities"),
                O("--split", "test|validation|train|all", "which identities", default: "test"),
            ] + splitOptions + [
                O("-o", "DIR", "the report's folder", default: "eval"),
                O("--rows", "N", "identities in grid.png", default: "8"),
                threadsOption,
            ],
            examples: ["avpgan eval --model model.safetensors --voices data/voices \\",
                       "    --faces data/faces --face-model face.safetensors --seconds 1,2,all"]),
        CommandHelp(
            name: "bench", synopsis: "--model MODEL [options] | --train ARCH [options]",
            summary: "time the voice encoder, the generator or a training step here",
            description: """
            With --model: median time of the voice encoder and the generator per batch size, and \
            of a whole portrait. With --train: one training step at full widths on random data.
            """,
            options: [
                O("--model", "MODEL", "model file to time"),
                O("--train", "ARCH", "time a training step of voice2face, avpgan or avpgan-nocbam"),
                O("--batch", "LIST", "batch sizes (one size with --train)", default: "1,64 (64 with --train)"),
                O("--frames", "N", "feature frames per voice", default: "800"),
                O("--seconds", "S", "seconds to time each case", default: "2"),
                O("--steps", "N", "timed training steps", default: "3"),
                O("--voice", "WAV", "also time a whole portrait of this recording"),
                O("--json", "1", "print JSON"),
                threadsOption,
            ],
            examples: ["avpgan bench --model models/default.safetensors --batch 1,64"]),
        CommandHelp(
            name: "version", synopsis: "", summary: "the library version",
            description: "Prints the version of libavpgan this command was built from."),
        CommandHelp(
            name: "help", synopsis: "[COMMAND]", summary: "this list, or a command's options",
            description: "Without a command: the command list. With one: its options and their defaults."),
    ]
}
