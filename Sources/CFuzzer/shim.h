/* libFuzzer's driver entry (compiler-rt, linked by -sanitize=fuzzer): runs the fuzzing loop
 * over `callback` with the command line's options and corpus directories. Only the fuzz targets
 * (Fuzz/, built by `make fuzz`) import this. */
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
