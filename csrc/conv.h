/* Patch extraction (im2col) and its adjoint (col2im) for convolutions.
 *
 * Tensors are channels-last (nb, D, H, W, C), row-major; 1-D and 2-D
 * convolutions use D = 1 (and H = 1).  Output position o along an axis reads
 * input o*s - pad + t*d for tap t; coordinates outside [0, n) are zeros.
 * The patch matrix is (nb * OD*OH*OW, KD*KH*KW*C), columns ordered
 * (kd, kh, kw, c) like a Keras kernel (kd, kh, kw, in, out) flattened.
 */
#ifndef CK_CONV_H
#define CK_CONV_H
#include "ck_common.h"

typedef struct {
    ck_index in[3];    /* input spatial size (D, H, W) */
    ck_index out[3];   /* output spatial size */
    ck_index k[3];     /* kernel / window size */
    ck_index s[3];     /* strides */
    ck_index d[3];     /* dilation */
    ck_index pad[3];   /* padding before (after is implied by out) */
    ck_index c;        /* channels */
} ck_conv_geom;

/* cols (nb*OD*OH*OW, KD*KH*KW*C) <- patches of x (nb, D, H, W, C).
 * Parallel over output rows. */
void ck_im2col_f32(const float *x, ck_index nb, const ck_conv_geom *g, float *cols,
                   int n_threads);

/* x (nb, D, H, W, C) <- sum over the patches each input element appears in
 * (overwrites x).  Gathered per input element, in tap order, so results do
 * not depend on the thread count.  Parallel over input rows. */
void ck_col2im_f32(const float *cols, ck_index nb, const ck_conv_geom *g, float *x,
                   int n_threads);

/* Weight gradient of a convolution with a small patch width K = KD*KH*KW*C
 * <= CK_SMALL_K (first layers, which need no dx), straight from x: each
 * output row's K-float patch is gathered on the fly, so neither the patch
 * matrix nor dz is stored.  dz = dy (or dy * (y > 0) when relu),
 * dw (K, F) += sum_r patch_r^T dz_r, dbias (F) += sum_r dz_r (dbias may be
 * NULL).  Rows are summed in fixed blocks of CK_SMALL_BLOCK output lines
 * into ``partials`` (ck_conv_small_blocks(...) * (K*F + F) floats), then
 * the blocks in order: the same bits at any thread count. */
#define CK_SMALL_K 16
#define CK_SMALL_BLOCK 8
#define CK_SMALL_F 256     /* most filters the weight-gradient kernel takes */
ck_index ck_conv_small_blocks(ck_index nb, const ck_conv_geom *g);
void ck_conv_small_dw_f32(const float *x, ck_index nb, const ck_conv_geom *g,
                          const float *dy, const float *y, int relu, float *dw, float *dbias,
                          ck_index F, float *partials, int n_threads);

#endif
