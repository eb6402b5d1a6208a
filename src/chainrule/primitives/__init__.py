"""The primitives: every op with its own backward, laid out by purpose.

One module per purpose; each primitive's forward, backward (vector-Jacobian
product) and jvp (Jacobian-vector product) sit side by side, and its docstring
states the forward and the backward in one line.

    base           what every primitive builds on: tensor_like, unbroadcast, normalize_axes, unary, SymmetricJacobian
    elementwise    arithmetic, exp, log, log1p, sqrt, abs, sin, cos, erf, clip, cast, where, maximum, minimum
    reductions     sum, mean, max, min, prod, logsumexp, cumsum, squared_norm
    linalg         matmul, the fused dense layer linear, einsum
    reshaping      reshape, transpose, getitem, take_along_axis, concatenate, stack, pad, broadcast_to, flip, tile
    activations    sigmoid, tanh, relu, ..., softmax (and the stable sigmoid every cell shares)
    losses         mse, l1, huber, binary cross-entropy (on probabilities or logits), cross-entropy
    convolution    convolution, depthwise convolution and pooling, with their window arithmetic
    normalization  batch and layer normalization
    recurrent      the recurrent cells and Recurrence, which runs one over a sequence

Their public face is :mod:`chainrule.functional`; import the functions from there.
"""
