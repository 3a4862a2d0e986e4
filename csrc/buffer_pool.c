/* Caching allocator for large array buffers (see buffer_pool.h). */
#include <stdlib.h>
#include <string.h>
#include "buffer_pool.h"

#ifdef _WIN32
#include <windows.h>
#include <malloc.h>
static SRWLOCK lock = SRWLOCK_INIT;
#define LOCK() AcquireSRWLockExclusive(&lock)
#define UNLOCK() ReleaseSRWLockExclusive(&lock)
static void *aligned_block(size_t n) { return _aligned_malloc(n, CK_POOL_ALIGN); }
static void aligned_free(void *p) { _aligned_free(p); }
#else
#include <pthread.h>
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#define LOCK() pthread_mutex_lock(&lock)
#define UNLOCK() pthread_mutex_unlock(&lock)
static void *aligned_block(size_t n)
{
    void *p = NULL;
    return posix_memalign(&p, CK_POOL_ALIGN, n) == 0 ? p : NULL;
}
static void aligned_free(void *p) { free(p); }
#endif

/* The 16 bytes just before the data: its usable size and where the block
 * starts. Large blocks start CK_POOL_ALIGN bytes earlier (aligned data). */
typedef struct {
    size_t size;     /* usable bytes (page-rounded for large blocks) */
    size_t large;    /* 1: a pool block from aligned_block; 0: plain malloc */
} header;

#define SMALL_HEAD sizeof(header)
#define LARGE_HEAD ((size_t)CK_POOL_ALIGN)
#define PAGE ((size_t)4096)

typedef struct { size_t size; void *data; } slot;

static slot slots[CK_POOL_SLOTS];
static size_t n_slots = 0;
static ck_pool_stats stats = {0, 0, 0, 0, (uint64_t)1 << 30, 0};

static header *head_of(void *data) { return (header *)data - 1; }

static void *new_large(size_t size)
{
    if (size > SIZE_MAX - LARGE_HEAD)
        return NULL;
    char *base = aligned_block(LARGE_HEAD + size);
    if (base == NULL)
        return NULL;
    char *data = base + LARGE_HEAD;
    head_of(data)->size = size;
    head_of(data)->large = 1;
    return data;
}

static void drop_large(void *data) { aligned_free((char *)data - LARGE_HEAD); }

void *ck_pool_malloc(size_t size)
{
    if (size < CK_POOL_MIN_BYTES) {
        if (size > SIZE_MAX - SMALL_HEAD)
            return NULL;
        header *h = malloc(SMALL_HEAD + (size ? size : 1));
        if (h == NULL)
            return NULL;
        h->size = size;
        h->large = 0;
        return h + 1;
    }
    if (size > SIZE_MAX - PAGE)
        return NULL;
    const size_t rounded = (size + PAGE - 1) / PAGE * PAGE;
    LOCK();
    /* The newest block of exactly this size (still warm in cache), else the
     * smallest cached block up to twice the size: a smaller request (the last,
     * partial batch of an epoch) reuses a larger block instead of adding new
     * memory beside the cached one. */
    size_t best = n_slots;
    for (size_t i = n_slots; i-- > 0;) {
        const size_t have = slots[i].size;
        if (have == rounded) {
            best = i;
            break;
        }
        if (have > rounded && have / 2 <= rounded
                && (best == n_slots || have < slots[best].size))
            best = i;
    }
    if (best < n_slots) {
        void *data = slots[best].data;
        const size_t have = slots[best].size;
        slots[best] = slots[--n_slots];
        stats.hits++;
        stats.cached_bytes -= have;
        stats.cached_blocks--;
        UNLOCK();
        return data;
    }
    stats.misses++;
    UNLOCK();
    return new_large(rounded);
}

void *ck_pool_calloc(size_t nelem, size_t elsize)
{
    if (elsize != 0 && nelem > SIZE_MAX / elsize)
        return NULL;
    const size_t size = nelem * elsize;
    void *data = ck_pool_malloc(size);
    if (data != NULL)
        memset(data, 0, size);
    return data;
}

void ck_pool_free(void *data)
{
    if (data == NULL)
        return;
    header *h = head_of(data);
    if (!h->large) {
        free(h);
        return;
    }
    LOCK();
    if (stats.active > 0 && n_slots < CK_POOL_SLOTS
            && stats.cached_bytes + h->size <= stats.limit_bytes) {
        slots[n_slots].size = h->size;
        slots[n_slots].data = data;
        n_slots++;
        stats.cached_bytes += h->size;
        stats.cached_blocks++;
        UNLOCK();
        return;
    }
    UNLOCK();
    drop_large(data);
}

void *ck_pool_realloc(void *data, size_t new_size)
{
    if (data == NULL)
        return ck_pool_malloc(new_size);
    header *h = head_of(data);
    const size_t old = h->size;
    if (h->large && new_size <= old)
        return data;                    /* a large block shrinks in place */
    if (!h->large && new_size < CK_POOL_MIN_BYTES) {
        header *moved = realloc(h, SMALL_HEAD + (new_size ? new_size : 1));
        if (moved == NULL)
            return NULL;
        moved->size = new_size;
        return moved + 1;
    }
    void *moved = ck_pool_malloc(new_size);
    if (moved == NULL)
        return NULL;                    /* the old block stays valid */
    memcpy(moved, data, old < new_size ? old : new_size);
    ck_pool_free(data);
    return moved;
}

/* Caller holds the lock; the blocks are freed after it is dropped. */
static size_t take_all(void **out)
{
    size_t n = n_slots;
    for (size_t i = 0; i < n; i++)
        out[i] = slots[i].data;
    n_slots = 0;
    stats.cached_bytes = 0;
    stats.cached_blocks = 0;
    return n;
}

static void drop_all(void **blocks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        drop_large(blocks[i]);
}

void ck_pool_acquire(void)
{
    LOCK();
    stats.active++;
    UNLOCK();
}

void ck_pool_release(void)
{
    void *blocks[CK_POOL_SLOTS];
    size_t n = 0;
    LOCK();
    if (stats.active > 0)
        stats.active--;
    if (stats.active == 0)
        n = take_all(blocks);
    UNLOCK();
    drop_all(blocks, n);
}

void ck_pool_set_limit(size_t bytes)
{
    void *blocks[CK_POOL_SLOTS];
    size_t n = 0;
    LOCK();
    stats.limit_bytes = bytes;
    if (stats.cached_bytes > bytes)
        n = take_all(blocks);
    UNLOCK();
    drop_all(blocks, n);
}

void ck_pool_get_stats(ck_pool_stats *out)
{
    LOCK();
    *out = stats;
    UNLOCK();
}
