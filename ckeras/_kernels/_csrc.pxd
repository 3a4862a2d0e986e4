# Declarations of the C kernels in csrc/ (shared by the _kernels modules).
from libc.stdint cimport int32_t, int64_t, uint8_t

ctypedef int64_t ck_index

cdef extern from "activation.h" nogil:
    enum:
        CK_ACT_LINEAR
        CK_ACT_RELU
        CK_ACT_SIGMOID
        CK_ACT_TANH
        CK_ACT_SOFTMAX
    void ck_bias_act_f32(const float *z, const float *bias, float *y,
                         ck_index rows, ck_index cols, int act, int n_threads)
    void ck_act_backward_f32(const float *dy, const float *y, float *dz, float *dbias,
                             ck_index rows, ck_index cols, int act, int n_threads)
    void ck_colsum_add_f32(const float *a, float *out, ck_index rows, ck_index cols,
                           int n_threads)

cdef extern from "softmax_xent.h" nogil:
    void ck_softmax_xent_f32(const float *logits, const void *labels, int labels_64,
                             const float *scale, float *grad, float *loss, float *probs,
                             ck_index B, ck_index C, int n_threads)
    void ck_softmax_xent_dense_f32(const float *logits, const float *targets, const float *scale,
                                   float *grad, float *loss, float *probs,
                                   ck_index B, ck_index C, int n_threads)
    void ck_sigmoid_bce_f32(const float *logits, const float *targets, const float *scale,
                            float *grad, float *loss, float *probs,
                            ck_index B, ck_index K, int n_threads)

cdef extern from "ids.h" nogil:
    ck_index ck_find_bad_id(const void *ids, int ids_64, ck_index n, ck_index limit)

cdef extern from "embedding.h" nogil:
    void ck_embedding_gather_f32(const void *ids, int ids_64, ck_index n, const float *table,
                                 ck_index dim, float *out, int n_threads)
    void ck_embedding_scatter_add_f32(const void *ids, int ids_64, ck_index n, const float *dout,
                                      ck_index dim, float *dtable, int n_threads)

cdef extern from "optim.h" nogil:
    void ck_sgd_update_f32(float *param, const float *grad, float *velocity, ck_index n,
                           float lr, float momentum, int nesterov, int n_threads)
    void ck_adam_update_f32(float *param, const float *grad, float *m, float *v, float *vhat,
                            ck_index n, float lr_t, float one_minus_b1, float one_minus_b2,
                            float eps, int n_threads)
    void ck_rmsprop_update_f32(float *param, const float *grad, float *velocity,
                               float *momentum_buf, float *average_grad, ck_index n,
                               float lr, float rho, float one_minus_rho, float eps,
                               float momentum, int n_threads)
    void ck_adagrad_update_f32(float *param, const float *grad, float *acc, ck_index n,
                               float lr, float eps, int n_threads)

cdef extern from "recurrent.h" nogil:
    void ck_lstm_gates_forward_f32(float *z, const float *c_prev, float *h, float *c,
                                   float *tanh_c, ck_index B, ck_index u, int n_threads)
    void ck_lstm_gates_backward_f32(const float *dh, const float *dc, const float *gates,
                                    const float *c_prev, const float *tanh_c, float *dz,
                                    float *dc_prev, ck_index B, ck_index u, int n_threads)
    ctypedef void (*ck_sgemm_fn)(int trans_a, int trans_b, int m, int n, int k, float alpha,
                                 const float *a, int lda, const float *b, int ldb, float beta,
                                 float *c, int ldc) noexcept nogil
    void ck_lstm_seq_forward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                                 float *z, const float *R, const uint8_t *skip,
                                 const float *rmask, float *hs, float *cs, float *tcs,
                                 int n_threads)
    void ck_lstm_seq_backward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                                  const float *gates, const float *R, const uint8_t *skip,
                                  const float *rmask, const float *cs, const float *tcs,
                                  const float *dH, float *dh, float *dc, float *dz,
                                  float *scratch, int need_initial, int n_threads)
    void ck_gru_seq_forward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                                float *z, const float *R, const float *brec,
                                const uint8_t *skip, const float *rmask, float *hs,
                                float *rec, int reset_after, int n_threads)
    void ck_gru_seq_backward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                                 const float *gates, const float *R, const uint8_t *skip,
                                 const float *rmask, const float *hs, const float *rec,
                                 const float *dH, float *dh, float *dxp, float *drec,
                                 float *scratch, int reset_after, int need_initial,
                                 int n_threads)
    void ck_rnn_seq_forward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                                float *z, const float *R, const uint8_t *skip,
                                const float *rmask, float *hs, int act, int n_threads)
    void ck_rnn_seq_backward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                                 const float *y, const float *R, const uint8_t *skip,
                                 const float *rmask, const float *dH, float *dh, float *dz,
                                 float *scratch, int act, int need_initial, int n_threads)


cdef extern from "attention.h" nogil:
    void ck_masked_softmax_f32(const float *x, const unsigned char *mask, float *y,
                               ck_index G, ck_index H, ck_index T, ck_index S,
                               ck_index mask_g, ck_index mask_h, int causal, int n_threads)
    void ck_softmax_backward_f32(const float *dy, const float *y, float *dx,
                                 ck_index R, ck_index S, int n_threads)
