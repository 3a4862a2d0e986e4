/* Fused optimizer updates (see optim.h).  Each update is one pass over the
 * arrays, no temporaries.  Operation order follows the numpy reference so
 * results agree to the last bit wherever libm is not involved.
 *
 * The range is cut into fixed CK_FLAT_CHUNK-element chunks whatever the
 * thread count (threads take whole chunks), so each element takes the same
 * vector-body or scalar-tail path at 1 or N threads. */
#include "optim.h"

#define CK_RUN_CHUNKS(n, n_threads, CALL)                                         \
    do {                                                                          \
        const ck_index nchunks_ = ((n) + CK_FLAT_CHUNK - 1) / CK_FLAT_CHUNK;      \
        (void)(n_threads);                                                        \
        CK_PARALLEL_FOR(n_threads)                                                \
        for (ck_index c_ = 0; c_ < nchunks_; c_++) {                              \
            const ck_index lo = c_ * CK_FLAT_CHUNK;                               \
            const ck_index hi = ck_min_index((n), lo + CK_FLAT_CHUNK);            \
            CALL;                                                                 \
        }                                                                         \
    } while (0)

/* ---- SGD ------------------------------------------------------------------ */

CK_TARGET_CLONES
static void sgd_chunk(float *CK_RESTRICT param, const float *CK_RESTRICT grad,
                      float *CK_RESTRICT velocity, ck_index lo, ck_index hi,
                      float lr, float momentum, int nesterov)
{
    if (velocity == NULL) {
        CK_SIMD
        for (ck_index i = lo; i < hi; i++)
            param[i] -= lr * grad[i];
    } else if (nesterov) {
        CK_SIMD
        for (ck_index i = lo; i < hi; i++) {
            const float g = lr * grad[i];
            const float v = velocity[i] * momentum - g;
            velocity[i] = v;
            param[i] += momentum * v - g;
        }
    } else {
        CK_SIMD
        for (ck_index i = lo; i < hi; i++) {
            const float v = velocity[i] * momentum - lr * grad[i];
            velocity[i] = v;
            param[i] += v;
        }
    }
}

void ck_sgd_update_f32(float *param, const float *grad, float *velocity, ck_index n,
                       float lr, float momentum, int nesterov, int n_threads)
{
    if (momentum == 0.0f)
        velocity = NULL;
    CK_RUN_CHUNKS(n, n_threads,
                  sgd_chunk(param, grad, velocity, lo, hi, lr, momentum, nesterov));
}

/* ---- Adam ----------------------------------------------------------------- */

CK_TARGET_CLONES
static void adam_chunk(float *CK_RESTRICT param, const float *CK_RESTRICT grad,
                       float *CK_RESTRICT m, float *CK_RESTRICT v, float *CK_RESTRICT vhat,
                       ck_index lo, ck_index hi, float lr_t, float one_minus_b1,
                       float one_minus_b2, float eps)
{
    if (vhat != NULL) {
        CK_SIMD
        for (ck_index i = lo; i < hi; i++) {
            const float g = grad[i];
            const float mi = m[i] + (g - m[i]) * one_minus_b1;
            const float vi = v[i] + (g * g - v[i]) * one_minus_b2;
            const float h = vhat[i] < vi ? vi : vhat[i];
            m[i] = mi;
            v[i] = vi;
            vhat[i] = h;
            param[i] -= (lr_t * mi) / (sqrtf(h) + eps);
        }
    } else {
        CK_SIMD
        for (ck_index i = lo; i < hi; i++) {
            const float g = grad[i];
            const float mi = m[i] + (g - m[i]) * one_minus_b1;
            const float vi = v[i] + (g * g - v[i]) * one_minus_b2;
            m[i] = mi;
            v[i] = vi;
            param[i] -= (lr_t * mi) / (sqrtf(vi) + eps);
        }
    }
}

void ck_adam_update_f32(float *param, const float *grad, float *m, float *v, float *vhat,
                        ck_index n, float lr_t, float one_minus_b1, float one_minus_b2,
                        float eps, int n_threads)
{
    CK_RUN_CHUNKS(n, n_threads,
                  adam_chunk(param, grad, m, v, vhat, lo, hi, lr_t, one_minus_b1,
                             one_minus_b2, eps));
}

/* ---- RMSprop -------------------------------------------------------------- */

/* CENTERED / MOM are compile-time constants in each expansion: branch-free loops */
#define CK_RMSPROP_LOOP(CENTERED, MOM)                                            \
    CK_SIMD                                                                       \
    for (ck_index i = lo; i < hi; i++) {                                          \
        const float g = grad[i];                                                  \
        const float vi = velocity[i] * rho + (one_minus_rho * g) * g;             \
        float denom;                                                              \
        velocity[i] = vi;                                                         \
        if (CENTERED) {                                                           \
            const float a = average_grad[i] * rho + one_minus_rho * g;            \
            average_grad[i] = a;                                                  \
            denom = (vi - a * a) + eps;                                           \
        } else {                                                                  \
            denom = vi + eps;                                                     \
        }                                                                         \
        const float inc = (lr * g) / sqrtf(denom);                                \
        if (MOM) {                                                                \
            const float mb = momentum_buf[i] * momentum + inc;                    \
            momentum_buf[i] = mb;                                                 \
            param[i] -= mb;                                                       \
        } else {                                                                  \
            param[i] -= inc;                                                      \
        }                                                                         \
    }

CK_TARGET_CLONES
static void rmsprop_chunk(float *CK_RESTRICT param, const float *CK_RESTRICT grad,
                          float *CK_RESTRICT velocity, float *CK_RESTRICT momentum_buf,
                          float *CK_RESTRICT average_grad, ck_index lo, ck_index hi,
                          float lr, float rho, float one_minus_rho, float eps, float momentum)
{
    if (average_grad != NULL && momentum_buf != NULL) {
        CK_RMSPROP_LOOP(1, 1)
    } else if (average_grad != NULL) {
        CK_RMSPROP_LOOP(1, 0)
    } else if (momentum_buf != NULL) {
        CK_RMSPROP_LOOP(0, 1)
    } else {
        CK_RMSPROP_LOOP(0, 0)
    }
}

void ck_rmsprop_update_f32(float *param, const float *grad, float *velocity,
                           float *momentum_buf, float *average_grad, ck_index n,
                           float lr, float rho, float one_minus_rho, float eps,
                           float momentum, int n_threads)
{
    if (!(momentum > 0.0f))
        momentum_buf = NULL;
    CK_RUN_CHUNKS(n, n_threads,
                  rmsprop_chunk(param, grad, velocity, momentum_buf, average_grad, lo, hi,
                                lr, rho, one_minus_rho, eps, momentum));
}

/* ---- Adagrad -------------------------------------------------------------- */

CK_TARGET_CLONES
static void adagrad_chunk(float *CK_RESTRICT param, const float *CK_RESTRICT grad,
                          float *CK_RESTRICT acc, ck_index lo, ck_index hi,
                          float lr, float eps)
{
    CK_SIMD
    for (ck_index i = lo; i < hi; i++) {
        const float g = grad[i];
        const float a = acc[i] + g * g;
        acc[i] = a;
        param[i] -= (lr * g) / sqrtf(a + eps);
    }
}

void ck_adagrad_update_f32(float *param, const float *grad, float *acc, ck_index n,
                           float lr, float eps, int n_threads)
{
    CK_RUN_CHUNKS(n, n_threads, adagrad_chunk(param, grad, acc, lo, hi, lr, eps));
}
