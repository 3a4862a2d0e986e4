"""Connectionist temporal classification: ``ops.nn.ctc_loss`` (the
forward-backward recursion in log space, whose posteriors give the exact
gradient) and ``ops.nn.ctc_decode`` (greedy, or prefix beam search), with
Keras 3's signatures."""
import numpy as np

from ckeras.ops.array_ops import _record, _recording, _v, op

__all__ = ["ctc_loss", "ctc_decode"]


def _logsumexp(*terms):
    m = np.maximum.reduce(terms)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(sum(np.exp(t - safe) for t in terms))


def _log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def _shift(a, k):
    """a[..., s - k] (``-inf`` where s < k)."""
    out = np.full_like(a, -np.inf)
    out[..., k:] = a[..., :a.shape[-1] - k]
    return out


def _one_sequence(logp, labels, blank):
    """(-log p(labels), d loss / d logits) for one (T, C) log-softmax row."""
    t_len = logp.shape[0]
    ext = np.full(2 * len(labels) + 1, blank)
    ext[1::2] = labels
    n = len(ext)
    # a path may skip the blank between two different labels
    skip = np.zeros(n, bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    emit = logp[:, ext]                                  # (T, S)
    alpha = np.full((t_len, n), -np.inf)
    alpha[0, :2] = emit[0, :2]
    for t in range(1, t_len):
        prev = alpha[t - 1]
        alpha[t] = _logsumexp(prev, _shift(prev, 1), np.where(skip, _shift(prev, 2), -np.inf)) \
            + emit[t]
    beta = np.full((t_len, n), -np.inf)
    beta[-1, -2:] = emit[-1, -2:] if n > 1 else emit[-1, -1:]
    skip_next = np.zeros(n, bool)                         # s -> s + 2 allowed
    skip_next[:-2] = skip[2:]
    for t in range(t_len - 2, -1, -1):
        nxt = beta[t + 1]
        up1 = np.concatenate([nxt[1:], [-np.inf]])
        up2 = np.concatenate([nxt[2:], [-np.inf, -np.inf]])[:n]
        beta[t] = _logsumexp(nxt, up1, np.where(skip_next, up2, -np.inf)) + emit[t]
    loglik = _logsumexp(alpha[-1, -1], alpha[-1, -2] if n > 1 else -np.inf)
    grad = np.exp(logp)
    if np.isfinite(loglik):
        post = np.exp(alpha + beta - emit - loglik)       # P(at position s at time t)
        np.add.at(grad.T, ext, -post.T)
    return -loglik, grad


def ctc_values(labels, label_lengths, logits, logit_lengths, blank=0):
    """(losses (B,), d losses / d logits (B, T, C)) in float64, for integer
    ``labels`` (B, L) of which row b's first ``label_lengths[b]`` count, and
    ``logits`` (B, T, C) of which its first ``logit_lengths[b]`` steps count.
    The CTC loss class (losses/ctc_loss.py) computes with it too."""
    losses = np.zeros(logits.shape[0])
    grads = np.zeros(logits.shape)
    for b in range(logits.shape[0]):
        t_len = int(logit_lengths[b])
        if t_len <= 0:
            raise ValueError(f"ops.ctc_loss: output_length[{b}] must be positive, got {t_len}.")
        logp = _log_softmax(logits[b, :t_len].astype(np.float64))
        losses[b], grads[b, :t_len] = _one_sequence(logp, labels[b, :int(label_lengths[b])],
                                                    blank)
    return losses, grads


@op
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Per-sequence CTC loss (B,) of logits ``output`` (B, T, C) against integer
    ``target`` (B, L); ``mask_index`` is the blank class. A target that no
    alignment of the given length can produce has loss ``inf`` (Keras on JAX
    returns a large finite number there)."""
    labels = np.asarray(_v(target)).astype(np.int64)
    z = np.asarray(_v(output))
    dtype = np.result_type(z.dtype, np.float32)
    tl = np.asarray(_v(target_length)).astype(np.int64).reshape(-1)
    ol = np.asarray(_v(output_length)).astype(np.int64).reshape(-1)
    if z.ndim != 3 or labels.ndim != 2:
        raise ValueError(f"ops.ctc_loss: output must be (batch, time, classes) and target "
                         f"(batch, length); got {z.shape} and {labels.shape}.")
    losses, grads = ctc_values(labels, tl, z, ol, mask_index)
    y = losses.astype(dtype)
    tape = _recording(output)
    if tape is None:
        return y
    grads = grads.astype(dtype)
    return _record(tape, y, (output,), (True,), lambda g: (np.asarray(g)[:, None, None] * grads,))


@op
def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """CTC decoding as Keras. greedy: (decoded (1, B, T) with -1 after each
    sequence, scores (B, 1) = -sum of the chosen logits); beam_search:
    (decoded (top_paths, B, T), log probabilities (B, top_paths))."""
    if strategy == "beam_search":
        return _beam_search_decode(inputs, sequence_lengths, beam_width, top_paths, mask_index)
    if strategy != "greedy":
        raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and "
                         "'beam_search'.")
    x = np.asarray(_v(inputs))
    x = x.astype(np.result_type(x.dtype, np.float32), copy=False)
    lengths = np.asarray(_v(sequence_lengths)).astype(np.int64).reshape(-1)
    batch, t_max, classes = x.shape
    blank = classes - 1 if mask_index is None else mask_index
    ids = x.argmax(axis=-1)
    scores = x.max(axis=-1)
    beyond = np.arange(t_max)[None, :] >= lengths[:, None]
    ids = np.where(beyond, blank, ids)
    scores = np.where(beyond, 0.0, scores)
    if merge_repeated:
        repeat = np.zeros_like(beyond)
        repeat[:, 1:] = ids[:, 1:] == ids[:, :-1]
        ids = np.where(repeat, blank, ids)
    dropped = ids == blank
    # keep the labels in order, the blanks (-1) moved to the end
    order = np.argsort(np.where(dropped, t_max, np.arange(t_max)[None, :]), axis=-1, kind="stable")
    decoded = np.take_along_axis(np.where(dropped, -1, ids), order, axis=-1)
    return decoded[None].astype(np.int32), -scores.sum(axis=1, keepdims=True).astype(x.dtype)


def _beam_search_decode(inputs, sequence_lengths, beam_width, top_paths, mask_index):
    x = np.asarray(_v(inputs))
    x = x.astype(np.result_type(x.dtype, np.float32), copy=False)
    lengths = np.asarray(_v(sequence_lengths)).astype(np.int64).reshape(-1)
    batch, t_max, classes = x.shape
    blank = classes - 1 if mask_index is None else mask_index
    paths = np.full((top_paths, batch, t_max), -1, np.int32)
    scores = np.full((batch, top_paths), -np.inf, x.dtype)
    for b in range(batch):
        logp = _log_softmax(x[b].astype(np.float64))
        best = _prefix_beam_search(logp[:max(int(lengths[b]), 1)], beam_width, blank)
        for k, (path, score) in enumerate(best[:top_paths]):
            paths[k, b, :len(path)] = path
            scores[b, k] = score
    return paths, scores


def _prefix_beam_search(logp, beam_width, blank):
    """Prefix beam search: each prefix keeps the log probability of its
    alignments ending in a label (emit) and in a blank; [(prefix, log p)] best first."""
    t_len, classes = logp.shape
    first = np.argsort(logp[0], kind="stable")[::-1][:min(classes, beam_width)]
    beams = {}
    for c in first:   # the most likely first frames, a blank giving the empty prefix
        key = () if c == blank else (int(c),)
        emit, masked = beams.get(key, (-np.inf, -np.inf))
        beams[key] = (emit, np.logaddexp(masked, logp[0, c])) if c == blank else \
            (np.logaddexp(emit, logp[0, c]), masked)
    for t in range(1, t_len):
        grown = {}

        def add(key, slot, value):
            cur = grown.get(key, [-np.inf, -np.inf])
            cur[slot] = np.logaddexp(cur[slot], value)
            grown[key] = cur
        for prefix, (emit, masked) in beams.items():
            tail = prefix[-1] if prefix else None
            for c in range(classes):
                lp = logp[t, c]
                if c == blank:
                    add(prefix, 1, np.logaddexp(emit, masked) + lp)
                    continue
                # a repeat right after the same label merges into it; after a blank it is new
                add(prefix if c == tail else prefix + (c,), 0, emit + lp)
                add(prefix + (c,), 0, masked + lp)
        ranked = sorted(grown.items(), key=lambda kv: -np.logaddexp(*kv[1]))
        beams = {k: tuple(v) for k, v in ranked[:beam_width]}
    return sorted(((k, float(np.logaddexp(*v))) for k, v in beams.items()), key=lambda kv: -kv[1])
