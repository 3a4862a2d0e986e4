"""Generate the Keras 3 attention fixtures the tests compare against.

Run with real Keras (the tests never import it):
    KERAS_BACKEND=jax /work/venvs/peers/bin/python make_fixtures.py
Writes:
  mha_model.keras / mha_model.h5   a functional model: Input(5, 8) -> MHA(x, x)
                                   -> GlobalAveragePooling1D -> Dense(3)
  outputs.npz                      inputs, outputs, attention scores and the
                                   weights of MHA / GQA / Attention / AdditiveAttention
                                   variants, with their configs (JSON)
"""
import json

import numpy as np
import keras

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
q = rng.standard_normal((2, 5, 8)).astype(np.float32)
v = rng.standard_normal((2, 7, 6)).astype(np.float32)
k = rng.standard_normal((2, 7, 4)).astype(np.float32)
amask = rng.random((2, 5, 7)) > 0.3
amask[:, :, 0] = True
out = {"q": q, "v": v, "k": k, "amask": amask}


def record(name, layer, y):
    if isinstance(y, (tuple, list)):
        out[name + "/y"] = np.asarray(y[0])
        out[name + "/scores"] = np.asarray(y[1])
    else:
        out[name + "/y"] = np.asarray(y)
    out[name + "/config"] = np.array(json.dumps(layer.get_config()))
    for i, w in enumerate(layer.get_weights()):
        out[f"{name}/w{i}"] = w
    out[name + "/wnames"] = np.array(json.dumps([w.path for w in layer.weights]))


def bias_init():
    return keras.initializers.RandomNormal(stddev=0.5)


mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer=bias_init())
record("mha_self", mha, mha(q, q, return_attention_scores=True))
mha = keras.layers.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, output_shape=5,
                                      bias_initializer=bias_init())
record("mha_qvk", mha, mha(q, v, key=k, attention_mask=amask, return_attention_scores=True))
mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, use_bias=False)
record("mha_causal", mha, mha(q, q, use_causal_mask=True, return_attention_scores=True))
x4 = rng.standard_normal((2, 3, 4, 6)).astype(np.float32)
out["x4"] = x4
mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2),
                                      bias_initializer=bias_init())
record("mha_axes12", mha, mha(x4, x4, return_attention_scores=True))
mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=2,
                                      bias_initializer=bias_init())
record("mha_axis2", mha, mha(x4, x4, return_attention_scores=True))

gqa = keras.layers.GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2,
                                       bias_initializer=bias_init())
record("gqa", gqa, gqa(q, v, key=k, attention_mask=amask, return_attention_scores=True))
gqa = keras.layers.GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1,
                                       use_bias=False)
record("gqa_causal", gqa, gqa(q, q, use_causal_mask=True, return_attention_scores=True))

qd = rng.standard_normal((2, 5, 6)).astype(np.float32)
out["qd"] = qd
vmask = rng.random((2, 7)) > 0.3
vmask[:, 0] = True
qmask = rng.random((2, 5)) > 0.3
out["vmask"], out["qmask"] = vmask, qmask
att = keras.layers.Attention()
record("att", att, att([qd, v], return_attention_scores=True))
att = keras.layers.Attention(use_scale=True, score_mode="concat")
att.build([qd.shape, v.shape])
att.scale.assign(0.7)
att.concat_score_weight.assign(1.3)
record("att_concat", att, att([qd, v, v * 0.5 + 1.0], mask=[qmask, vmask],
                              return_attention_scores=True))
att = keras.layers.Attention(use_scale=True)
att.build([qd.shape, v.shape])
att.scale.assign(0.5)
record("att_causal", att, att([qd, qd], use_causal_mask=True, return_attention_scores=True))
add = keras.layers.AdditiveAttention()
add.build([qd.shape, v.shape])
add.scale.assign(rng.standard_normal(6).astype(np.float32))
record("additive", add, add([qd, v], mask=[None, vmask], return_attention_scores=True))
add = keras.layers.AdditiveAttention(use_scale=False)
record("additive_noscale", add, add([qd, v, v * 2.0], return_attention_scores=True))

# A whole model, saved both ways.
inp = keras.Input((5, 8))
h = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(inp, inp)
h = keras.layers.GlobalAveragePooling1D()(h)
y = keras.layers.Dense(3, name="head")(h)
model = keras.Model(inp, y)
for w in model.weights:
    w.assign(rng.standard_normal(w.shape).astype(np.float32) * 0.3)
out["model/y"] = np.asarray(model(q))
model.save("mha_model.keras")
model.save("mha_model.h5")
np.savez("outputs.npz", **out)
print(sorted(out))
