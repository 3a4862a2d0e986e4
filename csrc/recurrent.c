/* Fused LSTM gate kernels (see recurrent.h). */
#include "recurrent.h"

/* The gate rows are expf-bound: where CK_TARGET_CLONES applies (x86-64 gcc,
 * glibc), they also get an AVX-512 clone (16-lane libmvec expf). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__) \
    && !defined(CK_NO_TARGET_CLONES) && !defined(__AVX2__)
#define CK_GATE_CLONES __attribute__((noinline, target_clones("avx512f", "avx2", "default")))
#else
#define CK_GATE_CLONES CK_TARGET_CLONES
#endif

/* Both through one expf of -|x| (never overflows; vectorises via libmvec). */
static inline float ck_sigmoidf(float x)
{
    const float e = expf(-fabsf(x));
    const float r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : e * r;
}

static inline float ck_tanhf(float x)
{
    const float e = expf(-2.0f * fabsf(x));
    const float r = (1.0f - e) / (1.0f + e);
    return x >= 0.0f ? r : -r;
}

CK_GATE_CLONES
static void lstm_fwd_row(float *CK_RESTRICT z, const float *CK_RESTRICT cp,
                         float *CK_RESTRICT h, float *CK_RESTRICT c,
                         float *CK_RESTRICT tc, ck_index u)
{
    float *zi = z, *zf = z + u, *zg = z + 2 * u, *zo = z + 3 * u;
    CK_SIMD
    for (ck_index j = 0; j < u; j++) {
        const float i = ck_sigmoidf(zi[j]), f = ck_sigmoidf(zf[j]);
        const float g = ck_tanhf(zg[j]), o = ck_sigmoidf(zo[j]);
        zi[j] = i; zf[j] = f; zg[j] = g; zo[j] = o;
        const float cv = f * cp[j] + i * g;
        const float t = ck_tanhf(cv);
        c[j] = cv; tc[j] = t; h[j] = o * t;
    }
}

void ck_lstm_gates_forward_f32(float *z, const float *c_prev, float *h, float *c,
                               float *tanh_c, ck_index B, ck_index u, int n_threads)
{
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index b = 0; b < B; b++)
        lstm_fwd_row(z + b * 4 * u, c_prev + b * u, h + b * u, c + b * u,
                     tanh_c + b * u, u);
}

CK_GATE_CLONES
static void lstm_bwd_row(const float *dh, const float *dc, const float *gt,
                         const float *cp, const float *tc, float *dz, float *dcp,
                         ck_index u)
{
    const float *gi = gt, *gf = gt + u, *gg = gt + 2 * u, *go = gt + 3 * u;
    CK_SIMD
    for (ck_index j = 0; j < u; j++) {
        const float i = gi[j], f = gf[j], g = gg[j], o = go[j], t = tc[j];
        const float dhv = dh[j];
        const float d = dc[j] + dhv * (o * (1.0f - t * t));
        dz[j] = d * (g * (i * (1.0f - i)));
        dz[u + j] = d * (cp[j] * (f * (1.0f - f)));
        dz[2 * u + j] = d * (i * (1.0f - g * g));
        dz[3 * u + j] = dhv * (t * (o * (1.0f - o)));
        dcp[j] = d * f;
    }
}

void ck_lstm_gates_backward_f32(const float *dh, const float *dc, const float *gates,
                                const float *c_prev, const float *tanh_c, float *dz,
                                float *dc_prev, ck_index B, ck_index u, int n_threads)
{
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index b = 0; b < B; b++)
        lstm_bwd_row(dh + b * u, dc + b * u, gates + b * 4 * u, c_prev + b * u,
                     tanh_c + b * u, dz + b * 4 * u, dc_prev + b * u, u);
}

/* ---- whole sequences ------------------------------------------------------ */
#include <string.h>
#include "activation.h"

/* GEMM on (B, *) row blocks: skipped when empty (BLAS rejects zero sizes). */
static inline void gemm_rm(ck_sgemm_fn gemm, int ta, int tb, ck_index m, ck_index n,
                           ck_index k, const float *a, ck_index lda, const float *b,
                           ck_index ldb, float beta, float *c, ck_index ldc)
{
    if (m == 0 || n == 0)
        return;
    if (k == 0) {
        for (ck_index i = 0; i < m; i++)
            for (ck_index j = 0; j < n; j++)
                c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    gemm(ta, tb, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

static inline int masked(const uint8_t *sk, ck_index b) { return sk != NULL && sk[b]; }

/* A masked (skipped) step of one row: zero gradient for its n gate inputs
 * dz, and the state gradient dh passes to the previous step unchanged. */
static inline void carry_row(float *dz, ck_index n, const float *dh, float *prev, ck_index u)
{
    memset(dz, 0, (size_t)n * sizeof(float));
    memcpy(prev, dh, (size_t)u * sizeof(float));
}

static inline void add_row(float *CK_RESTRICT dh, const float *CK_RESTRICT dHt, ck_index u)
{
    if (dHt == NULL)
        return;
    CK_SIMD
    for (ck_index j = 0; j < u; j++)
        dh[j] += dHt[j];
}

/* The previous state as the recurrent GEMM reads it: hp itself, or hp * rmask
 * written into out (the next state's buffer, free until the gate loop). */
static const float *rec_input(const float *hp, const float *rmask, float *out, ck_index n)
{
    if (rmask == NULL)
        return hp;
    CK_SIMD
    for (ck_index j = 0; j < n; j++)
        out[j] = hp[j] * rmask[j];
    return out;
}

/* Backward of the recurrent GEMM's input: g = (g * rmask) where not masked,
 * plus the direct part d (NULL: none); masked rows take keep (the carried
 * gradient) instead. */
static void rec_grad_rows(float *g, const float *rmask, const float *d, const float *keep,
                          const uint8_t *sk, ck_index B, ck_index u, int n_threads)
{
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index b = 0; b < B; b++) {
        float *gb = g + b * u;
        if (masked(sk, b)) {
            memcpy(gb, keep + b * u, (size_t)u * sizeof(float));
            continue;
        }
        const float *mb = rmask + b * u, *db = d ? d + b * u : NULL;
        for (ck_index j = 0; j < u; j++)
            gb[j] = gb[j] * mb[j] + (db ? db[j] : 0.0f);
    }
}

/* The recurrent GEMM's part of the previous step's state gradient: prev +=
 * dz R^T over the first k columns of dz and R (leading dimension ld); with
 * recurrent dropout prev = (dz R^T) * rmask + direct instead (keep where a
 * row is masked, see rec_grad_rows). */
static void rec_backward(ck_sgemm_fn gemm, const float *dz, const float *R, ck_index k,
                         ck_index ld, const float *rmask, const float *direct,
                         const float *keep, const uint8_t *sk, float *prev, ck_index B,
                         ck_index u, int n_threads)
{
    if (rmask == NULL) {
        gemm_rm(gemm, 0, 1, B, u, k, dz, ld, R, ld, 1.0f, prev, u);
    } else {
        gemm_rm(gemm, 0, 1, B, u, k, dz, ld, R, ld, 0.0f, prev, u);
        rec_grad_rows(prev, rmask, direct, keep, sk, B, u, n_threads);
    }
}

void ck_lstm_seq_forward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                             float *z, const float *R, const uint8_t *skip,
                             const float *rmask, float *hs, float *cs, float *tcs,
                             int n_threads)
{
    (void)n_threads;
    const ck_index Bu = B * u, G = 4 * u;
    for (ck_index t = 0; t < T; t++) {
        float *zt = z + t * B * G;
        const float *hp = hs + t * Bu, *cp = cs + t * Bu;
        float *hn = hs + (t + 1) * Bu, *cn = cs + (t + 1) * Bu, *tc = tcs + t * Bu;
        const uint8_t *sk = skip ? skip + t * B : NULL;
        gemm_rm(gemm, 0, 0, B, G, u, rec_input(hp, rmask, hn, Bu), u, R, G, 1.0f, zt, G);
        CK_PARALLEL_FOR(n_threads)
        for (ck_index b = 0; b < B; b++) {
            lstm_fwd_row(zt + b * G, cp + b * u, hn + b * u, cn + b * u, tc + b * u, u);
            if (masked(sk, b)) {
                memcpy(hn + b * u, hp + b * u, (size_t)u * sizeof(float));
                memcpy(cn + b * u, cp + b * u, (size_t)u * sizeof(float));
            }
        }
    }
}

void ck_lstm_seq_backward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                              const float *gates, const float *R, const uint8_t *skip,
                              const float *rmask, const float *cs, const float *tcs,
                              const float *dH, float *dh, float *dc, float *dz,
                              float *scratch, int need_initial, int n_threads)
{
    (void)n_threads;
    const ck_index Bu = B * u, G = 4 * u;
    float *cur = dh, *nxt = scratch;
    for (ck_index t = T - 1; t >= 0; t--) {
        float *dzt = dz + t * B * G;
        const float *gt = gates + t * B * G, *cp = cs + t * Bu, *tc = tcs + t * Bu;
        const float *dHt = dH ? dH + t * Bu : NULL;
        const uint8_t *sk = skip ? skip + t * B : NULL;
        CK_PARALLEL_FOR(n_threads)
        for (ck_index b = 0; b < B; b++) {
            float *dhb = cur + b * u, *nb = nxt + b * u;
            add_row(dhb, dHt ? dHt + b * u : NULL, u);
            if (masked(sk, b)) {      /* states carried: gradients pass unchanged */
                carry_row(dzt + b * G, G, dhb, nb, u);
            } else {
                lstm_bwd_row(dhb, dc + b * u, gt + b * G, cp + b * u, tc + b * u,
                             dzt + b * G, dc + b * u, u);
                memset(nb, 0, (size_t)u * sizeof(float));
            }
        }
        if (t == 0 && !need_initial)
            return;
        rec_backward(gemm, dzt, R, G, G, rmask, NULL, cur, sk, nxt, B, u, n_threads);
        float *tmp = cur; cur = nxt; nxt = tmp;
    }
    if (cur != dh)
        memcpy(dh, cur, (size_t)Bu * sizeof(float));
}

CK_GATE_CLONES
static void gru_after_fwd_row(float *CK_RESTRICT z, const float *CK_RESTRICT rec,
                              const float *CK_RESTRICT hp, float *CK_RESTRICT h, ck_index u)
{
    CK_SIMD
    for (ck_index j = 0; j < u; j++) {
        const float zg = ck_sigmoidf(z[j] + rec[j]);
        const float r = ck_sigmoidf(z[u + j] + rec[u + j]);
        const float hh = ck_tanhf(z[2 * u + j] + r * rec[2 * u + j]);
        z[j] = zg; z[u + j] = r; z[2 * u + j] = hh;
        h[j] = zg * hp[j] + (1.0f - zg) * hh;
    }
}

/* z, r = sigmoid; rh = r * hin (hin: the state as the GEMMs read it). */
CK_GATE_CLONES
static void gru_zr_row(float *CK_RESTRICT z, const float *CK_RESTRICT hin,
                       float *CK_RESTRICT rh, ck_index u)
{
    CK_SIMD
    for (ck_index j = 0; j < 2 * u; j++)
        z[j] = ck_sigmoidf(z[j]);
    CK_SIMD
    for (ck_index j = 0; j < u; j++)
        rh[j] = z[u + j] * hin[j];
}

CK_GATE_CLONES
static void gru_h_row(float *CK_RESTRICT z, const float *CK_RESTRICT hp,
                      float *CK_RESTRICT h, ck_index u)
{
    CK_SIMD
    for (ck_index j = 0; j < u; j++) {
        const float zg = z[j], hh = ck_tanhf(z[2 * u + j]);
        z[2 * u + j] = hh;
        h[j] = zg * hp[j] + (1.0f - zg) * hh;
    }
}

void ck_gru_seq_forward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                            float *z, const float *R, const float *brec,
                            const uint8_t *skip, const float *rmask, float *hs, float *rec,
                            int reset_after, int n_threads)
{
    (void)n_threads;
    const ck_index Bu = B * u, G = 3 * u;
    for (ck_index t = 0; t < T; t++) {
        float *zt = z + t * B * G;
        const float *hp = hs + t * Bu;
        float *hn = hs + (t + 1) * Bu;
        const uint8_t *sk = skip ? skip + t * B : NULL;
        const float *hin = rec_input(hp, rmask, hn, Bu);
        if (reset_after) {
            float *rt = rec + t * B * G;
            gemm_rm(gemm, 0, 0, B, G, u, hin, u, R, G, 0.0f, rt, G);
            CK_PARALLEL_FOR(n_threads)
            for (ck_index b = 0; b < B; b++) {
                float *rb = rt + b * G;
                if (brec != NULL)
                    for (ck_index j = 0; j < G; j++)
                        rb[j] += brec[j];
                gru_after_fwd_row(zt + b * G, rb, hp + b * u, hn + b * u, u);
                if (masked(sk, b))
                    memcpy(hn + b * u, hp + b * u, (size_t)u * sizeof(float));
            }
        } else {
            float *rt = rec + t * Bu;
            gemm_rm(gemm, 0, 0, B, 2 * u, u, hin, u, R, G, 1.0f, zt, G);
            CK_PARALLEL_FOR(n_threads)
            for (ck_index b = 0; b < B; b++)
                gru_zr_row(zt + b * G, hin + b * u, rt + b * u, u);
            gemm_rm(gemm, 0, 0, B, u, u, rt, u, R + 2 * u, G, 1.0f, zt + 2 * u, G);
            CK_PARALLEL_FOR(n_threads)
            for (ck_index b = 0; b < B; b++) {
                gru_h_row(zt + b * G, hp + b * u, hn + b * u, u);
                if (masked(sk, b))
                    memcpy(hn + b * u, hp + b * u, (size_t)u * sizeof(float));
            }
        }
    }
}

/* reset_after: dxp = [dz_z, dz_r, dz_h], drec = [dz_z, dz_r, dz_h * r],
 * nxt = dh * zg (the direct path; the caller adds drec R^T). */
CK_GATE_CLONES
static void gru_after_bwd_row(const float *CK_RESTRICT dh, const float *CK_RESTRICT g,
                              const float *CK_RESTRICT hp, const float *CK_RESTRICT rec,
                              float *CK_RESTRICT dx, float *CK_RESTRICT dr,
                              float *CK_RESTRICT nxt, ck_index u)
{
    CK_SIMD
    for (ck_index j = 0; j < u; j++) {
        const float zg = g[j], r = g[u + j], hh = g[2 * u + j], d = dh[j];
        const float dzh = d * ((1.0f - zg) * (1.0f - hh * hh));
        const float dzz = d * ((hp[j] - hh) * (zg * (1.0f - zg)));
        const float dzr = dzh * (rec[2 * u + j] * (r * (1.0f - r)));
        dx[j] = dzz; dx[u + j] = dzr; dx[2 * u + j] = dzh;
        dr[j] = dzz; dr[u + j] = dzr; dr[2 * u + j] = dzh * r;
        nxt[j] = d * zg;
    }
}

/* reset before, first half: dz_z, dz_h and the direct path dh * zg. */
CK_GATE_CLONES
static void gru_before_bwd_row(const float *CK_RESTRICT dh, const float *CK_RESTRICT g,
                               const float *CK_RESTRICT hp, float *CK_RESTRICT dx,
                               float *CK_RESTRICT nxt, ck_index u)
{
    CK_SIMD
    for (ck_index j = 0; j < u; j++) {
        const float zg = g[j], hh = g[2 * u + j], d = dh[j];
        dx[2 * u + j] = d * ((1.0f - zg) * (1.0f - hh * hh));
        dx[j] = d * ((hp[j] - hh) * (zg * (1.0f - zg)));
        nxt[j] = d * zg;
    }
}

/* reset before, second half: from drh = dz_h R_h^T, dz_r and the gradient
 * drh * r through r * hin, into nxt (times rmask when given). */
CK_GATE_CLONES
static void gru_before_bwd_row2(const float *CK_RESTRICT drh, const float *CK_RESTRICT g,
                                const float *CK_RESTRICT hp, const float *CK_RESTRICT m,
                                float *CK_RESTRICT dx, float *CK_RESTRICT nxt, ck_index u)
{
    if (m == NULL) {
        CK_SIMD
        for (ck_index j = 0; j < u; j++) {
            const float r = g[u + j];
            dx[u + j] = drh[j] * (hp[j] * (r * (1.0f - r)));
            nxt[j] += drh[j] * r;
        }
    } else {
        CK_SIMD
        for (ck_index j = 0; j < u; j++) {
            const float r = g[u + j];
            dx[u + j] = drh[j] * ((hp[j] * m[j]) * (r * (1.0f - r)));
            nxt[j] += (drh[j] * r) * m[j];
        }
    }
}

void ck_gru_seq_backward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                             const float *gates, const float *R, const uint8_t *skip,
                             const float *rmask, const float *hs, const float *rec,
                             const float *dH, float *dh, float *dxp, float *drec,
                             float *scratch, int reset_after, int need_initial, int n_threads)
{
    (void)n_threads;
    const ck_index Bu = B * u, G = 3 * u;
    float *cur = dh, *nxt = scratch, *aux = scratch + Bu;
    for (ck_index t = T - 1; t >= 0; t--) {
        const float *gt = gates + t * B * G, *hp = hs + t * Bu;
        const float *dHt = dH ? dH + t * Bu : NULL;
        float *dxt = dxp + t * B * G;
        const uint8_t *sk = skip ? skip + t * B : NULL;
        if (reset_after) {
            const float *rt = rec + t * B * G;
            float *drt = drec + t * B * G;
            /* the direct path goes to aux when the GEMM part needs rmask */
            float *direct = rmask ? aux : nxt;
            CK_PARALLEL_FOR(n_threads)
            for (ck_index b = 0; b < B; b++) {
                float *dhb = cur + b * u, *nb = direct + b * u;
                add_row(dhb, dHt ? dHt + b * u : NULL, u);
                if (masked(sk, b)) {
                    carry_row(dxt + b * G, G, dhb, nb, u);
                    memset(drt + b * G, 0, (size_t)G * sizeof(float));
                } else {
                    gru_after_bwd_row(dhb, gt + b * G, hp + b * u, rt + b * G,
                                      dxt + b * G, drt + b * G, nb, u);
                }
            }
            if (t == 0 && !need_initial)
                return;
            rec_backward(gemm, drt, R, G, G, rmask, aux, aux, sk, nxt, B, u, n_threads);
        } else {
            CK_PARALLEL_FOR(n_threads)
            for (ck_index b = 0; b < B; b++) {
                float *dhb = cur + b * u, *nb = nxt + b * u;
                add_row(dhb, dHt ? dHt + b * u : NULL, u);
                if (masked(sk, b)) {
                    carry_row(dxt + b * G, G, dhb, nb, u);
                } else {
                    gru_before_bwd_row(dhb, gt + b * G, hp + b * u, dxt + b * G, nb, u);
                }
            }
            gemm_rm(gemm, 0, 1, B, u, u, dxt + 2 * u, G, R + 2 * u, G, 0.0f, aux, u);
            CK_PARALLEL_FOR(n_threads)
            for (ck_index b = 0; b < B; b++)
                if (!masked(sk, b))
                    gru_before_bwd_row2(aux + b * u, gt + b * G, hp + b * u,
                                        rmask ? rmask + b * u : NULL, dxt + b * G,
                                        nxt + b * u, u);
            if (t == 0 && !need_initial)
                return;
            if (rmask == NULL) {
                gemm_rm(gemm, 0, 1, B, u, 2 * u, dxt, G, R, G, 1.0f, nxt, u);
            } else {   /* aux = dz_zr R_zr^T, then nxt += aux * rmask */
                gemm_rm(gemm, 0, 1, B, u, 2 * u, dxt, G, R, G, 0.0f, aux, u);
                rec_grad_rows(aux, rmask, nxt, nxt, sk, B, u, n_threads);
                float *tmp = nxt; nxt = aux; aux = tmp;
            }
        }
        float *tmp = cur; cur = nxt; nxt = tmp;
    }
    if (cur != dh)
        memcpy(dh, cur, (size_t)Bu * sizeof(float));
}

static inline float act_f(int act, float x)
{
    switch (act) {
    case CK_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case CK_ACT_SIGMOID: return ck_sigmoidf(x);
    case CK_ACT_TANH: return ck_tanhf(x);
    default: return x;
    }
}

/* d act / d pre from the output y. */
static inline float act_d(int act, float y)
{
    switch (act) {
    case CK_ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case CK_ACT_SIGMOID: return y * (1.0f - y);
    case CK_ACT_TANH: return 1.0f - y * y;
    default: return 1.0f;
    }
}

CK_GATE_CLONES
static void rnn_fwd_row(float *CK_RESTRICT z, int act, ck_index u)
{
    switch (act) {   /* one branch-free loop per activation */
    case CK_ACT_TANH:
        CK_SIMD
        for (ck_index j = 0; j < u; j++) z[j] = ck_tanhf(z[j]);
        break;
    case CK_ACT_SIGMOID:
        CK_SIMD
        for (ck_index j = 0; j < u; j++) z[j] = ck_sigmoidf(z[j]);
        break;
    default:
        for (ck_index j = 0; j < u; j++) z[j] = act_f(act, z[j]);
    }
}

void ck_rnn_seq_forward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                            float *z, const float *R, const uint8_t *skip,
                            const float *rmask, float *hs, int act, int n_threads)
{
    (void)n_threads;
    const ck_index Bu = B * u;
    for (ck_index t = 0; t < T; t++) {
        float *zt = z + t * Bu;
        const float *hp = hs + t * Bu;
        float *hn = hs + (t + 1) * Bu;
        const uint8_t *sk = skip ? skip + t * B : NULL;
        gemm_rm(gemm, 0, 0, B, u, u, rec_input(hp, rmask, hn, Bu), u, R, u, 1.0f, zt, u);
        CK_PARALLEL_FOR(n_threads)
        for (ck_index b = 0; b < B; b++) {
            rnn_fwd_row(zt + b * u, act, u);
            memcpy(hn + b * u, masked(sk, b) ? hp + b * u : zt + b * u,
                   (size_t)u * sizeof(float));
        }
    }
}

void ck_rnn_seq_backward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                             const float *y, const float *R, const uint8_t *skip,
                             const float *rmask, const float *dH, float *dh, float *dz,
                             float *scratch, int act, int need_initial, int n_threads)
{
    (void)n_threads;
    const ck_index Bu = B * u;
    float *cur = dh, *nxt = scratch;
    for (ck_index t = T - 1; t >= 0; t--) {
        const float *yt = y + t * Bu;
        const float *dHt = dH ? dH + t * Bu : NULL;
        float *dzt = dz + t * Bu;
        const uint8_t *sk = skip ? skip + t * B : NULL;
        CK_PARALLEL_FOR(n_threads)
        for (ck_index b = 0; b < B; b++) {
            float *dhb = cur + b * u, *nb = nxt + b * u, *dzb = dzt + b * u;
            const float *yb = yt + b * u;
            add_row(dhb, dHt ? dHt + b * u : NULL, u);
            if (masked(sk, b)) {
                carry_row(dzb, u, dhb, nb, u);
            } else {
                for (ck_index j = 0; j < u; j++)
                    dzb[j] = dhb[j] * act_d(act, yb[j]);
                memset(nb, 0, (size_t)u * sizeof(float));
            }
        }
        if (t == 0 && !need_initial)
            return;
        rec_backward(gemm, dzt, R, u, u, rmask, NULL, cur, sk, nxt, B, u, n_threads);
        float *tmp = cur; cur = nxt; nxt = tmp;
    }
    if (cur != dh)
        memcpy(dh, cur, (size_t)Bu * sizeof(float));
}
