/* Fused softmax / sigmoid cross-entropy kernels (see softmax_xent.h). */
#include "softmax_xent.h"
#include "row_ops.h"

/* g holds exp(x - m) on entry; leaves scale * softmax in g (and softmax in p). */
static inline void row_probs(float *g, float *p, float inv, float sc, ck_index n)
{
    if (p != NULL) {
        CK_SIMD
        for (ck_index j = 0; j < n; j++) {
            const float q = g[j] * inv;
            p[j] = q;
            g[j] = q * sc;
        }
    } else {
        CK_SIMD
        for (ck_index j = 0; j < n; j++)
            g[j] = (g[j] * inv) * sc;
    }
}

/* One row, sparse label l: returns the loss, fills g (and p). */
CK_TARGET_CLONES
static float xent_row_sparse(const float *x, ck_index l, float sc, float *g, float *p,
                             ck_index C)
{
    const float m = ck_row_max(x, C);
    const float s = ck_row_exp_sum(x, m, g, C);
    const float inv = 1.0f / s;
    const float pl = g[l] * inv;
    row_probs(g, p, inv, sc, C);
    g[l] = (pl - 1.0f) * sc;
    return logf(s) - (x[l] - m);
}

#define CK_DEFINE_SPARSE_XENT(NAME, LABEL_T)                                         \
static void NAME(const float *logits, const void *labels_, const float *scale,       \
                 float *grad, float *loss, float *probs,                             \
                 ck_index B, ck_index C, int n_threads)                              \
{                                                                                    \
    const LABEL_T *labels = labels_;                                                 \
    (void)n_threads;                                                                 \
    CK_PARALLEL_FOR(n_threads)                                                       \
    for (ck_index i = 0; i < B; i++)                                                 \
        loss[i] = xent_row_sparse(logits + i * C, (ck_index)labels[i],               \
                                  scale != NULL ? scale[i] : 1.0f, grad + i * C,     \
                                  probs != NULL ? probs + i * C : NULL, C);          \
}

CK_DEFINE_SPARSE_XENT(sparse_xent_i64, int64_t)
CK_DEFINE_SPARSE_XENT(sparse_xent_i32, int32_t)

void ck_softmax_xent_f32(const float *logits, const void *labels, int labels_64,
                         const float *scale, float *grad, float *loss, float *probs,
                         ck_index B, ck_index C, int n_threads)
{
    (labels_64 ? sparse_xent_i64 : sparse_xent_i32)(logits, labels, scale, grad, loss, probs,
                                                    B, C, n_threads);
}

/* One row, dense targets t: returns the loss, fills g (and p). */
CK_TARGET_CLONES
static float xent_row_dense(const float *x, const float *t, float sc, float *g, float *p,
                            ck_index C)
{
    const float m = ck_row_max(x, C);
    const float s = ck_row_exp_sum(x, m, g, C);
    const float inv = 1.0f / s;
    const float logs = logf(s);
    float st = 0.0f, lsum = 0.0f;
    CK_PRAGMA(omp simd reduction(+:st, lsum))
    for (ck_index j = 0; j < C; j++) {
        const float tj = t[j], xj = x[j];
        const float term = tj * (logs - (xj - m));
        st += tj;
        lsum += tj != 0.0f ? term : 0.0f;
    }
    if (p != NULL) {
        CK_SIMD
        for (ck_index j = 0; j < C; j++) {
            const float q = g[j] * inv;
            p[j] = q;
            g[j] = (q * st - t[j]) * sc;
        }
    } else {
        CK_SIMD
        for (ck_index j = 0; j < C; j++)
            g[j] = ((g[j] * inv) * st - t[j]) * sc;
    }
    return lsum;
}

/* NAME(logits, targets, ...): loss[i] = ROW(row i of logits, targets, grad and
 * probs (probs may be NULL), scale_i) over the B rows, in parallel. */
#define CK_DEFINE_TARGET_LOSS(NAME, ROW)                                             \
void NAME(const float *logits, const float *targets, const float *scale,            \
          float *grad, float *loss, float *probs, ck_index B, ck_index C,            \
          int n_threads)                                                             \
{                                                                                    \
    (void)n_threads;                                                                 \
    CK_PARALLEL_FOR(n_threads)                                                       \
    for (ck_index i = 0; i < B; i++)                                                 \
        loss[i] = ROW(logits + i * C, targets + i * C, scale != NULL ? scale[i] : 1.0f, \
                      grad + i * C, probs != NULL ? probs + i * C : NULL, C);        \
}

CK_DEFINE_TARGET_LOSS(ck_softmax_xent_dense_f32, xent_row_dense)

/* log1p(e) for e in [0, 1], vectorisable. */
static inline float log1p_small(float e)
{
#if defined(CK_HAVE_MVEC) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 35)
#define CK_HAVE_LOG1PF_SIMD 1
#endif
#endif
#ifdef CK_HAVE_LOG1PF_SIMD
    return log1pf(e);
#else
    /* Goldberg: log1p(e) = log(u) * e / (u - 1) with u = 1 + e (exact when u == 1) */
    const float u = 1.0f + e;
    const float d = u - 1.0f;
    const float r = logf(u) * (e / (d != 0.0f ? d : 1.0f));
    return d != 0.0f ? r : e;
#endif
}

CK_TARGET_CLONES
static float bce_row(const float *x, const float *t, float sc, float *g, float *p, ck_index K)
{
    const float fk = (float)K;
    float acc = 0.0f;
    CK_SIMD_REDUCE(+, acc)
    for (ck_index j = 0; j < K; j++) {
        const float xj = x[j], tj = t[j];
        const float e = expf(-fabsf(xj));
        const float r = 1.0f / (1.0f + e);
        const float er = e * r;
        const float q = xj >= 0.0f ? r : er;
        const float pos = xj > 0.0f ? xj : 0.0f;
        acc += (pos - xj * tj) + log1p_small(e);
        p[j] = q;
        g[j] = ((q - tj) / fk) * sc;
    }
    return acc / fk;
}

CK_DEFINE_TARGET_LOSS(ck_sigmoid_bce_f32, bce_row)
