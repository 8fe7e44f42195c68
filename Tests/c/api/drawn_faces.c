/* Face folders drawn for the trainer tests (drawn_faces.h). */
#define _XOPEN_SOURCE 700
#include "drawn_faces.h"

#include "avpgan.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

/* Writes `path`: a drawn face of `side` px, varied by `seed`. */
static int write_face(const char *path, uint32_t side, unsigned seed)
{
    uint8_t pixels[64 * 64 * 3], png[64 * 64 * 4 + 1024];
    size_t needed = 0;
    uint32_t x, y;
    double c = side / 32.0;
    FILE *f;
    int ok;
    if (side > 64) { errno = EINVAL; return -1; }
    for (y = 0; y < side; y++) {
        for (x = 0; x < side; x++) {
            double u = x / c, v = y / c, ex = (u - 16) / (10 + seed % 3), ey = (v - 17) / (13 - seed % 2);
            uint8_t *p = pixels + 3 * (y * side + x);
            p[0] = (uint8_t)(60 + 17 * seed % 90); p[1] = (uint8_t)(90 + 5 * seed % 60); p[2] = 120;
            if (ex * ex + ey * ey < 1) { p[0] = (uint8_t)(200 + seed % 40); p[1] = (uint8_t)(150 + seed % 30); p[2] = 120; }
            if ((u - 12.75) * (u - 12.75) + (v - 15) * (v - 15) < 2.5 || (u - 19.25) * (u - 19.25) + (v - 15) * (v - 15) < 2.5) {
                p[0] = p[1] = p[2] = (uint8_t)(20 + seed % 30);
            }
            if (fabs(u - 16) < 3 && fabs(v - 22) < 1) { p[0] = 170; p[1] = 40; p[2] = 40; }
            p[(x + y + seed) % 3] = (uint8_t)(p[(x + y + seed) % 3] ^ ((x * 7 + y * 13 + seed) & 7));
        }
    }
    if (avpgan_png_encode(pixels, side, side, png, sizeof png, &needed) != AVPGAN_OK) { errno = EINVAL; return -1; }
    if ((f = fopen(path, "wb")) == NULL) return -1;
    ok = fwrite(png, 1, needed, f) == needed;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int drawn_faces_write(const char *dir, int n, uint32_t side, uint32_t odd)
{
    char path[1100];
    int k;
    snprintf(path, sizeof path, "%s/a", dir);
    if (mkdir(dir, 0700) != 0 || mkdir(path, 0700) != 0) return -1;
    for (k = 0; k < n; k++) {
        snprintf(path, sizeof path, "%s/a/%d.png", dir, k);
        if (write_face(path, side, (unsigned)k) != 0) return -1;
    }
    if (odd) {
        snprintf(path, sizeof path, "%s/a/odd.png", dir);
        if (write_face(path, odd, 99) != 0) return -1;
    }
    return 0;
}
