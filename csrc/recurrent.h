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

#endif
