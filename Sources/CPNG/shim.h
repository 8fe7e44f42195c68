/* libpng (Debian: libpng-dev): PNG encoding and decoding. */
#include <png.h>
