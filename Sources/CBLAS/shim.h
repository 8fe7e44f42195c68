/* OpenBLAS's CBLAS interface and its thread controls (Debian: libopenblas-dev). */
#include <cblas.h>
