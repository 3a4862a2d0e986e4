/* Range check of an id array: int64 or int32 indices into [0, limit), the
 * embedding ids and the sparse labels of the cross-entropy alike.
 *
 * Header-only (static inline), so every kernel wrapper can run the check
 * before its nogil loop without linking another family's C file.
 */
#ifndef CK_IDS_H
#define CK_IDS_H
#include "ck_common.h"

/* One vectorisable pass says whether any id is out of range; only then a
 * second finds the first. */
#define CK_DEFINE_FIND_BAD_ID(SUFFIX, ID_T)                                          \
static inline ck_index ck_find_bad_id_##SUFFIX(const ID_T *ids, ck_index n,          \
                                               ck_index limit)                       \
{                                                                                    \
    int bad = 0;                                                                     \
    CK_SIMD_REDUCE(|, bad)                                                           \
    for (ck_index p = 0; p < n; p++)                                                 \
        bad |= ((ck_index)ids[p] < 0) | ((ck_index)ids[p] >= limit);                 \
    if (!bad)                                                                        \
        return -1;                                                                   \
    for (ck_index p = 0; p < n; p++)                                                 \
        if ((ck_index)ids[p] < 0 || (ck_index)ids[p] >= limit)                       \
            return p;                                                                \
    return -1;                                                                       \
}

CK_DEFINE_FIND_BAD_ID(i64, int64_t)
CK_DEFINE_FIND_BAD_ID(i32, int32_t)

/* First position p with ids[p] outside [0, limit), or -1 if none; ids
 * int64 (ids_64) or int32. */
static inline ck_index ck_find_bad_id(const void *ids, int ids_64, ck_index n, ck_index limit)
{
    return ids_64 ? ck_find_bad_id_i64(ids, n, limit) : ck_find_bad_id_i32(ids, n, limit);
}

#endif
