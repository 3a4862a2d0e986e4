/* Max and average pooling over channels-last (nb, D, H, W, C) tensors, the
 * geometry as in conv.h (d = dilation is 1 for pooling).  Windows never read
 * padding: max takes the largest real element, average divides by the count
 * of real elements in the window (Keras's 'same' average pooling). */
#ifndef CK_POOL_H
#define CK_POOL_H
#include "conv.h"

/* y (nb, OD, OH, OW, C) = window max; argmax (same shape) = the flat spatial
 * index (id*H + ih)*W + iw of the FIRST maximum in (kd, kh, kw) order, as
 * TensorFlow routes the gradient (argmax may be NULL: maxima only).
 * Parallel over output rows. */
void ck_maxpool_forward_f32(const float *x, ck_index nb, const ck_conv_geom *g, float *y,
                            int32_t *argmax, int n_threads);

/* dx (nb, D, H, W, C) = dy routed to each window's argmax (overwrites dx).
 * Parallel over images; within one, outputs are added in order. */
void ck_maxpool_backward_f32(const float *dy, const int32_t *argmax, ck_index nb,
                             const ck_conv_geom *g, float *dx, int n_threads);

/* y = window mean over real elements.  Parallel over output rows. */
void ck_avgpool_forward_f32(const float *x, ck_index nb, const ck_conv_geom *g, float *y,
                            int n_threads);

/* dx = each dy / count spread over its window (overwrites dx).  Parallel
 * over images. */
void ck_avgpool_backward_f32(const float *dy, ck_index nb, const ck_conv_geom *g, float *dx,
                             int n_threads);

#endif
