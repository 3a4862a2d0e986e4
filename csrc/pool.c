/* Pooling kernels (see pool.h). */
#include <string.h>
#include "pool.h"

/* The real (unpadded) input range [lo, hi) of window o along one axis. */
static inline void window(ck_index o, ck_index s, ck_index k, ck_index pad, ck_index n,
                          ck_index *lo, ck_index *hi)
{
    const ck_index start = o * s - pad;
    *lo = start < 0 ? 0 : start;
    *hi = start + k > n ? n : start + k;
}

/* The real input box [d0, d1) x [h0, h1) x [w0, w1) of one window. */
typedef struct { ck_index d0, d1, h0, h1, w0, w1; } ck_box;

/* Output line `line` = (image b, od, oh) of OW windows: returns image b's
 * input and fills the d and h ranges its windows share. */
static inline const float *window_line(const float *x, const ck_conv_geom *g, ck_index line,
                                       ck_box *w)
{
    const ck_index OD = g->out[0], OH = g->out[1];
    const ck_index b = line / (OD * OH), od = (line / OH) % OD, oh = line % OH;
    window(od, g->s[0], g->k[0], g->pad[0], g->in[0], &w->d0, &w->d1);
    window(oh, g->s[1], g->k[1], g->pad[1], g->in[1], &w->h0, &w->h1);
    return x + b * g->in[0] * g->in[1] * g->in[2] * g->c;
}

/* Branch-free update of the running max and its position (vectorises). */
CK_TARGET_CLONES
static void max_step(const float *CK_RESTRICT xi, int32_t pos, float *CK_RESTRICT yo,
                     int32_t *CK_RESTRICT ao, ck_index C)
{
    CK_SIMD
    for (ck_index c = 0; c < C; c++) {
        const float v = xi[c], cur = yo[c];
        const int32_t a = ao[c];
        const int better = v > cur;
        yo[c] = better ? v : cur;
        ao[c] = better ? pos : a;
    }
}

CK_TARGET_CLONES
static void max_only_step(const float *CK_RESTRICT xi, float *CK_RESTRICT yo, ck_index C)
{
    CK_SIMD
    for (ck_index c = 0; c < C; c++)
        yo[c] = xi[c] > yo[c] ? xi[c] : yo[c];
}

/* yo (C) = the maximum over the box of image xb (H, W rows), ao its flat
 * position (ao NULL: not wanted): the box's first element, then strict >
 * over the rest, so ties keep the first maximum. */
static inline void max_window(const float *xb, const ck_box *w, ck_index H, ck_index W,
                              ck_index C, float *yo, int32_t *ao)
{
    const int32_t first = (int32_t)((w->d0 * H + w->h0) * W + w->w0);
    memcpy(yo, xb + (ck_index)first * C, (size_t)C * sizeof(float));
    if (ao != NULL)
        for (ck_index c = 0; c < C; c++)
            ao[c] = first;
    for (ck_index id = w->d0; id < w->d1; id++)
        for (ck_index ih = w->h0; ih < w->h1; ih++)
            for (ck_index iw = w->w0; iw < w->w1; iw++) {
                const int32_t pos = (int32_t)((id * H + ih) * W + iw);
                if (pos == first)
                    continue;
                if (ao != NULL)
                    max_step(xb + (ck_index)pos * C, pos, yo, ao, C);
                else
                    max_only_step(xb + (ck_index)pos * C, yo, C);
            }
}

/* yo (C) = the mean over the box of image xb (H, W rows). */
static inline void avg_window(const float *xb, const ck_box *w, ck_index H, ck_index W,
                              ck_index C, float *yo)
{
    memset(yo, 0, (size_t)C * sizeof(float));
    for (ck_index id = w->d0; id < w->d1; id++)
        for (ck_index ih = w->h0; ih < w->h1; ih++)
            for (ck_index iw = w->w0; iw < w->w1; iw++) {
                const float *xi = xb + ((id * H + ih) * W + iw) * C;
                CK_SIMD
                for (ck_index c = 0; c < C; c++)
                    yo[c] += xi[c];
            }
    const float inv = 1.0f / (float)((w->d1 - w->d0) * (w->h1 - w->h0) * (w->w1 - w->w0));
    CK_SIMD
    for (ck_index c = 0; c < C; c++)
        yo[c] *= inv;
}

/* Every window of the batch, parallel over output lines: its mean
 * (average) or its maximum (and argmax). */
static void pool_forward(const float *x, ck_index nb, const ck_conv_geom *g, float *y,
                         int32_t *argmax, int average, int n_threads)
{
    const ck_index H = g->in[1], W = g->in[2], C = g->c, OW = g->out[2];
    const ck_index lines = nb * g->out[0] * g->out[1];
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index line = 0; line < lines; line++) {
        ck_box w;
        const float *xb = window_line(x, g, line, &w);
        for (ck_index ow = 0; ow < OW; ow++) {
            const ck_index o = (line * OW + ow) * C;
            window(ow, g->s[2], g->k[2], g->pad[2], W, &w.w0, &w.w1);
            if (average)
                avg_window(xb, &w, H, W, C, y + o);
            else
                max_window(xb, &w, H, W, C, y + o, argmax != NULL ? argmax + o : NULL);
        }
    }
}

void ck_maxpool_forward_f32(const float *x, ck_index nb, const ck_conv_geom *g, float *y,
                            int32_t *argmax, int n_threads)
{
    pool_forward(x, nb, g, y, argmax, 0, n_threads);
}

void ck_maxpool_backward_f32(const float *dy, const int32_t *argmax, ck_index nb,
                             const ck_conv_geom *g, float *dx, int n_threads)
{
    const ck_index C = g->c;
    const ck_index in_n = g->in[0] * g->in[1] * g->in[2] * C;
    const ck_index out_n = g->out[0] * g->out[1] * g->out[2] * C;
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index b = 0; b < nb; b++) {
        float *dxb = dx + b * in_n;
        const float *dyb = dy + b * out_n;
        const int32_t *ab = argmax + b * out_n;
        memset(dxb, 0, (size_t)in_n * sizeof(float));
        for (ck_index j = 0; j < out_n; j += C)
            for (ck_index c = 0; c < C; c++)
                dxb[(ck_index)ab[j + c] * C + c] += dyb[j + c];
    }
}

void ck_avgpool_forward_f32(const float *x, ck_index nb, const ck_conv_geom *g, float *y,
                            int n_threads)
{
    pool_forward(x, nb, g, y, NULL, 1, n_threads);
}

void ck_avgpool_backward_f32(const float *dy, ck_index nb, const ck_conv_geom *g, float *dx,
                             int n_threads)
{
    const ck_index D = g->in[0], H = g->in[1], W = g->in[2], C = g->c;
    const ck_index OD = g->out[0], OH = g->out[1], OW = g->out[2];
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index b = 0; b < nb; b++) {
        float *dxb = dx + b * D * H * W * C;
        const float *dyb = dy + b * OD * OH * OW * C;
        memset(dxb, 0, (size_t)(D * H * W * C) * sizeof(float));
        for (ck_index od = 0; od < OD; od++) {
            ck_index d0, d1;
            window(od, g->s[0], g->k[0], g->pad[0], D, &d0, &d1);
            for (ck_index oh = 0; oh < OH; oh++) {
                ck_index h0, h1;
                window(oh, g->s[1], g->k[1], g->pad[1], H, &h0, &h1);
                for (ck_index ow = 0; ow < OW; ow++) {
                    ck_index w0, w1;
                    window(ow, g->s[2], g->k[2], g->pad[2], W, &w0, &w1);
                    const float *dyo = dyb + ((od * OH + oh) * OW + ow) * C;
                    const float inv = 1.0f / (float)((d1 - d0) * (h1 - h0) * (w1 - w0));
                    for (ck_index id = d0; id < d1; id++)
                        for (ck_index ih = h0; ih < h1; ih++)
                            for (ck_index iw = w0; iw < w1; iw++) {
                                float *dxi = dxb + ((id * H + ih) * W + iw) * C;
                                CK_SIMD
                                for (ck_index c = 0; c < C; c++)
                                    dxi[c] += dyo[c] * inv;
                            }
                }
            }
        }
    }
}
