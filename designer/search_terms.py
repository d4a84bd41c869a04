"""Words people type for a layer, an activation function or a loss, beyond its own name.

The palette's search adds these to what the catalogue says (type, description, category).
They are synonyms from other tools and textbooks ("fully connected" for Dense, "logistic" for
sigmoid), so they live with the search, not in the engine's catalogue. A test checks that
every key names a real layer type, activation function or loss.
"""
from __future__ import annotations

LAYER_WORDS: dict[str, str] = {
    "Input": "data placeholder features",
    "Dense": "fully connected fc linear affine perceptron mlp hidden layer",
    "Flatten": "vector unroll",
    "Reshape": "view",
    "RBF": "radial basis function gaussian kernel",
    "Activation": "nonlinearity non-linearity activation function",
    "PReLU": "parametric relu learned slope",
    "Conv2D": "convolution convolutional cnn filter kernel",
    "MaxPool2D": "max pooling downsample subsample",
    "AvgPool2D": "average pooling mean downsample",
    "GlobalAvgPool2D": "global average pooling gap",
    "BatchNorm": "batch normalization batchnorm bn",
    "Dropout": "regularization",
    "GaussianNoise": "noise denoising",
    "SimpleRNN": "recurrent rnn elman",
    "LSTM": "long short-term memory recurrent rnn",
    "Embedding": "word vectors lookup tokens",
    "Add": "sum plus skip residual",
    "Concatenate": "concat merge join",
    "Dot": "dot product similarity",
}

FUNCTION_WORDS: dict[str, str] = {
    "identity": "none linear",
    "linear": "affine",
    "step": "heaviside threshold perceptron",
    "stair": "staircase quantize",
    "relu": "rectified linear unit",
    "leaky_relu": "leaky relu rectified",
    "elu": "exponential linear unit",
    "softplus": "smooth relu",
    "sigmoid": "logistic probability",
    "tanh": "hyperbolic tangent",
    "softmax": "probabilities normalized exponential classifier output",
}

LOSS_WORDS: dict[str, str] = {
    "mse": "mean squared error l2 regression",
    "mae": "mean absolute error l1 regression",
    "binary_cross_entropy": "bce log loss logistic",
    "cross_entropy": "categorical cross entropy crossentropy nll log loss softmax",
    "hinge": "svm margin",
}


def words(*parts: str) -> str:
    """One lower-case search text; underscores also count as spaces ("cross entropy")."""
    text = " ".join(parts).lower()
    return f"{text} {text.replace('_', ' ')}"
