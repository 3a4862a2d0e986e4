/* Attention softmax: the softmax over the last axis of attention scores,
 * fused with the boolean mask and the causal mask, and its backward.
 *
 * Scores x are (G, H, T, S) row-major: G batch groups, H heads, T query
 * positions, S key positions; softmax runs over each row of S.  An entry
 * (g, h, i, j) is kept when mask[g * mask_g + h * mask_h + i * S + j] != 0
 * (mask NULL: all kept; mask_g / mask_h are element strides, 0 to broadcast
 * the mask over batch groups / heads) and, with causal, when j <= i.
 * Kept entries get softmax over the kept entries of the row; the others 0.
 * A row with nothing kept is all 0 (Keras's Softmax layer with a mask).
 * y may be x (in place): each entry is read before it is written.
 */
#ifndef CK_ATTENTION_H
#define CK_ATTENTION_H
#include "ck_common.h"

void ck_masked_softmax_f32(const float *x, const uint8_t *mask, float *y,
                           ck_index G, ck_index H, ck_index T, ck_index S,
                           ck_index mask_g, ck_index mask_h, int causal, int n_threads);

/* dx = y * (dy - sum_j dy_j y_j) per row of S; rows (R, S). Masked entries
 * have y == 0 and so get dx == 0. dx may be dy (in place). */
void ck_softmax_backward_f32(const float *dy, const float *y, float *dx,
                             ck_index R, ck_index S, int n_threads);

#endif
