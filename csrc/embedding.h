/* Embedding gather and scatter-add.
 *
 * ids (n,) int64 or int32, each in [0, vocab) (check first with
 * ck_find_bad_id_*); table / dtable (vocab, dim); out / dout (n, dim).
 * Deterministic: no atomics, and every dtable element receives its additions
 * in position order at any thread count, so results are bitwise equal.
 */
#ifndef CK_EMBEDDING_H
#define CK_EMBEDDING_H
#include "ck_common.h"

/* First position p with ids[p] outside [0, vocab), or -1 if none. */
ck_index ck_find_bad_id_i64(const int64_t *ids, ck_index n, ck_index vocab);
ck_index ck_find_bad_id_i32(const int32_t *ids, ck_index n, ck_index vocab);

/* out[p, :] = table[ids[p], :]   (parallel over positions) */
void ck_embedding_gather_f32(const int64_t *ids, ck_index n, const float *table,
                             ck_index dim, float *out, int n_threads);
void ck_embedding_gather_i32_f32(const int32_t *ids, ck_index n, const float *table,
                                 ck_index dim, float *out, int n_threads);

/* dtable[ids[p], :] += dout[p, :] for p = 0 .. n-1, in order.  Threads own
 * blocks of columns (wide rows) or the rows with id % n_threads == t. */
void ck_embedding_scatter_add_f32(const int64_t *ids, ck_index n, const float *dout,
                                  ck_index dim, float *dtable, int n_threads);
void ck_embedding_scatter_add_i32_f32(const int32_t *ids, ck_index n, const float *dout,
                                      ck_index dim, float *dtable, int n_threads);

#endif
