/* Bias + activation kernels (see activation.h). */
#include "activation.h"
#include "row_ops.h"

#define CK_COLBLOCK_MAX 256

/* ---- forward -------------------------------------------------------------- */

static inline void softmax_row(float *y, ck_index n)
{
    const float m = ck_row_max(y, n);
    const float inv = 1.0f / ck_row_exp_sum(y, m, y, n);
    CK_SIMD
    for (ck_index j = 0; j < n; j++)
        y[j] *= inv;
}

CK_TARGET_CLONES
static void act_row(float *y, ck_index n, int act)
{
    switch (act) {
    case CK_ACT_RELU:
        CK_SIMD
        for (ck_index j = 0; j < n; j++)
            y[j] = y[j] < 0.0f ? 0.0f : y[j];      /* keeps NaN, like np.maximum */
        break;
    case CK_ACT_SIGMOID:
        CK_SIMD
        for (ck_index j = 0; j < n; j++) {
            const float x = y[j];
            const float e = expf(-fabsf(x));        /* never overflows */
            const float r = 1.0f / (1.0f + e);
            y[j] = x >= 0.0f ? r : e * r;
        }
        break;
    case CK_ACT_TANH:
        CK_SIMD
        for (ck_index j = 0; j < n; j++)
            y[j] = tanhf(y[j]);
        break;
    case CK_ACT_SOFTMAX:
        softmax_row(y, n);
        break;
    default: /* linear */
        break;
    }
}

void ck_bias_act_f32(const float *z, const float *bias, float *y,
                     ck_index rows, ck_index cols, int act, int n_threads)
{
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index i = 0; i < rows; i++) {
        const float *zi = z + i * cols;
        float *yi = y + i * cols;
        if (bias != NULL) {
            CK_SIMD
            for (ck_index j = 0; j < cols; j++)
                yi[j] = zi[j] + bias[j];
        } else if (yi != zi) {
            CK_SIMD
            for (ck_index j = 0; j < cols; j++)
                yi[j] = zi[j];
        }
        act_row(yi, cols, act);
    }
}

/* ---- backward ------------------------------------------------------------- */

/* Elementwise derivative of act at output y, times dy.  Call with plain
 * locals (loads hoisted) so the select if-converts and the loop vectorises. */
#define CK_DACT(act, dyv, yv)                                                    \
    ((act) == CK_ACT_RELU ? ((yv) > 0.0f ? (dyv) : 0.0f)                         \
     : (act) == CK_ACT_SIGMOID ? (dyv) * (yv) * (1.0f - (yv))                    \
     : (act) == CK_ACT_TANH ? (dyv) * (1.0f - (yv) * (yv))                       \
     : (dyv))

/* The switch cases of the elementwise activations: for j in [0, w), d =
 * act'(yi[j]) * dyi[j], then STORE (a statement using j and d).  One loop
 * per activation, act a constant in each, so every one vectorises. */
#define CK_DACT_LOOP(ACT, w, dyi, yi, STORE)                                     \
    case ACT:                                                                    \
        CK_SIMD                                                                  \
        for (ck_index j = 0; j < (w); j++) {                                     \
            const float g = (dyi)[j], v = (yi)[j];                               \
            const float d = CK_DACT(ACT, g, v);                                  \
            STORE;                                                               \
        }                                                                        \
        break;
#define CK_DACT_CASES(w, dyi, yi, STORE)                                         \
    CK_DACT_LOOP(CK_ACT_RELU, w, dyi, yi, STORE)                                 \
    CK_DACT_LOOP(CK_ACT_SIGMOID, w, dyi, yi, STORE)                              \
    CK_DACT_LOOP(CK_ACT_TANH, w, dyi, yi, STORE)

CK_TARGET_CLONES
static void dact_rows(const float *dy, const float *y, float *dz,
                      ck_index r0, ck_index r1, ck_index cols, int act)
{
    for (ck_index i = r0; i < r1; i++) {
        const float *dyi = dy + i * cols, *yi = y + i * cols;
        float *dzi = dz + i * cols;
        switch (act) {
        CK_DACT_CASES(cols, dyi, yi, dzi[j] = d)
        case CK_ACT_SOFTMAX: {
            const float s = ck_row_dot(dyi, yi, cols);
            CK_SIMD
            for (ck_index j = 0; j < cols; j++) dzi[j] = yi[j] * (dyi[j] - s);
            break;
        }
        default:
            if (dzi != dyi) {
                CK_SIMD
                for (ck_index j = 0; j < cols; j++) dzi[j] = dyi[j];
            }
        }
    }
}

/* Width of the column blocks threads own; any width gives the same bits
 * (each column is summed on its own, in row order). */
static ck_index col_block_width(ck_index cols, int n_threads)
{
    ck_index nt = n_threads > 1 ? n_threads : 1;
    ck_index w = (cols + nt - 1) / nt;
    w = (w + 15) / 16 * 16;
    if (w > CK_COLBLOCK_MAX) w = CK_COLBLOCK_MAX;
    if (w < 16) w = 16;
    return w;
}

/* Fused elementwise derivative + column sum over columns [c0, c1). */
CK_TARGET_CLONES
static void dact_colsum_block(const float *dy, const float *y, float *dz, float *dbias,
                              ck_index rows, ck_index cols, ck_index c0, ck_index c1,
                              int act)
{
    double acc[CK_COLBLOCK_MAX];
    const ck_index w = c1 - c0;
    for (ck_index j = 0; j < w; j++) acc[j] = 0.0;
    for (ck_index i = 0; i < rows; i++) {
        const float *dyi = dy + i * cols + c0, *yi = y + i * cols + c0;
        float *dzi = dz + i * cols + c0;
        switch (act) {
        CK_DACT_CASES(w, dyi, yi, (dzi[j] = d, acc[j] += d))
        default:
            CK_SIMD
            for (ck_index j = 0; j < w; j++) {
                const float d = dyi[j];
                dzi[j] = d; acc[j] += d;
            }
        }
    }
    for (ck_index j = 0; j < w; j++)
        dbias[c0 + j] += (float)acc[j];
}

CK_TARGET_CLONES
static void colsum_block(const float *a, float *out, ck_index rows, ck_index cols,
                         ck_index c0, ck_index c1)
{
    double acc[CK_COLBLOCK_MAX];
    const ck_index w = c1 - c0;
    for (ck_index j = 0; j < w; j++) acc[j] = 0.0;
    for (ck_index i = 0; i < rows; i++) {
        const float *ai = a + i * cols + c0;
        CK_SIMD
        for (ck_index j = 0; j < w; j++) acc[j] += ai[j];
    }
    for (ck_index j = 0; j < w; j++)
        out[c0 + j] += (float)acc[j];
}

void ck_colsum_add_f32(const float *a, float *out, ck_index rows, ck_index cols,
                       int n_threads)
{
    const ck_index w = col_block_width(cols, n_threads);
    const ck_index nblocks = (cols + w - 1) / w;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index b = 0; b < nblocks; b++)
        colsum_block(a, out, rows, cols, b * w, ck_min_index(cols, (b + 1) * w));
}

void ck_act_backward_f32(const float *dy, const float *y, float *dz, float *dbias,
                         ck_index rows, ck_index cols, int act, int n_threads)
{
    if (dbias != NULL && act != CK_ACT_SOFTMAX) {
        /* one pass: each thread owns a block of columns */
        const ck_index w = col_block_width(cols, n_threads);
        const ck_index nblocks = (cols + w - 1) / w;
        CK_PARALLEL_FOR(n_threads)
        for (ck_index b = 0; b < nblocks; b++)
            dact_colsum_block(dy, y, dz, dbias, rows, cols, b * w,
                              ck_min_index(cols, (b + 1) * w), act);
        return;
    }
    CK_PARALLEL_FOR(n_threads)
    for (ck_index i = 0; i < rows; i++)
        dact_rows(dy, y, dz, i, i + 1, cols, act);
    if (dbias != NULL)
        ck_colsum_add_f32(dz, dbias, rows, cols, n_threads);
}
