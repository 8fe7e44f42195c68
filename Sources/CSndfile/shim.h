/* libsndfile (Debian: libsndfile1-dev): audio decoding. */
#include <sndfile.h>
