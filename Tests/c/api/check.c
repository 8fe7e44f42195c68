/* The test_api suite's reporting (check, expect and the counts) and its helpers. */
#include "api.h"

/* ------------------------------------------------------------------------ */
/* Reporting                                                                 */
/* ------------------------------------------------------------------------ */

int n_passed, n_failed;

const char *status_name(int s)
{
    switch (s) {
    case AVPGAN_OK: return "AVPGAN_OK";
    case AVPGAN_E_INVALID_ARGUMENT: return "AVPGAN_E_INVALID_ARGUMENT";
    case AVPGAN_E_BUFFER_TOO_SMALL: return "AVPGAN_E_BUFFER_TOO_SMALL";
    case AVPGAN_E_OUT_OF_MEMORY: return "AVPGAN_E_OUT_OF_MEMORY";
    case AVPGAN_E_IO: return "AVPGAN_E_IO";
    case AVPGAN_E_MODEL_FORMAT: return "AVPGAN_E_MODEL_FORMAT";
    case AVPGAN_E_UNSUPPORTED: return "AVPGAN_E_UNSUPPORTED";
    case AVPGAN_E_MISSING_NETWORK: return "AVPGAN_E_MISSING_NETWORK";
    case AVPGAN_E_AUDIO_FORMAT: return "AVPGAN_E_AUDIO_FORMAT";
    case AVPGAN_E_NO_SPEECH: return "AVPGAN_E_NO_SPEECH";
    case AVPGAN_E_ABORTED: return "AVPGAN_E_ABORTED";
    case AVPGAN_E_INTERNAL: return "AVPGAN_E_INTERNAL";
    default: return "(unknown status)";
    }
}

/* Records one check: prints "ok   <what>" or "FAIL <what>: <why>". */
void check(int ok, const char *why, const char *fmt, ...)
{
    va_list ap;
    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok && why != NULL && *why != '\0') {
        printf(": %s", why);
    }
    printf("\n");
    fflush(stdout);
    if (ok) {
        n_passed++;
    } else {
        n_failed++;
    }
}

/* Checks a status against the expected one, and the thread's last error:
 * non-empty after a failure, "" after a success. Reads avpgan_last_error()
 * before anything else can call into the library. */
void expect(avpgan_status got, avpgan_status want, const char *fmt, ...)
{
    const char *err = avpgan_last_error();
    char why[1024];
    char what[512];
    int ok;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    why[0] = '\0';
    if (got != want) {
        ok = 0;
        snprintf(why, sizeof why, "got %s (%d), want %s; last_error \"%s\"", status_name(got),
                 (int)got, status_name(want), err ? err : "(NULL)");
    } else if (err == NULL) {
        ok = 0;
        snprintf(why, sizeof why, "avpgan_last_error() returned NULL");
    } else if (want != AVPGAN_OK && err[0] == '\0') {
        ok = 0;
        snprintf(why, sizeof why, "%s as expected, but avpgan_last_error() is empty",
                 status_name(got));
    } else if (want == AVPGAN_OK && err[0] != '\0') {
        ok = 0;
        snprintf(why, sizeof why, "OK, but avpgan_last_error() is \"%s\", want \"\"", err);
    } else {
        ok = 1;
    }
    if (ok && want != AVPGAN_OK) {
        check(1, NULL, "%s -> %s (\"%s\")", what, status_name(want), err);
    } else {
        check(ok, why, "%s -> %s", what, status_name(want));
    }
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x243F6A8885A308D3ULL;

double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

void fill_uniform(float *x, size_t n, double lo, double hi)
{
    size_t i;
    for (i = 0; i < n; i++) {
        x[i] = (float)(lo + (hi - lo) * uniform());
    }
}

unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long len;
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)len;
    return buf;
}

int write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL) {
        return -1;
    }
    ok = fwrite(data, 1, size, f) == size;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* A non-NULL pointer that the library must overwrite with NULL on failure (SENTINEL). */
int sentinel_target;

int files_equal(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    unsigned char *x = read_file(a, &na), *y = read_file(b, &nb);
    int same = x != NULL && y != NULL && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}
