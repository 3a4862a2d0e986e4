/* Fused per-step LSTM gate math (Keras gate order i, f, g, o). */
#ifndef CK_RECURRENT_H
#define CK_RECURRENT_H
#include "ck_common.h"

/* z (B, 4u): pre-activations in, activated gates (sigmoid i, f, o; tanh g)
 * out, in place.  c = f*c_prev + i*g, tanh_c = tanh(c), h = o*tanh_c, all
 * (B, u).  Parallel over rows. */
void ck_lstm_gates_forward_f32(float *z, const float *c_prev, float *h, float *c,
                               float *tanh_c, ck_index B, ck_index u, int n_threads);

/* From the saved gates (B, 4u), c_prev and tanh_c (B, u) and the incoming dh,
 * dc (B, u): dz (B, 4u) w.r.t. the pre-activations and dc_prev (B, u).
 * dc_prev may alias dc. */
void ck_lstm_gates_backward_f32(const float *dh, const float *dc, const float *gates,
                                const float *c_prev, const float *tanh_c, float *dz,
                                float *dc_prev, ck_index B, ck_index u, int n_threads);

/* ---- whole sequences: the time loop in C --------------------------------
 *
 * Row-major GEMM C = alpha op(A) op(B) + beta C, as ckeras's BLAS layer
 * provides it (ckeras/_kernels/_blas.pxd sgemm_rm); the Cython wrapper
 * passes that function in, so these kernels call the same BLAS as Dense.
 * It is only ever called outside OpenMP regions; n_threads applies to the
 * gate loops between the GEMMs.  Every buffer comes from the caller.
 *
 * Shapes: T steps, B samples, u units, G gates (LSTM 4, GRU 3, SimpleRNN 1).
 *   z     (T, B, G*u)  in: the input projection x W + b of every step;
 *                      out: the activated gates (SimpleRNN: the outputs).
 *   R     (u, G*u)     recurrent kernel.
 *   skip  (T, B) bytes or NULL: nonzero marks a masked step of a sample,
 *                      whose states carry through unchanged.
 *   rmask (B, u) or NULL: recurrent dropout, the same at every step: the
 *                      previous state enters the recurrent GEMMs as h * rmask
 *                      (the direct paths, c and z h, use h itself).
 *   hs    (T+1, B, u)  hs[0] is the initial state; hs[t+1] after step t.
 * Backward: dH (T, B, u) or NULL is the gradient of every step's output;
 * dh (B, u) (and dc for LSTM) holds the gradient of the final state on
 * entry and that of the initial state on exit when need_initial (else
 * garbage); dz / dxp get the gradients of the pre-activations of every step
 * (zero at masked steps), from which the caller forms dW, dR, db, dx as
 * GEMMs over all steps. */
typedef void (*ck_sgemm_fn)(int trans_a, int trans_b, int m, int n, int k, float alpha,
                            const float *a, int lda, const float *b, int ldb, float beta,
                            float *c, int ldc);

/* LSTM, gates [i | f | g | o], sigmoid/tanh.  cs (T+1, B, u) like hs;
 * tcs (T, B, u) gets tanh(c) of each step. */
void ck_lstm_seq_forward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                             float *z, const float *R, const uint8_t *skip,
                             const float *rmask, float *hs, float *cs, float *tcs,
                             int n_threads);
/* scratch (B, u). */
void ck_lstm_seq_backward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                              const float *gates, const float *R, const uint8_t *skip,
                              const float *rmask, const float *cs, const float *tcs,
                              const float *dH, float *dh, float *dc, float *dz,
                              float *scratch, int need_initial, int n_threads);

/* GRU, gates [z | r | h~], sigmoid/tanh.
 * reset_after: rec (T, B, 3u) gets h_{t-1} R + brec (brec (3u,) or NULL),
 *   h~ = tanh(z_h + r * rec_h).
 * reset before: rec (T, B, u) gets r * h_{t-1} (times rmask), h~ = tanh(z_h + rec R_h).
 * h = zg h_{t-1} + (1 - zg) h~. */
void ck_gru_seq_forward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                            float *z, const float *R, const float *brec,
                            const uint8_t *skip, const float *rmask, float *hs, float *rec,
                            int reset_after, int n_threads);
/* dxp (T, B, 3u): gradient of z.  reset_after: drec (T, B, 3u) gets the
 * gradient of rec; else drec is unused (NULL).  scratch (2, B, u). */
void ck_gru_seq_backward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                             const float *gates, const float *R, const uint8_t *skip,
                             const float *rmask, const float *hs, const float *rec,
                             const float *dH, float *dh, float *dxp, float *drec,
                             float *scratch, int reset_after, int need_initial, int n_threads);

/* SimpleRNN, h = act(z + h_{t-1} R), act one of CK_ACT_LINEAR, RELU,
 * SIGMOID, TANH (activation.h).  z becomes the unmasked outputs act(...). */
void ck_rnn_seq_forward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                            float *z, const float *R, const uint8_t *skip,
                            const float *rmask, float *hs, int act, int n_threads);
/* y: the forward's z.  dz (T, B, u).  scratch (B, u). */
void ck_rnn_seq_backward_f32(ck_sgemm_fn gemm, ck_index T, ck_index B, ck_index u,
                             const float *y, const float *R, const uint8_t *skip,
                             const float *rmask, const float *dH, float *dh, float *dz,
                             float *scratch, int act, int need_initial, int n_threads);

#endif
