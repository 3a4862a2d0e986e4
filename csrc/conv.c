/* im2col / col2im (see conv.h). */
#include <string.h>
#include "conv.h"

void ck_im2col_f32(const float *x, ck_index nb, const ck_conv_geom *g, float *cols,
                   int n_threads)
{
    const ck_index D = g->in[0], H = g->in[1], W = g->in[2], C = g->c;
    const ck_index OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const ck_index KD = g->k[0], KH = g->k[1], KW = g->k[2];
    const ck_index K = KD * KH * KW * C;
    const ck_index lines = nb * OD * OH;      /* one output line = OW rows */
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index line = 0; line < lines; line++) {
        const ck_index b = line / (OD * OH), od = (line / OH) % OD, oh = line % OH;
        const float *xb = x + b * D * H * W * C;
        for (ck_index ow = 0; ow < OW; ow++) {
            float *row = cols + (line * OW + ow) * K;
            for (ck_index a = 0; a < KD; a++) {
                const ck_index id = od * g->s[0] - g->pad[0] + a * g->d[0];
                for (ck_index e = 0; e < KH; e++) {
                    const ck_index ih = oh * g->s[1] - g->pad[1] + e * g->d[1];
                    const int inside = id >= 0 && id < D && ih >= 0 && ih < H;
                    for (ck_index f = 0; f < KW; f++, row += C) {
                        const ck_index iw = ow * g->s[2] - g->pad[2] + f * g->d[2];
                        if (inside && iw >= 0 && iw < W) {
                            const float *src = xb + ((id * H + ih) * W + iw) * C;
                            CK_SIMD
                            for (ck_index c = 0; c < C; c++)
                                row[c] = src[c];
                        } else {
                            CK_SIMD
                            for (ck_index c = 0; c < C; c++)
                                row[c] = 0.0f;
                        }
                    }
                }
            }
        }
    }
}

/* The output index o with o*s - pad + t*dil == i along one axis, or -1. */
static inline ck_index source(ck_index i, ck_index t, ck_index s, ck_index dil,
                              ck_index pad, ck_index n_out)
{
    const ck_index num = i + pad - t * dil;
    if (num < 0 || num % s != 0)
        return -1;
    const ck_index o = num / s;
    return o < n_out ? o : -1;
}

void ck_col2im_f32(const float *cols, ck_index nb, const ck_conv_geom *g, float *x,
                   int n_threads)
{
    const ck_index D = g->in[0], H = g->in[1], W = g->in[2], C = g->c;
    const ck_index OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const ck_index KD = g->k[0], KH = g->k[1], KW = g->k[2];
    const ck_index K = KD * KH * KW * C;
    const ck_index lines = nb * D * H;
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index line = 0; line < lines; line++) {
        const ck_index b = line / (D * H), id = (line / H) % D, ih = line % H;
        const float *cb = cols + b * OD * OH * OW * K;
        for (ck_index iw = 0; iw < W; iw++) {
            float *xi = x + (line * W + iw) * C;
            memset(xi, 0, (size_t)C * sizeof(float));
            for (ck_index a = 0; a < KD; a++) {
                const ck_index od = source(id, a, g->s[0], g->d[0], g->pad[0], OD);
                if (od < 0)
                    continue;
                for (ck_index e = 0; e < KH; e++) {
                    const ck_index oh = source(ih, e, g->s[1], g->d[1], g->pad[1], OH);
                    if (oh < 0)
                        continue;
                    for (ck_index f = 0; f < KW; f++) {
                        const ck_index ow = source(iw, f, g->s[2], g->d[2], g->pad[2], OW);
                        if (ow < 0)
                            continue;
                        const float *src = cb + ((od * OH + oh) * OW + ow) * K
                                           + ((a * KH + e) * KW + f) * C;
                        CK_SIMD
                        for (ck_index c = 0; c < C; c++)
                            xi[c] += src[c];
                    }
                }
            }
        }
    }
}

CK_TARGET_CLONES
static void small_k_rows(const float *CK_RESTRICT a, const float *CK_RESTRICT w,
                         float *CK_RESTRICT y, ck_index r0, ck_index r1, ck_index K, ck_index F)
{
    for (ck_index r = r0; r < r1; r++) {
        const float *ar = a + r * K;
        float *yr = y + r * F;
        const float a0 = ar[0];
        CK_SIMD
        for (ck_index f = 0; f < F; f++)
            yr[f] = a0 * w[f];
        for (ck_index t = 1; t < K; t++) {
            const float at = ar[t];
            const float *wt = w + t * F;
            CK_SIMD
            for (ck_index f = 0; f < F; f++)
                yr[f] += at * wt[f];
        }
    }
}

void ck_gemm_small_k_f32(const float *a, const float *w, float *y, ck_index rows, ck_index K,
                         ck_index F, int n_threads)
{
    const ck_index block = 256;
    const ck_index blocks = (rows + block - 1) / block;
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index b = 0; b < blocks; b++)
        small_k_rows(a, w, y, b * block, ck_min_index(rows, (b + 1) * block), K, F);
}
