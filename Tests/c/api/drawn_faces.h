/*
 * drawn_faces.h — face folders drawn for the trainer tests (the enhancer and prior trainers of
 * test_api, and Tests/c/test_enhancer_data_parallel.c, test_prior_data_parallel.c): square
 * PNG faces, a skin ellipse, two eyes and a mouth, varied by a seed. Needs only the C API and
 * libc.
 */
#ifndef AVPGAN_TEST_DRAWN_FACES_H
#define AVPGAN_TEST_DRAWN_FACES_H

#include <stdint.h>

/* Makes the folder `dir` with `n` faces of `side` px (at most 64) under dir/a, and one more of
 * `odd` px when odd != 0 (dir/a/odd.png). Returns 0, or -1 with errno set. */
int drawn_faces_write(const char *dir, int n, uint32_t side, uint32_t odd);

#endif
