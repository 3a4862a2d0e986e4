"""Writes golden.npz and four .keras files: Keras 3.15.1 on JAX — Lamb,
Adafactor, LossScaleOptimizer, Muon, ScheduleFreeAdamW and MultiOptimizer stepped on fixed gradients (the weights after
every step and the optimizer variables at the end), and small Dense models
compiled with them, trained one epoch and saved with their optimizer state.

Run: KERAS_BACKEND=jax /work/venvs/peers/bin/python make_golden.py
"""
import os
os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np
import keras

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)
SHAPES = [(3, 4), (4,), (2, 3, 5), (5, 3)]
STEPS = 5
out = {}
init = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
grads = [[rng.normal(size=s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
for i, w in enumerate(init):
    out[f"init{i}"] = w
    out[f"grads{i}"] = np.stack([g[i] for g in grads])


def run(key, opt, scale_grads=None):
    variables = [keras.Variable(w, name=f"w{i}") for i, w in enumerate(init)]
    history = [[] for _ in SHAPES]
    scales = []
    for step in range(STEPS):
        gs = grads[step]
        if scale_grads is not None:
            gs = scale_grads(step, opt, gs)
        if isinstance(opt, keras.optimizers.LossScaleOptimizer):
            # its eager apply() does not run on JAX (ops.cond over state): the
            # stateless form, as Keras's JAX trainer calls it
            if not opt.built:   # its build() re-creates the scale: once only
                opt.build(variables)
            new_w, new_o = opt.stateless_apply([v.value for v in opt.variables], gs,
                                               [v.value for v in variables])
            for v, value in zip(variables, new_w):
                v.assign(value)
            for v, value in zip(opt.variables, new_o):
                v.assign(value)
        else:
            opt.apply(gs, variables)
        for i, v in enumerate(variables):
            history[i].append(np.asarray(v.value))
        if scale_grads is not None:
            scales.append([float(opt.dynamic_scale.value), int(opt.step_counter.value)])
    for i in range(len(SHAPES)):
        out[f"{key}/w{i}"] = np.stack(history[i])
    for j, v in enumerate(opt.variables):
        out[f"{key}/var{j}"] = np.asarray(v.value)
    if scales:
        out[f"{key}/scale"] = np.array(scales)


run("lamb", keras.optimizers.Lamb(learning_rate=0.01))
run("lamb_args", keras.optimizers.Lamb(learning_rate=0.05, beta_1=0.8, beta_2=0.99,
                                       epsilon=1e-6, weight_decay=0.01))
run("adafactor", keras.optimizers.Adafactor())
run("adafactor_args", keras.optimizers.Adafactor(learning_rate=0.05, relative_step=False,
                                                 clip_threshold=0.5, beta_2_decay=-0.5,
                                                 epsilon_2=1e-2))
run("adafactor_relative", keras.optimizers.Adafactor(learning_rate=2.0))


def scaled(step, opt, gs):
    """The gradients of the scaled loss; step 2 overflows."""
    scale = float(opt.dynamic_scale.value) if opt.built else opt.initial_scale
    if step == 2:
        return [g * np.float32(np.inf) for g in gs]
    return [g * np.float32(scale) for g in gs]


run("lso", keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1, momentum=0.5),
                                               initial_scale=8.0, dynamic_growth_steps=2),
    scaled)
run("muon", keras.optimizers.Muon(learning_rate=0.02))
run("muon_args", keras.optimizers.Muon(learning_rate=0.01, adam_lr_ratio=0.5, nesterov=False,
                                       momentum=0.9, ns_steps=3, rms_rate=None,
                                       weight_decay=0.1, adam_weight_decay=0.0,
                                       exclude_layers=["w3"]))
run("schedule_free", keras.optimizers.ScheduleFreeAdamW())
run("schedule_free_args", keras.optimizers.ScheduleFreeAdamW(
    learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6, warmup_steps=3,
    weight_decay=0.05))
run("multi", keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
    keras.optimizers.SGD(0.1, momentum=0.9),
    {"w0": keras.optimizers.Adam(0.01), "w[2-9]": keras.optimizers.Lamb(0.02)})))

x = rng.normal(size=(16, 3)).astype(np.float32)
y = rng.normal(size=(16, 2)).astype(np.float32)
out["fit/x"], out["fit/y"] = x, y
for name, opt in [("lamb", keras.optimizers.Lamb(0.01)),
                  ("adafactor", keras.optimizers.Adafactor(0.01)),
                  ("lso", keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01),
                                                              initial_scale=4.0,
                                                              dynamic_growth_steps=3)),
                  ("multi", keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
                      keras.optimizers.SGD(0.05, momentum=0.5),
                      {"sequential/dense_1/.*": keras.optimizers.Adam(0.01),
                       "nothing": keras.optimizers.RMSprop(0.01)})))]:
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(2)])
    model.compile(optimizer=opt, loss="mse")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    model.save(os.path.join(HERE, f"{name}.keras"))
    for j, v in enumerate(model.optimizer.variables):
        out[f"fit_{name}/var{j}"] = np.asarray(v.value)
    # one more epoch from the saved state: what a resumed run must reproduce
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    for j, w in enumerate(model.get_weights()):
        out[f"fit_{name}/after{j}"] = w

np.savez_compressed(os.path.join(HERE, "golden.npz"), **out)
print(len(out), "arrays")
