/* A caching allocator for large array buffers (the one file of csrc/ that
 * allocates: it is the allocator).
 *
 * A training step allocates the same large arrays every batch (activations,
 * patch matrices, gradients). Fresh large blocks come from mmap, so every
 * step pays page faults and the kernel's page zeroing for memory it just gave
 * back. While a pool is active, blocks of at least CK_POOL_MIN_BYTES are kept
 * on free and handed out again for a request of the same (page-rounded) size,
 * or of at least half their size when no block fits exactly.
 * Smaller blocks go straight to malloc. Every block carries a header with
 * its size, so free and realloc never trust the caller's size.
 *
 * ck_pool_acquire/release count the active users; when the last one
 * releases, the cached blocks go back to the system. Thread-safe (a mutex).
 */
#ifndef CK_BUFFER_POOL_H
#define CK_BUFFER_POOL_H

#include <stddef.h>
#include <stdint.h>

#define CK_POOL_MIN_BYTES ((size_t)128 * 1024)   /* glibc's default mmap threshold */
#define CK_POOL_ALIGN 64
#define CK_POOL_SLOTS 512

typedef struct {
    uint64_t hits;          /* large requests served from the cache */
    uint64_t misses;        /* large requests that went to the system */
    uint64_t cached_bytes;  /* bytes held in the cache now */
    uint64_t cached_blocks;
    uint64_t limit_bytes;   /* the cache never holds more than this */
    int64_t active;         /* ck_pool_acquire calls not yet released */
} ck_pool_stats;

void *ck_pool_malloc(size_t size);
void *ck_pool_calloc(size_t nelem, size_t elsize);
void *ck_pool_realloc(void *ptr, size_t new_size);
void ck_pool_free(void *ptr);

void ck_pool_acquire(void);
void ck_pool_release(void);   /* the last release empties the cache */
void ck_pool_set_limit(size_t bytes);
void ck_pool_get_stats(ck_pool_stats *out);

#endif
