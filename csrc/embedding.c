/* Embedding kernels (see embedding.h). */
#include <string.h>
#include "embedding.h"

/* Columns per thread below which threads own rows instead of columns. */
#define CK_MIN_COLS_PER_THREAD 32

/* The kernels for ids of type ID_T; dispatched on the id width below. */
#define CK_DEFINE_EMBEDDING(SUFFIX, ID_T)                                            \
static void gather_##SUFFIX(const void *ids_, ck_index n, const float *table,        \
                            ck_index dim, float *out, int n_threads)                 \
{                                                                                    \
    const ID_T *ids = ids_;                                                          \
    (void)n_threads;                                                                 \
    CK_PARALLEL_FOR(n_threads)                                                       \
    for (ck_index p = 0; p < n; p++)                                                 \
        memcpy(out + p * dim, table + (ck_index)ids[p] * dim,                        \
               (size_t)dim * sizeof(float));                                         \
}                                                                                    \
                                                                                     \
static void scatter_cols_##SUFFIX(const ID_T *ids, ck_index n, const float *dout,    \
                                  ck_index dim, float *dtable,                       \
                                  ck_index c0, ck_index c1)                          \
{                                                                                    \
    for (ck_index p = 0; p < n; p++) {                                               \
        float *CK_RESTRICT dst = dtable + (ck_index)ids[p] * dim;                    \
        const float *CK_RESTRICT src = dout + p * dim;                               \
        CK_SIMD                                                                      \
        for (ck_index j = c0; j < c1; j++)                                           \
            dst[j] += src[j];                                                        \
    }                                                                                \
}                                                                                    \
                                                                                     \
static void scatter_##SUFFIX(const void *ids_, ck_index n, const float *dout,        \
                             ck_index dim, float *dtable, int n_threads)             \
{                                                                                    \
    const ID_T *ids = ids_;                                                          \
    if (n_threads <= 1) {                                                            \
        scatter_cols_##SUFFIX(ids, n, dout, dim, dtable, 0, dim);                    \
        return;                                                                      \
    }                                                                                \
    const int by_cols = dim >= (ck_index)CK_MIN_COLS_PER_THREAD * n_threads;         \
    CK_PRAGMA(omp parallel num_threads(n_threads))                                   \
    {                                                                                \
        ck_index t = 0, T = 1;                                                       \
        CK_OMP_THREAD_IDS(t, T);                                                     \
        if (by_cols) {                                                               \
            ck_index w = (dim + T - 1) / T;                                          \
            w = (w + 15) / 16 * 16;                                                  \
            const ck_index c0 = ck_min_index(dim, t * w);                            \
            const ck_index c1 = ck_min_index(dim, c0 + w);                           \
            if (c0 < c1)                                                             \
                scatter_cols_##SUFFIX(ids, n, dout, dim, dtable, c0, c1);            \
        } else {                                                                     \
            for (ck_index p = 0; p < n; p++) {                                       \
                const ck_index row = (ck_index)ids[p];                               \
                if (row % T != t)                                                    \
                    continue;                                                        \
                float *CK_RESTRICT dst = dtable + row * dim;                         \
                const float *CK_RESTRICT src = dout + p * dim;                       \
                CK_SIMD                                                              \
                for (ck_index j = 0; j < dim; j++)                                   \
                    dst[j] += src[j];                                                \
            }                                                                        \
        }                                                                            \
    }                                                                                \
}

#ifdef _OPENMP
#define CK_OMP_THREAD_IDS(t, T) do { t = omp_get_thread_num(); T = omp_get_num_threads(); } while (0)
#else
#define CK_OMP_THREAD_IDS(t, T) do { (void)(t); (void)(T); } while (0)
#endif

CK_DEFINE_EMBEDDING(i64, int64_t)
CK_DEFINE_EMBEDDING(i32, int32_t)

void ck_embedding_gather_f32(const void *ids, int ids_64, ck_index n, const float *table,
                             ck_index dim, float *out, int n_threads)
{
    (ids_64 ? gather_i64 : gather_i32)(ids, n, table, dim, out, n_threads);
}

void ck_embedding_scatter_add_f32(const void *ids, int ids_64, ck_index n, const float *dout,
                                  ck_index dim, float *dtable, int n_threads)
{
    (ids_64 ? scatter_i64 : scatter_i32)(ids, n, dout, dim, dtable, n_threads);
}
