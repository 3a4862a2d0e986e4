/* Masked attention softmax and its backward (see attention.h). */
#include "attention.h"
#include "row_ops.h"

/* One row of n entries; keep == NULL keeps all of the first `limit` entries. */
CK_TARGET_CLONES
static void softmax_row(const float *x, const uint8_t *keep, ck_index limit, float *y,
                        ck_index n)
{
    float m = -INFINITY;
    ck_index kept = 0;
    if (keep == NULL) {
        m = ck_row_max(x, limit);
        kept = limit;
    } else {
        for (ck_index j = 0; j < limit; j++) {
            if (keep[j]) {
                m = x[j] > m ? x[j] : m;
                kept++;
            }
        }
    }
    if (kept == 0) {
        for (ck_index j = 0; j < n; j++)
            y[j] = 0.0f;
        return;
    }
    float s = 0.0f;
    if (keep == NULL) {
        s = ck_row_exp_sum(x, m, y, limit);
    } else {
        CK_SIMD_REDUCE(+, s)
        for (ck_index j = 0; j < limit; j++) {
            const float e = keep[j] ? expf(x[j] - m) : 0.0f;
            y[j] = e;
            s += e;
        }
    }
    const float inv = 1.0f / s;
    CK_SIMD
    for (ck_index j = 0; j < limit; j++)
        y[j] *= inv;
    for (ck_index j = limit; j < n; j++)
        y[j] = 0.0f;
}

void ck_masked_softmax_f32(const float *x, const uint8_t *mask, float *y,
                           ck_index G, ck_index H, ck_index T, ck_index S,
                           ck_index mask_g, ck_index mask_h, int causal, int n_threads)
{
    const ck_index rows = G * H * T;
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index r = 0; r < rows; r++) {
        const ck_index i = r % T;
        const ck_index h = (r / T) % H;
        const ck_index g = r / (T * H);
        const uint8_t *keep = mask != NULL ? mask + g * mask_g + h * mask_h + i * S : NULL;
        /* causal: keys j <= i only, so the row ends at i + 1 */
        const ck_index limit = causal ? ck_min_index(i + 1, S) : S;
        softmax_row(x + r * S, keep, limit, y + r * S, S);
    }
}

CK_TARGET_CLONES
static void softmax_backward_row(const float *dy, const float *y, float *dx, ck_index n)
{
    const float dot = ck_row_dot(dy, y, n);
    CK_SIMD
    for (ck_index j = 0; j < n; j++)
        dx[j] = y[j] * (dy[j] - dot);
}

void ck_softmax_backward_f32(const float *dy, const float *y, float *dx,
                             ck_index R, ck_index S, int n_threads)
{
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index r = 0; r < R; r++)
        softmax_backward_row(dy + r * S, y + r * S, dx + r * S, S);
}
