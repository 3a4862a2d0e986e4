/* im2col / col2im (see conv.h). */
#include <string.h>
#include "conv.h"

/* Copy the KW taps of one (kd, kh) kernel row for output column ow into
 * row (KW*C floats); xr is input row (id, ih) or NULL when it is padding.
 * Without dilation and away from the edges the taps are one contiguous run. */
static inline void copy_taps(float *CK_RESTRICT row, const float *CK_RESTRICT xr,
                             const ck_conv_geom *g, ck_index ow)
{
    const ck_index W = g->in[2], C = g->c, KW = g->k[2], dw = g->d[2];
    const ck_index iw0 = ow * g->s[2] - g->pad[2];
    if (xr != NULL && dw == 1 && iw0 >= 0 && iw0 + KW <= W) {
        const float *src = xr + iw0 * C;
        for (ck_index j = 0; j < KW * C; j++)
            row[j] = src[j];
        return;
    }
    for (ck_index f = 0; f < KW; f++, row += C) {
        const ck_index iw = iw0 + f * dw;
        if (xr != NULL && iw >= 0 && iw < W) {
            const float *src = xr + iw * C;
            for (ck_index c = 0; c < C; c++)
                row[c] = src[c];
        } else {
            for (ck_index c = 0; c < C; c++)
                row[c] = 0.0f;
        }
    }
}

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
                for (ck_index e = 0; e < KH; e++, row += KW * C) {
                    const ck_index ih = oh * g->s[1] - g->pad[1] + e * g->d[1];
                    const int inside = id >= 0 && id < D && ih >= 0 && ih < H;
                    copy_taps(row, inside ? xb + (id * H + ih) * W * C : NULL, g, ow);
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
    if (num < 0)
        return -1;
    if (s == 1)                         /* the common case: no division */
        return num < n_out ? num : -1;
    if (num % s != 0)
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

/* The K-float patch of output (b, od, oh, ow): zeros outside the input. */
static inline void gather_patch(const float *xb, const ck_conv_geom *g, ck_index od,
                                ck_index oh, ck_index ow, float *patch)
{
    const ck_index D = g->in[0], H = g->in[1], W = g->in[2], C = g->c;
    float *p = patch;
    for (ck_index a = 0; a < g->k[0]; a++) {
        const ck_index id = od * g->s[0] - g->pad[0] + a * g->d[0];
        for (ck_index e = 0; e < g->k[1]; e++, p += g->k[2] * C) {
            const ck_index ih = oh * g->s[1] - g->pad[1] + e * g->d[1];
            const int inside = id >= 0 && id < D && ih >= 0 && ih < H;
            copy_taps(p, inside ? xb + (id * H + ih) * W * C : NULL, g, ow);
        }
    }
}

ck_index ck_conv_small_blocks(ck_index nb, const ck_conv_geom *g)
{
    const ck_index lines = nb * g->out[0] * g->out[1];
    return (lines + CK_SMALL_BLOCK - 1) / CK_SMALL_BLOCK;
}

CK_TARGET_CLONES
static void small_dw_row(const float *CK_RESTRICT patch, const float *CK_RESTRICT dyr,
                         const float *CK_RESTRICT yr, int relu, float *CK_RESTRICT dz,
                         float *CK_RESTRICT part, ck_index K, ck_index F)
{
    CK_SIMD
    for (ck_index f = 0; f < F; f++)
        dz[f] = relu ? (yr[f] > 0.0f ? dyr[f] : 0.0f) : dyr[f];
    for (ck_index t = 0; t < K; t++) {
        const float pt = patch[t];
        float *pw = part + t * F;
        CK_SIMD
        for (ck_index f = 0; f < F; f++)
            pw[f] += pt * dz[f];
    }
    float *pb = part + K * F;
    CK_SIMD
    for (ck_index f = 0; f < F; f++)
        pb[f] += dz[f];
}

void ck_conv_small_dw_f32(const float *x, ck_index nb, const ck_conv_geom *g,
                          const float *dy, const float *y, int relu, float *dw, float *dbias,
                          ck_index F, float *partials, int n_threads)
{
    const ck_index OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const ck_index K = g->k[0] * g->k[1] * g->k[2] * g->c;
    const ck_index per_in = g->in[0] * g->in[1] * g->in[2] * g->c;
    const ck_index lines = nb * OD * OH;
    const ck_index blocks = ck_conv_small_blocks(nb, g);
    const ck_index width = K * F + F;
    (void)n_threads;
    CK_PARALLEL_FOR(n_threads)
    for (ck_index blk = 0; blk < blocks; blk++) {
        float *part = partials + blk * width;
        float patch[CK_SMALL_K];
        float dz[CK_SMALL_F];
        memset(part, 0, (size_t)width * sizeof(float));
        const ck_index l1 = ck_min_index(lines, (blk + 1) * CK_SMALL_BLOCK);
        for (ck_index line = blk * CK_SMALL_BLOCK; line < l1; line++) {
            const ck_index b = line / (OD * OH), od = (line / OH) % OD, oh = line % OH;
            for (ck_index ow = 0; ow < OW; ow++) {
                const ck_index r = line * OW + ow;
                gather_patch(x + b * per_in, g, od, oh, ow, patch);
                small_dw_row(patch, dy + r * F, y + r * F, relu, dz, part, K, F);
            }
        }
    }
    /* blocks in order, elements in parallel */
    CK_PARALLEL_FOR(n_threads)
    for (ck_index j = 0; j < width; j++) {
        float s = 0.0f;
        for (ck_index blk = 0; blk < blocks; blk++)
            s += partials[blk * width + j];
        if (j < K * F)
            dw[j] += s;
        else if (dbias != NULL)
            dbias[j - K * F] += s;
    }
}
