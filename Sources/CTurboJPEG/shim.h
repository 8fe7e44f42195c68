/* libjpeg-turbo's TurboJPEG API (Debian: libturbojpeg0-dev): JPEG faces in training sets.
 * Errors are return codes, so no longjmp crosses Swift frames. */
#include <turbojpeg.h>
