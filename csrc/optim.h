/* Fused in-place optimizer updates (Keras 3 formulas) on flat float32
 * arrays of n elements.  Optional slots are NULL when unused.  The "one
 * minus" factors are computed by the caller in double and rounded once, as
 * numpy does for the reference.  Parallel over fixed chunks of elements. */
#ifndef CK_OPTIM_H
#define CK_OPTIM_H
#include "ck_common.h"

/* velocity == NULL or momentum == 0: p -= lr g.  Else
 * v = v momentum - lr g;  p += nesterov ? momentum v - lr g : v. */
void ck_sgd_update_f32(float *param, const float *grad, float *velocity, ck_index n,
                       float lr, float momentum, int nesterov, int n_threads);

/* m += (g - m)(1-b1);  v += (g^2 - v)(1-b2);  vhat = max(vhat, v) if given;
 * p -= lr_t m / (sqrt(vhat or v) + eps). */
void ck_adam_update_f32(float *param, const float *grad, float *m, float *v, float *vhat,
                        ck_index n, float lr_t, float one_minus_b1, float one_minus_b2,
                        float eps, int n_threads);

/* v = v rho + (1-rho) g^2;  centered (average_grad): a = a rho + (1-rho) g,
 * denom = v - a^2 + eps, else v + eps;  inc = lr g / sqrt(denom);
 * momentum_buf: mb = mb momentum + inc, p -= mb;  else p -= inc. */
void ck_rmsprop_update_f32(float *param, const float *grad, float *velocity,
                           float *momentum_buf, float *average_grad, ck_index n,
                           float lr, float rho, float one_minus_rho, float eps,
                           float momentum, int n_threads);

/* acc += g^2;  p -= lr g / sqrt(acc + eps). */
void ck_adagrad_update_f32(float *param, const float *grad, float *acc, ck_index n,
                           float lr, float eps, int n_threads);

#endif
