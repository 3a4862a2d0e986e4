/* Depthwise convolution on patch matrices (conv.h's im2col layout): every
 * input channel c has its own M filters, output channel c*M + m (Keras's
 * DepthwiseConv order).  cols (R, T, C) = R output positions x T taps x C
 * channels; w (T, C, M); z (R, C*M). */
#ifndef CK_DEPTHWISE_H
#define CK_DEPTHWISE_H
#include "ck_common.h"

/* z[r, c*M+m] = sum_t cols[r, t, c] * w[t, c, m].  Parallel over rows. */
void ck_depthwise_rows_f32(const float *cols, const float *w, float *z, ck_index R,
                           ck_index T, ck_index C, ck_index M, int n_threads);

/* dcols[r, t, c] = sum_m dz[r, c*M+m] * w[t, c, m].  Parallel over rows. */
void ck_depthwise_dcols_f32(const float *dz, const float *w, float *dcols, ck_index R,
                            ck_index T, ck_index C, ck_index M, int n_threads);

/* dw[t, c, m] += sum_r cols[r, t, c] * dz[r, c*M+m], rows in order.
 * Parallel over taps (each thread owns its dw rows). */
void ck_depthwise_dw_f32(const float *cols, const float *dz, float *dw, ck_index R,
                         ck_index T, ck_index C, ck_index M, int n_threads);

#endif
