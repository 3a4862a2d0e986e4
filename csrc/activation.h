/* Bias + activation, forward and backward, on row-major (rows, cols) arrays. */
#ifndef CK_ACTIVATION_H
#define CK_ACTIVATION_H
#include "ck_common.h"

enum {
    CK_ACT_LINEAR = 0,
    CK_ACT_RELU = 1,
    CK_ACT_SIGMOID = 2,
    CK_ACT_TANH = 3,
    CK_ACT_SOFTMAX = 4
};

/* y = act(z + bias), z and y (rows, cols), bias (cols,) or NULL.  y may be z
 * (in place).  softmax is taken along each row.  Parallel over rows. */
void ck_bias_act_f32(const float *z, const float *bias, float *y,
                     ck_index rows, ck_index cols, int act, int n_threads);

/* dz = act'(y) * dy (elementwise; softmax: y * (dy - <dy, y>) per row), all
 * (rows, cols).  dz may be dy.  If dbias is not NULL, also
 * dbias[j] += sum_i dz[i, j] (summed in double, in row order). */
void ck_act_backward_f32(const float *dy, const float *y, float *dz, float *dbias,
                         ck_index rows, ck_index cols, int act, int n_threads);

/* out[j] += sum_i a[i, j]; a (rows, cols).  Parallel over column blocks. */
void ck_colsum_add_f32(const float *a, float *out, ck_index rows, ck_index cols,
                       int n_threads);

#endif
