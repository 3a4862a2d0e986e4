/* Fused LSTM gate kernels (see recurrent.h). */
#include "recurrent.h"

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

CK_TARGET_CLONES
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

CK_TARGET_CLONES
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
