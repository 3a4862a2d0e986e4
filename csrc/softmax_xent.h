/* Fused softmax + cross-entropy and sigmoid + binary cross-entropy.
 *
 * All arrays row-major.  logits (B, C); grad (B, C) out; loss (B,) out, per
 * row and unscaled; probs (B, C) out or NULL; scale (B,) per-row gradient
 * factor or NULL (= 1).  Parallel over rows; one pass over each row's
 * logits for the max, one fused exp + sum pass, one write pass.
 */
#ifndef CK_SOFTMAX_XENT_H
#define CK_SOFTMAX_XENT_H
#include "ck_common.h"

/* Sparse labels: labels (B,) int64 (labels_64) or int32, each in [0, C) (the
 * caller checks).
 * loss[i] = logsumexp(x_i) - x_i[l_i];  grad[i] = scale_i * (softmax(x_i) - onehot(l_i)) */
void ck_softmax_xent_f32(const float *logits, const void *labels, int labels_64,
                         const float *scale, float *grad, float *loss, float *probs,
                         ck_index B, ck_index C, int n_threads);

/* Dense target rows t (B, C):
 * loss[i] = -sum_j t_ij log p_ij (terms with t_ij == 0 skipped, so masked
 * -inf logits give no NaN);  grad[i] = scale_i * (p_i * sum_j t_ij - t_i). */
void ck_softmax_xent_dense_f32(const float *logits, const float *targets, const float *scale,
                               float *grad, float *loss, float *probs,
                               ck_index B, ck_index C, int n_threads);

/* Sigmoid + binary cross-entropy averaged over the K columns of each row:
 * loss[i] = mean_j (max(x,0) - x t + log1p(exp(-|x|)));
 * probs = sigmoid(x) (required);  grad[i] = scale_i * (p_i - t_i) / K. */
void ck_sigmoid_bce_f32(const float *logits, const float *targets, const float *scale,
                        float *grad, float *loss, float *probs,
                        ck_index B, ck_index K, int n_threads);

#endif
