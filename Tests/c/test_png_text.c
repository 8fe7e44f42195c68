/*
 * test_png_text.c — avpgan_png_encode_text: a PNG made in memory can carry provenance.
 *
 * Prints "ok   ..."/"FAIL ..." per check and "png-text: N passed, M failed".
 */
#include <stdio.h>
#include <string.h>

#include "avpgan.h"

static int n_passed, n_failed;

static void check(int ok, const char *what)
{
    printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, ok ? "" : ": ", ok ? "" : avpgan_last_error());
    if (ok) n_passed++; else n_failed++;
}

static int contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0) return 1;
    return 0;
}

int main(void)
{
    const uint8_t px[2 * 2 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9};
    const char *keys[] = {"avpgan:case-id", "Description"};
    const char *values[] = {"2026-017 / exhibit 4", "Synthetic image: not a photograph (\xc3\xa9)"};
    uint8_t png[4096], plain[4096];
    size_t needed = 0, plain_size = 0;

    check(avpgan_png_encode_text(px, 2, 2, keys, values, 2, NULL, 0, &needed) == AVPGAN_OK && needed > 0 && needed < sizeof png,
          "a size query gives the PNG's size");
    check(avpgan_png_encode_text(px, 2, 2, keys, values, 2, png, sizeof png, &needed) == AVPGAN_OK, "encodes with two entries");
    check(contains(png, needed, "iTXt") && contains(png, needed, "avpgan:case-id") && contains(png, needed, "exhibit 4"),
          "the entries are iTXt chunks with the keys and values");
    check(avpgan_png_encode(px, 2, 2, plain, sizeof plain, &plain_size) == AVPGAN_OK &&
          avpgan_png_encode_text(px, 2, 2, NULL, NULL, 0, png, sizeof png, &needed) == AVPGAN_OK &&
          needed == plain_size && memcmp(png, plain, needed) == 0, "no entries: the bytes of avpgan_png_encode");

    const char *bad_keys[][1] = {{""}, {" leading"}, {"a key that is far too long to be a PNG keyword because it has more than 79 bytes!"}};
    for (int i = 0; i < 3; i++)
        check(avpgan_png_encode_text(px, 2, 2, bad_keys[i], values, 1, png, sizeof png, &needed) == AVPGAN_E_INVALID_ARGUMENT,
              "a key that is not a PNG keyword is refused");
    check(avpgan_png_encode_text(px, 2, 2, NULL, values, 1, png, sizeof png, &needed) == AVPGAN_E_INVALID_ARGUMENT, "NULL keys");
    const char *null_value[] = {NULL};
    check(avpgan_png_encode_text(px, 2, 2, keys, null_value, 1, png, sizeof png, &needed) == AVPGAN_E_INVALID_ARGUMENT,
          "a NULL value");
    check(avpgan_png_encode_text(px, 2, 2, keys, values, 5000, png, sizeof png, &needed) == AVPGAN_E_INVALID_ARGUMENT,
          "more than 1024 entries");
    printf("png-text: %d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
