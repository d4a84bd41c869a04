"""Source text of the NumPy functions a generated `predict.py` defines, one per operation.
Only the functions a model uses are written into its file, in this order. Each computes
what nnengine's layer computes at inference, written for reading rather than speed."""
from __future__ import annotations

FUNCTIONS: dict[str, str] = {
    "windows": '''
def windows(x, size, stride):
    """Every (kh, kw) window of x: (N, C, H, W) at the given stride, as a view
    (N, C, Ho, Wo, kh, kw); windows that do not fit are dropped."""
    view = np.lib.stride_tricks.sliding_window_view(x, size, axis=(2, 3))
    return view[:, :, ::stride[0], ::stride[1]]
''',
    "pad": '''
def pad(x, pads, value=0.0):
    """x: (N, C, H, W) with (top, bottom, left, right) rows and columns of `value` added."""
    top, bottom, left, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)
''',
    "dense": '''
def dense(x, W, b=None):
    """x: (N, in) · W: (in, units) + b: (units,) -> (N, units)."""
    y = x @ W
    return y if b is None else y + b
''',
    "conv2d": '''
def conv2d(x, W, b, stride, pads):
    """Cross-correlation. x: (N, C, H, W), W: (F, C, kh, kw), b: (F,) or None
    -> (N, F, Ho, Wo)."""
    cols = windows(pad(x, pads), W.shape[2:], stride)  # (N, C, Ho, Wo, kh, kw)
    y = np.tensordot(cols, W, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
    return y if b is None else y + b[:, None, None]
''',
    "max_pool2d": '''
def max_pool2d(x, size, stride, pads):
    """Largest value of each window; padding never wins (it is -inf)."""
    return windows(pad(x, pads, -np.inf), size, stride).max(axis=(4, 5))
''',
    "avg_pool2d": '''
def avg_pool2d(x, size, stride, pads, count_padding):
    """Mean of each window. count_padding: padded zeros count in the mean (an explicit
    padding); otherwise ("same" padding) only the real values do."""
    total = windows(pad(x, pads), size, stride).sum(axis=(4, 5))
    if count_padding or not any(pads):
        return total / (size[0] * size[1])
    real = windows(pad(np.ones_like(x[:1, :1]), pads), size, stride).sum(axis=(4, 5))
    return total / real
''',
    "global_avg_pool2d": '''
def global_avg_pool2d(x):
    """(N, C, H, W) -> (N, C): the mean of each channel."""
    return x.mean(axis=(2, 3))
''',
    "batch_norm": '''
def batch_norm(x, gamma, beta, running_mean, running_var, epsilon):
    """Normalise axis 1 with the running statistics, then scale and shift."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    inv_std = (1 / np.sqrt(running_var + epsilon)).astype(x.dtype)
    x_hat = (x - running_mean.reshape(shape)) * inv_std.reshape(shape)
    return x_hat * gamma.reshape(shape) + beta.reshape(shape)
''',
    "linear": '''
def linear(x, slope, intercept):
    return slope * x + intercept
''',
    "step": '''
def step(x, threshold):
    """1 at and above the threshold, 0 below it."""
    return (x >= threshold).astype(x.dtype)
''',
    "stair": '''
def stair(x, levels):
    """floor(levels·x) / levels clipped to [0, 1]: steps of 1/levels, 1 from x = 1."""
    return np.clip(np.floor(x * levels) / levels, 0, 1).astype(x.dtype)
''',
    "relu": '''
def relu(x):
    return x * (x > 0)
''',
    "leaky_relu": '''
def leaky_relu(x, alpha):
    return np.where(x > 0, x, alpha * x)
''',
    "elu": '''
def elu(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
''',
    "softplus": '''
def softplus(x):
    return np.logaddexp(0, x)
''',
    "sigmoid": '''
def sigmoid(x):
    """1 / (1 + e^-x) without overflow: only e^-|x| is computed."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
''',
    "softmax": '''
def softmax(x):
    """Over the last axis; subtracting the row maximum keeps exp finite."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
''',
    "prelu": '''
def prelu(x, alpha):
    """x where x > 0, else alpha·x; alpha: one per feature (axis 1) or one shared."""
    alpha = alpha.reshape((1, -1) + (1,) * (x.ndim - 2)) if alpha.size > 1 else alpha
    return np.where(x > 0, x, alpha * x)
''',
    "simple_rnn": '''
def simple_rnn(x, W, U, b, return_sequences):
    """x: (N, T, in); h_t = tanh(x_t·W + h_{t-1}·U + b) from h_0 = 0
    -> (N, T, units) or the last state (N, units)."""
    h = np.zeros((x.shape[0], W.shape[1]), dtype=np.result_type(x, W))
    states = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W + h @ U + b)
        states.append(h)
    return np.stack(states, axis=1) if return_sequences else h
''',
    "lstm": '''
def lstm(x, W, U, b, return_sequences):
    """x: (N, T, in); z = x_t·W + h·U + b split into gates i, f, g, o;
    c = σ(f)·c + σ(i)·tanh(g), h = σ(o)·tanh(c), from zero state."""
    units = U.shape[0]
    h = np.zeros((x.shape[0], units), dtype=np.result_type(x, W))
    c = np.zeros_like(h)
    states = []
    for t in range(x.shape[1]):
        i, f, g, o = np.split(x[:, t] @ W + h @ U + b, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        states.append(h)
    return np.stack(states, axis=1) if return_sequences else h
''',
    "rbf": '''
def rbf(x, centers, beta):
    """Gaussian units exp(-beta·‖x − c‖²). x: (N, in), centers: (units, in) -> (N, units)."""
    d2 = np.sum(x * x, axis=1, keepdims=True) - 2 * (x @ centers.T) \\
        + np.sum(centers * centers, axis=1)
    return np.exp(-beta * np.maximum(d2, 0))
''',
}
"""Function name -> its source."""

NEEDS: dict[str, tuple[str, ...]] = {
    "conv2d": ("windows", "pad"), "max_pool2d": ("windows", "pad"),
    "avg_pool2d": ("windows", "pad"), "lstm": ("sigmoid",),
}
"""Functions that call other generated functions."""

MAIN = '''
def read_inputs(path):
    """A .npy array (one input) or a .npz keyed by input id, shaped and typed for the model."""
    loaded = np.load(path, allow_pickle=False)
    if isinstance(loaded, np.ndarray):
        if len(INPUTS) != 1:
            raise SystemExit(f"{path}: the model has {len(INPUTS)} inputs; give a .npz keyed "
                             f"by input id ({', '.join(INPUTS)})")
        arrays = {next(iter(INPUTS)): loaded}
    else:
        with loaded:
            arrays = {k: loaded[k] for k in loaded.files}
        if len(INPUTS) == 1 and len(arrays) == 1:
            arrays = {next(iter(INPUTS)): next(iter(arrays.values()))}
    out = {}
    for input_id, (shape, dtype) in INPUTS.items():
        if input_id not in arrays:
            raise SystemExit(f"{path}: has no array '{input_id}' for the input '{input_id}'")
        a = np.asarray(arrays[input_id])
        if a.shape[1:] != shape:
            if a.ndim < 1 or int(np.prod(a.shape[1:])) != int(np.prod(shape)):
                raise SystemExit(f"{path}: input '{input_id}' expects samples of shape "
                                 f"{list(shape)}, received {list(a.shape[1:])}")
            a = a.reshape((len(a), *shape))
        out[input_id] = a.astype(dtype, copy=False)
    return out


def predict_all(inputs, w, batch_size=512):
    """predict() over many samples, in batches to bound memory."""
    n = len(next(iter(inputs.values())))
    parts = [predict({k: v[i:i + batch_size] for k, v in inputs.items()}, w)
             for i in range(0, n, batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, *OUTPUT_SHAPE), DTYPE)


def main(argv):
    if len(argv) != 2:
        raise SystemExit("usage: python predict.py X.npy Y.npy  (X.npz keyed by input id for "
                         "several inputs)")
    with np.load(HERE / "weights.npz", allow_pickle=False) as z:
        w = {k: z[k] for k in z.files}
    np.save(argv[1], predict_all(read_inputs(argv[0]), w))


if __name__ == "__main__":
    main(sys.argv[1:])
'''
