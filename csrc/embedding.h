/* Embedding gather and scatter-add.
 *
 * ids (n,) int64 (ids_64) or int32, each in [0, vocab) (check first with
 * ck_find_bad_id, ids.h); table / dtable (vocab, dim); out / dout (n, dim).
 * Deterministic: no atomics, and every dtable element receives its additions
 * in position order at any thread count, so results are bitwise equal.
 */
#ifndef CK_EMBEDDING_H
#define CK_EMBEDDING_H
#include "ck_common.h"

/* out[p, :] = table[ids[p], :]   (parallel over positions) */
void ck_embedding_gather_f32(const void *ids, int ids_64, ck_index n, const float *table,
                             ck_index dim, float *out, int n_threads);

/* dtable[ids[p], :] += dout[p, :] for p = 0 .. n-1, in order.  Threads own
 * blocks of columns (wide rows) or the rows with id % n_threads == t. */
void ck_embedding_scatter_add_f32(const void *ids, int ids_64, ck_index n, const float *dout,
                                  ck_index dim, float *dtable, int n_threads);

#endif
