"""When a model output hands its loss the logits: the fused softmax/sigmoid
cross-entropy (one kernel computes the loss and d loss / d logits, no clipping).

The whole rule lives here; the models and the trainer ask, nobody else decides.

* A layer can give up its activation when it has ``forward_logits`` (Dense,
  Activation, the convolutions), the activation is one of
  ``FUSABLE_ACTIVATIONS`` and no activity penalty needs the activated output.
* The model says which layer produces output k and whether swapping that output
  for the logits is safe (``model._fusable_output_layer(k)``: Sequential's last
  layer; a functional output node with one output that nothing else reads).
* A loss names the activation it can absorb in its ``fusable_activation`` class
  attribute (and then offers ``logits_forward_backward``); with
  ``from_logits=True`` its input already is logits, so nothing fuses. A loss
  resolved from the shapes (``"crossentropy"``: AutoCrossentropy) fuses as the
  loss it resolves to, so it is resolved before the plan is made.
"""
import numpy as np

FUSABLE_ACTIVATIONS = ("softmax", "sigmoid")


def layer_activation(layer):
    """The activation ``layer`` can hand to a loss (skipped by its ``forward_logits``), or None."""
    if layer is None or not hasattr(layer, "forward_logits"):
        return None
    if getattr(layer, "activity_regularizer", None) is not None:
        return None  # the penalty must see the activated output
    name = getattr(getattr(layer, "activation", None), "name", None)
    return name if name in FUSABLE_ACTIVATIONS else None


def output_activation(model, k):
    """The activation output k of ``model`` could hand to a fused loss, or None."""
    return layer_activation(model._fusable_output_layer(k))


def _effective_loss(loss):
    resolved = getattr(loss, "resolved", None)   # AutoCrossentropy once resolved
    return loss if resolved is None else resolved


def loss_activation(loss):
    """The activation ``loss`` can compute fused with itself from the logits, or None."""
    loss = _effective_loss(loss)
    if loss is None or getattr(loss, "from_logits", False):
        return None
    return getattr(loss, "fusable_activation", None)


def fuses(layer, loss):
    """Whether ``loss`` on the output of ``layer`` is computed from the logits."""
    act = layer_activation(layer)
    return act is not None and act == loss_activation(loss)


def unresolved(loss):
    """A loss still waiting for the shapes to pick what it is (and so whether it fuses)."""
    return hasattr(loss, "resolve") and getattr(loss, "resolved", None) is None


def _output_stand_in(model, k):
    """An empty array shaped like output k (what a shape-resolved loss reads), or None
    when the model has no symbolic graph: the first batch's loss call resolves it then."""
    try:
        shape = tuple(model.outputs[k].shape)
    except (AttributeError, IndexError, TypeError):
        return None
    if len(shape) < 2 or shape[-1] is None:
        return None
    return np.empty((0,) + tuple(1 if d is None else d for d in shape[1:]))


def plan(model, specs, ys=None):
    """Set ``spec.fuse`` for every output of ``model``.

    With the targets ``ys`` of the coming batch, a loss resolved from the shapes is
    resolved first (from ``ys[k]`` and the output's shape), so the very first batch
    already runs as the resolved loss would. ``spec.fuse_pending`` stays True while
    such a loss is unresolved: the trainer plans again with the next batch's targets.
    """
    for k, spec in enumerate(specs):
        if ys is not None and unresolved(spec.loss):
            y_pred = _output_stand_in(model, k)
            if y_pred is not None:
                spec.loss.resolve(ys[k], y_pred)
        spec.fuse_pending = unresolved(spec.loss)
        spec.fuse = spec.loss is not None and fuses(model._fusable_output_layer(k), spec.loss)
