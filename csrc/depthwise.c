/* Depthwise convolution row kernels (see depthwise.h). */
#include <string.h>
#include "depthwise.h"

CK_TARGET_CLONES
static void rows_body(const float *cols, const float *w, float *z, ck_index r0, ck_index r1,
                      ck_index T, ck_index C, ck_index M)
{
    for (ck_index r = r0; r < r1; r++) {
        float *zr = z + r * C * M;
        memset(zr, 0, (size_t)(C * M) * sizeof(float));
        for (ck_index t = 0; t < T; t++) {
            const float *cr = cols + (r * T + t) * C;
            const float *wt = w + t * C * M;
            if (M == 1) {
                CK_SIMD
                for (ck_index c = 0; c < C; c++)
                    zr[c] += cr[c] * wt[c];
            } else {
                for (ck_index c = 0; c < C; c++)
                    for (ck_index m = 0; m < M; m++)
                        zr[c * M + m] += cr[c] * wt[c * M + m];
            }
        }
    }
}

void ck_depthwise_rows_f32(const float *cols, const float *w, float *z, ck_index R,
                           ck_index T, ck_index C, ck_index M, int n_threads)
{
    const ck_index block = 64;
    const ck_index blocks = (R + block - 1) / block;
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index b = 0; b < blocks; b++)
        rows_body(cols, w, z, b * block, ck_min_index(R, (b + 1) * block), T, C, M);
}

void ck_depthwise_dcols_f32(const float *dz, const float *w, float *dcols, ck_index R,
                            ck_index T, ck_index C, ck_index M, int n_threads)
{
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index r = 0; r < R; r++) {
        const float *dzr = dz + r * C * M;
        for (ck_index t = 0; t < T; t++) {
            float *dc = dcols + (r * T + t) * C;
            const float *wt = w + t * C * M;
            if (M == 1) {
                CK_SIMD
                for (ck_index c = 0; c < C; c++)
                    dc[c] = dzr[c] * wt[c];
            } else {
                for (ck_index c = 0; c < C; c++) {
                    float s = 0.0f;
                    for (ck_index m = 0; m < M; m++)
                        s += dzr[c * M + m] * wt[c * M + m];
                    dc[c] = s;
                }
            }
        }
    }
}

void ck_depthwise_dw_f32(const float *cols, const float *dz, float *dw, ck_index R,
                         ck_index T, ck_index C, ck_index M, int n_threads)
{
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index t = 0; t < T; t++) {
        float *dwt = dw + t * C * M;
        for (ck_index r = 0; r < R; r++) {
            const float *cr = cols + (r * T + t) * C;
            const float *dzr = dz + r * C * M;
            if (M == 1) {
                CK_SIMD
                for (ck_index c = 0; c < C; c++)
                    dwt[c] += cr[c] * dzr[c];
            } else {
                for (ck_index c = 0; c < C; c++)
                    for (ck_index m = 0; m < M; m++)
                        dwt[c * M + m] += cr[c] * dzr[c * M + m];
            }
        }
    }
}
