"""Source text of the small modules a generated PyTorch file defines for layers that have no
PyTorch counterpart, and of its weight-loading functions. Only the helpers a model uses are
written into its file."""
from __future__ import annotations

HELPERS: dict[str, str] = {
    "Affine": '''
class Affine(nn.Module):
    """nnengine's linear activation: y = slope·x + intercept."""

    def __init__(self, slope: float, intercept: float):
        super().__init__()
        self.slope, self.intercept = slope, intercept

    def forward(self, x):
        return self.slope * x + self.intercept
''',
    "Step": '''
class Step(nn.Module):
    """y = 1 where x >= threshold, else 0. Its gradient is zero almost everywhere."""

    def __init__(self, threshold: float):
        super().__init__()
        self.threshold = threshold

    def forward(self, x):
        return (x >= self.threshold).to(x.dtype)
''',
    "Stair": '''
class Stair(nn.Module):
    """y = clip(floor(x·levels) / levels, 0, 1): steps of 1/levels on [0, 1], 1 from x = 1.
    Its gradient is zero almost everywhere."""

    def __init__(self, levels: int):
        super().__init__()
        self.levels = levels

    def forward(self, x):
        return torch.clamp(torch.floor(x * self.levels) / self.levels, 0, 1)
''',
    "GaussianNoise": '''
class GaussianNoise(nn.Module):
    """Adds N(0, stddev²) noise in training mode only; the identity in eval mode."""

    def __init__(self, stddev: float):
        super().__init__()
        self.stddev = stddev

    def forward(self, x):
        if self.training and self.stddev:
            return x + torch.randn_like(x) * self.stddev
        return x
''',
    "RBF": '''
class RBF(nn.Module):
    """Gaussian radial basis units: y_j = exp(−beta_j·‖x − c_j‖²).
    x: (batch, in) -> (batch, units); centers: (units, in), beta: (units,)."""

    def __init__(self, in_features: int, units: int):
        super().__init__()
        self.centers = nn.Parameter(torch.empty(units, in_features).uniform_(-1.0, 1.0))
        self.beta = nn.Parameter(torch.ones(units))

    def forward(self, x):
        # ‖x − c‖² = ‖x‖² − 2x·c + ‖c‖², clipped at 0 against rounding (as nnengine).
        d2 = (x * x).sum(dim=1, keepdim=True) - 2 * (x @ self.centers.T) \\
            + (self.centers * self.centers).sum(dim=1)
        return torch.exp(-self.beta * d2.clamp_min(0))
''',
    "AvgPool2dSame": '''
class AvgPool2dSame(nn.Module):
    """Average pool with TensorFlow's "same" padding (the odd pad at the bottom/right):
    padded positions are left out of each window's mean."""

    def __init__(self, kernel_size: int, stride: int, pads: tuple[int, int, int, int]):
        super().__init__()
        self.kernel_size, self.stride, self.pads = kernel_size, stride, pads  # (l, r, t, b)

    def forward(self, x):
        total = F.avg_pool2d(F.pad(x, self.pads), self.kernel_size, self.stride)
        ones = F.pad(torch.ones_like(x[:1, :1]), self.pads)
        return total / F.avg_pool2d(ones, self.kernel_size, self.stride)
''',
    "Standardize": '''
class Standardize(nn.Module):
    """(x − mean) / std with the statistics nnengine stored when it standardized this input."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("std", torch.ones(shape))

    def forward(self, x):
        return (x - self.mean) / self.std
''',
    "ActivityRegularization": '''
class ActivityRegularization(nn.Module):
    """y = x; keeps l1·mean Σ|x| + l2·mean Σx² (mean over the batch) in `self.added_loss`:
    add it to the loss when training, as nnengine does."""

    def __init__(self, l1: float, l2: float):
        super().__init__()
        self.l1, self.l2 = l1, l2
        self.added_loss = torch.zeros(())

    def forward(self, x):
        flat = x.flatten(1)
        self.added_loss = (self.l1 * flat.abs().sum(1) + self.l2 * (flat * flat).sum(1)).mean()
        return x
''',
    "Sampling": '''
class Sampling(nn.Module):
    """z = mean + exp(logvar/2)·ε in training mode, the mean in eval mode; keeps
    beta·KL(N(mean, exp(logvar)) ‖ N(0, 1)), averaged over the batch, in `self.added_loss`:
    add it to the loss when training, as nnengine does."""

    def __init__(self, beta: float):
        super().__init__()
        self.beta = beta
        self.added_loss = torch.zeros(())

    def forward(self, mean, logvar):
        kl = -0.5 * (1 + logvar - mean * mean - logvar.exp()).flatten(1).sum(1)
        self.added_loss = self.beta * kl.mean()
        if self.training:
            return mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        return mean
''',
}
"""Helper class name -> its source (written once, in this order, when used)."""

WEIGHT_FUNCTIONS = '''
def _tensor(module: nn.Module, target: str) -> torch.Tensor:
    owner, _, name = target.rpartition(".")
    return getattr(module.get_submodule(owner), name)


def load_npz_weights(module: nn.Module, path) -> None:
    """Copy an nnengine weight file (.npz, arrays keyed "node/name") into `module`,
    converting layouts: Dense W is (in, units) there, Linear.weight (out, in) here; RNN and
    LSTM have one bias there, bias_ih + bias_hh here (bias_hh is set to zero)."""
    with np.load(path) as npz:
        arrays = {key: npz[key] for key in npz.files}
    expected = {key for key, _, _ in WEIGHTS}
    missing, extra = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
    if missing or extra:
        raise KeyError(f"{path} does not fit this model: missing {missing}, "
                       f"unexpected {extra}")
    with torch.no_grad():
        for key, target, how in WEIGHTS:
            value = torch.from_numpy(np.ascontiguousarray(arrays[key]))
            if how == "rnn_bias":
                rnn = module.get_submodule(target)
                rnn.bias_ih_l0.copy_(value)
                rnn.bias_hh_l0.zero_()
                continue
            tensor = _tensor(module, target)
            tensor.copy_(value.T if how == "transpose" else value.reshape(tensor.shape))


def save_npz_weights(module: nn.Module, path) -> None:
    """Write `module`'s weights as an nnengine weight file, to carry on in nnengine."""
    arrays = {}
    with torch.no_grad():
        for key, target, how in WEIGHTS:
            if how == "rnn_bias":
                rnn = module.get_submodule(target)
                value = rnn.bias_ih_l0 + rnn.bias_hh_l0
            else:
                value = _tensor(module, target)
                value = value.T if how == "transpose" else value
            arrays[key] = np.ascontiguousarray(value.detach().cpu().numpy())
    np.savez(path, **arrays)
'''
