"""numpy's array-data allocator, swapped for the caching pool of
csrc/buffer_pool.c while a model trains, evaluates or predicts.

``activate()`` makes the pool numpy's data allocator in the calling thread's
context (numpy keeps the handler in a context variable, and every array
remembers the handler that allocated it, so arrays made inside are freed
correctly whenever they die) and returns the handler it replaced;
``deactivate(previous)`` puts that back. Between the first activate and the
last deactivate (over all threads), freed large blocks are cached; the last
deactivate hands them back to the system.
"""
cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_New
from libc.stdint cimport uint8_t, uint64_t, int64_t
from libc.string cimport strcpy

cdef extern from "buffer_pool.h":
    ctypedef struct ck_pool_stats:
        uint64_t hits
        uint64_t misses
        uint64_t cached_bytes
        uint64_t cached_blocks
        uint64_t limit_bytes
        int64_t active
    size_t CK_POOL_MIN_BYTES
    void *ck_pool_malloc(size_t size) nogil
    void *ck_pool_calloc(size_t nelem, size_t elsize) nogil
    void *ck_pool_realloc(void *ptr, size_t new_size) nogil
    void ck_pool_free(void *ptr) nogil
    void ck_pool_acquire() nogil
    void ck_pool_release() nogil
    void ck_pool_set_limit(size_t nbytes) nogil
    void ck_pool_get_stats(ck_pool_stats *out) nogil

cdef extern from "numpy/arrayobject.h":
    ctypedef struct PyDataMemAllocator:
        void *ctx
        void *(*malloc)(void *ctx, size_t size) noexcept nogil
        void *(*calloc)(void *ctx, size_t nelem, size_t elsize) noexcept nogil
        void *(*realloc)(void *ctx, void *ptr, size_t new_size) noexcept nogil
        void (*free)(void *ctx, void *ptr, size_t size) noexcept nogil
    ctypedef struct PyDataMem_Handler:
        char name[127]
        uint8_t version
        PyDataMemAllocator allocator
    object PyDataMem_SetHandler(object handler)

cnp.import_array()

MIN_POOLED_BYTES = CK_POOL_MIN_BYTES

cdef void *_malloc(void *ctx, size_t size) noexcept nogil:
    return ck_pool_malloc(size)

cdef void *_calloc(void *ctx, size_t nelem, size_t elsize) noexcept nogil:
    return ck_pool_calloc(nelem, elsize)

cdef void *_realloc(void *ctx, void *ptr, size_t new_size) noexcept nogil:
    return ck_pool_realloc(ptr, new_size)

cdef void _free(void *ctx, void *ptr, size_t size) noexcept nogil:
    ck_pool_free(ptr)

cdef PyDataMem_Handler _handler
strcpy(_handler.name, b"ckeras_pool")
_handler.version = 1
_handler.allocator.ctx = NULL
_handler.allocator.malloc = _malloc
_handler.allocator.calloc = _calloc
_handler.allocator.realloc = _realloc
_handler.allocator.free = _free

# numpy holds a reference to the capsule in every array it allocates.
_capsule = PyCapsule_New(<void *>&_handler, "mem_handler", NULL)

HANDLER_NAME = "ckeras_pool"


def activate():
    """Make the pool numpy's allocator here; returns the previous handler."""
    ck_pool_acquire()
    try:
        return PyDataMem_SetHandler(_capsule)
    except BaseException:
        ck_pool_release()
        raise


def deactivate(previous):
    """Restore ``previous`` (what activate returned) and drop one user."""
    try:
        PyDataMem_SetHandler(previous)
    finally:
        ck_pool_release()


def set_limit(Py_ssize_t nbytes):
    """Most bytes the cache holds (default 1 GiB); frees the cache if over."""
    if nbytes < 0:
        raise ValueError(f"the buffer pool limit must be >= 0 bytes, got {nbytes}")
    ck_pool_set_limit(<size_t>nbytes)


def stats():
    cdef ck_pool_stats s
    ck_pool_get_stats(&s)
    return {"hits": s.hits, "misses": s.misses, "cached_bytes": s.cached_bytes,
            "cached_blocks": s.cached_blocks, "limit_bytes": s.limit_bytes,
            "active": s.active}
