/* The row passes every softmax shares (activation.c, attention.c,
 * softmax_xent.c): max, exp-and-sum, dot.  Header-only (static inline), so
 * each compiles inside its caller's loop and target clone. */
#ifndef CK_ROW_OPS_H
#define CK_ROW_OPS_H
#include "ck_common.h"

static inline float ck_row_max(const float *x, ck_index n)
{
    float m = -INFINITY;
    CK_SIMD_REDUCE(max, m)
    for (ck_index j = 0; j < n; j++)
        m = x[j] > m ? x[j] : m;
    return m;
}

/* e[j] = exp(x[j] - m) (e may be x); returns sum_j e[j] (float32 lanes,
 * ARCHITECTURE §5). */
static inline float ck_row_exp_sum(const float *x, float m, float *e, ck_index n)
{
    float s = 0.0f;
    CK_SIMD_REDUCE(+, s)
    for (ck_index j = 0; j < n; j++) {
        const float v = expf(x[j] - m);
        e[j] = v;
        s += v;
    }
    return s;
}

/* sum_j a[j] * b[j]: the softmax backward's dy . y */
static inline float ck_row_dot(const float *a, const float *b, ck_index n)
{
    float s = 0.0f;
    CK_SIMD_REDUCE(+, s)
    for (ck_index j = 0; j < n; j++)
        s += a[j] * b[j];
    return s;
}

#endif
