"""Convolution and pooling: fused primitives (chainrule.functional) against slow loop references."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import layers
from chainrule.models import Sequential
from chainrule.utils import set_random_seed
from layer_checks import assert_config_round_trip, layer_gradcheck, save_load_round_trip


def tensor(rng, *shape):
    return cr.Tensor(rng.standard_normal(shape), requires_grad=True)


def explicit_pads(size, kernel, stride, dilation, padding):
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        return total // 2, total - total // 2
    return padding, padding


def reference_conv1d(x, kernel, bias, stride, padding, dilation):
    """out[b, o, f] = sum_k sum_c x_pad[b, o*stride + k*dilation, c] * kernel[k, c, f] + bias[f], by loops."""
    k, _, filters = kernel.shape
    before, after = explicit_pads(x.shape[1], k, stride, dilation, padding)
    padded = np.pad(x, ((0, 0), (before, after), (0, 0)))
    steps = (padded.shape[1] - (k - 1) * dilation - 1) // stride + 1
    out = np.zeros((x.shape[0], steps, filters))
    for b in range(x.shape[0]):
        for o in range(steps):
            for f in range(filters):
                total = bias[f]
                for j in range(k):
                    total += padded[b, o * stride + j * dilation, :] @ kernel[j, :, f]
                out[b, o, f] = total
    return out


def reference_conv2d(x, kernel, stride, padding, dilation):
    kh, kw, _, filters = kernel.shape
    (top, bottom) = explicit_pads(x.shape[1], kh, stride[0], dilation[0], padding)
    (left, right) = explicit_pads(x.shape[2], kw, stride[1], dilation[1], padding)
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    rows = (padded.shape[1] - (kh - 1) * dilation[0] - 1) // stride[0] + 1
    cols = (padded.shape[2] - (kw - 1) * dilation[1] - 1) // stride[1] + 1
    out = np.zeros((x.shape[0], rows, cols, filters))
    for b in range(x.shape[0]):
        for i in range(rows):
            for j in range(cols):
                for p in range(kh):
                    for q in range(kw):
                        pixel = padded[b, i * stride[0] + p * dilation[0], j * stride[1] + q * dilation[1]]
                        out[b, i, j] += pixel @ kernel[p, q]
    return out


def reference_pool2d(x, pool, stride, padding, kind):
    """Max or mean over each window; 'same' padding is left out of both (as Keras)."""
    (top, bottom) = explicit_pads(x.shape[1], pool[0], stride[0], 1, padding)
    (left, right) = explicit_pads(x.shape[2], pool[1], stride[1], 1, padding)
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=np.nan)
    rows = (padded.shape[1] - pool[0]) // stride[0] + 1
    cols = (padded.shape[2] - pool[1]) // stride[1] + 1
    out = np.zeros((x.shape[0], rows, cols, x.shape[3]))
    reduce = np.nanmax if kind == "max" else np.nanmean
    for i in range(rows):
        for j in range(cols):
            window = padded[:, i * stride[0]:i * stride[0] + pool[0], j * stride[1]:j * stride[1] + pool[1]]
            out[:, i, j] = reduce(window, axis=(1, 2))
    return out


@pytest.mark.parametrize("padding", ["valid", "same", 2])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv1d_equals_the_loop_reference(rng, padding, stride, dilation):
    x, kernel, bias = rng.standard_normal((2, 11, 3)), rng.standard_normal((3, 3, 4)), rng.standard_normal(4)
    out = F.conv1d(x, kernel, bias, strides=stride, padding=padding, dilation=dilation)
    np.testing.assert_allclose(out.data, reference_conv1d(x, kernel, bias, stride, padding, dilation), atol=1e-12)


def test_conv1d_same_padding_with_stride_one_keeps_the_length(rng):
    out = F.conv1d(rng.standard_normal((2, 10, 3)), rng.standard_normal((4, 3, 5)), padding="same")
    assert out.shape == (2, 10, 5)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride, dilation", [((1, 1), (1, 1)), ((2, 1), (1, 2)), ((2, 3), (2, 1))])
def test_conv2d_equals_the_loop_reference(rng, padding, stride, dilation):
    x, kernel = rng.standard_normal((2, 7, 8, 2)), rng.standard_normal((3, 2, 2, 3))
    out = F.conv2d(x, kernel, strides=stride, padding=padding, dilation=dilation)
    np.testing.assert_allclose(out.data, reference_conv2d(x, kernel, stride, padding, dilation), atol=1e-12)


@pytest.mark.parametrize("padding", ["valid", "same", 1])
@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2), (3, 2)])
def test_conv1d_gradcheck(rng, padding, stride, dilation):
    x, kernel, bias = tensor(rng, 2, 9, 2), tensor(rng, 3, 2, 3), tensor(rng, 3)
    assert cr.gradcheck(lambda x, k, b: F.conv1d(x, k, b, stride, padding, dilation), x, kernel, bias)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride, dilation", [((1, 1), (1, 1)), ((2, 1), (1, 2))])
def test_conv2d_gradcheck(rng, padding, stride, dilation):
    x, kernel, bias = tensor(rng, 2, 5, 6, 2), tensor(rng, 2, 3, 2, 2), tensor(rng, 2)
    assert cr.gradcheck(lambda x, k, b: F.conv2d(x, k, b, stride, padding, dilation), x, kernel, bias)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool, stride", [((2, 2), (2, 2)), ((3, 2), (2, 1)), ((2, 3), (1, 3))])
def test_pool2d_equals_the_loop_reference(rng, kind, padding, pool, stride):
    x = rng.standard_normal((2, 7, 8, 3))
    out = F.pool(x, pool, stride, padding, kind, rank=2)
    np.testing.assert_allclose(out.data, reference_pool2d(x, pool, stride, padding, kind), atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pool1d_equals_the_2d_reference_on_one_row(rng, kind, padding):
    x = rng.standard_normal((2, 9, 3))
    out = F.pool(x, 3, 2, padding, kind, rank=1)
    expected = reference_pool2d(x[:, :, None, :], (3, 1), (2, 1), padding, kind)[:, :, 0]
    np.testing.assert_allclose(out.data, expected, atol=1e-12)


def test_pool_strides_default_to_the_pool_size(rng):
    assert F.pool(rng.standard_normal((1, 9, 2)), 3, kind="max").shape == (1, 3, 2)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2])
def test_pool_gradcheck(rng, kind, padding, stride):
    x1, x2 = tensor(rng, 2, 7, 2), tensor(rng, 1, 5, 4, 2)
    assert cr.gradcheck(lambda x: F.pool(x, 3, stride, padding, kind, rank=1), x1)
    assert cr.gradcheck(lambda x: F.pool(x, (2, 3), stride, padding, kind, rank=2), x2)


def test_max_pool_sends_the_gradient_to_the_maximum_only():
    x = cr.Tensor(np.array([[[1.0], [5.0], [2.0], [3.0]]]), requires_grad=True)
    F.pool(x, 2, kind="max").sum().backward()
    np.testing.assert_array_equal(x.grad[0, :, 0], [0, 1, 0, 1])


def test_conv_rejects_input_of_the_wrong_rank_naming_the_expected_layout(rng):
    with pytest.raises(ValueError, match=r"\(batch, steps, channels\)"):
        F.conv1d(rng.standard_normal((4, 3)), rng.standard_normal((2, 3, 1)))


def test_conv_rejects_a_kernel_larger_than_the_padded_input(rng):
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv1d(rng.standard_normal((1, 3, 1)), rng.standard_normal((2, 1, 1)), dilation=3)


def test_conv_rejects_mismatched_channels(rng):
    with pytest.raises(ValueError, match="3 channels but the kernel expects 2"):
        F.conv1d(rng.standard_normal((1, 5, 3)), rng.standard_normal((2, 2, 1)))


@pytest.mark.parametrize("name, kwargs", [("strides", {"strides": 0}), ("dilation_rate", {"dilation": -1}),
                                          ("padding", {"padding": "full"})])
def test_conv_rejects_bad_window_arguments(rng, name, kwargs):
    with pytest.raises(ValueError, match=name):
        F.conv1d(rng.standard_normal((1, 5, 1)), rng.standard_normal((2, 1, 1)), **kwargs)


# ----- layers ----------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [dict(), dict(strides=2, padding="same"), dict(dilation_rate=2, padding="same"),
                                    dict(padding=1, strides=2, activation="tanh")])
def test_conv1d_layer_gradcheck(rng, kwargs):
    assert layer_gradcheck(layers.Conv1D(3, 3, dtype="float64", **kwargs), rng.standard_normal((2, 8, 2)))


@pytest.mark.parametrize("kwargs", [dict(), dict(strides=(2, 1), padding="same", activation="relu")])
def test_conv2d_layer_gradcheck(rng, kwargs):
    assert layer_gradcheck(layers.Conv2D(2, (2, 3), dtype="float64", **kwargs), rng.standard_normal((2, 5, 5, 2)))


@pytest.mark.parametrize("layer", [layers.MaxPooling1D(2), layers.AveragePooling1D(3, 2, "same"),
                                   layers.GlobalMaxPooling1D(), layers.GlobalAveragePooling1D()])
def test_pooling_1d_layers_gradcheck(rng, layer):
    assert layer_gradcheck(layer, rng.standard_normal((2, 7, 3)))


@pytest.mark.parametrize("layer", [layers.MaxPooling2D((2, 2), padding="same"), layers.AveragePooling2D(2, 1),
                                   layers.GlobalMaxPooling2D(), layers.GlobalAveragePooling2D()])
def test_pooling_2d_layers_gradcheck(rng, layer):
    assert layer_gradcheck(layer, rng.standard_normal((2, 5, 4, 2)))


def test_conv1d_layer_kernel_has_the_keras_shape(rng):
    layer = layers.Conv1D(4, 5)
    assert layer(rng.standard_normal((2, 10, 3))).shape == (2, 6, 4)
    assert layer.kernel.shape == (5, 3, 4) and layer.bias.shape == (4,)


def test_conv1d_layer_output_is_the_activation_of_the_loop_reference(rng):
    layer = layers.Conv1D(2, 3, strides=2, activation="relu", dtype="float64")
    x = rng.standard_normal((2, 9, 3))
    out = layer(x)
    expected = np.maximum(reference_conv1d(x, layer.kernel.data, layer.bias.data, 2, "valid", 1), 0)
    np.testing.assert_allclose(out.data, expected, atol=1e-12)


def test_global_pooling_reduces_the_spatial_axes(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    np.testing.assert_allclose(layers.GlobalAveragePooling2D()(x).data, x.mean(axis=(1, 2)))
    np.testing.assert_allclose(layers.GlobalMaxPooling2D()(x).data, x.max(axis=(1, 2)))


def test_reshape_keeps_the_batch_axis(rng):
    assert layers.Reshape((4, -1))(rng.standard_normal((3, 2, 8))).shape == (3, 4, 4)


def test_conv1d_layer_rejects_2d_input_naming_the_expected_layout_before_building(rng):
    layer = layers.Conv1D(2, 3)
    with pytest.raises(ValueError, match=r"\(batch, steps, channels\)"):
        layer(rng.standard_normal((4, 10)))
    assert not layer.built and layer.weights == []


def test_conv1d_layer_rejects_a_kernel_larger_than_the_padded_input_before_building(rng):
    layer = layers.Conv1D(2, 5)
    with pytest.raises(ValueError, match="larger than the padded input"):
        layer(rng.standard_normal((1, 3, 1)))
    assert layer.weights == []


def test_pooling_layer_rejects_a_window_larger_than_the_input(rng):
    with pytest.raises(ValueError, match="larger than the padded input"):
        layers.MaxPooling2D((3, 3))(rng.standard_normal((1, 2, 5, 1)))


@pytest.mark.parametrize("kwargs, name", [(dict(filters=0, kernel_size=3), "filters"),
                                          (dict(filters=2, kernel_size=3, strides=0), "strides"),
                                          (dict(filters=2, kernel_size=-1), "kernel_size"),
                                          (dict(filters=2, kernel_size=3, padding="causal"), "padding")])
def test_conv_layer_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        layers.Conv1D(**kwargs)


def test_pooling_layer_rejects_non_positive_strides():
    with pytest.raises(ValueError, match="strides"):
        layers.MaxPooling2D(2, strides=(0, 1))


@pytest.mark.parametrize("layer", [layers.Conv1D(3, 2, strides=2, padding="same", activation="relu"),
                                   layers.MaxPooling1D(3, 1, "same"), layers.AveragePooling1D(2),
                                   layers.GlobalMaxPooling1D(), layers.Reshape((-1,))])
def test_1d_layers_config_round_trip_gives_the_same_output(rng, layer):
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    assert_config_round_trip(layer, x)


def test_small_cnn_learns_to_find_the_position_of_a_bump():
    set_random_seed(0)
    data_rng = np.random.default_rng(0)
    x = data_rng.normal(0, 0.1, (240, 16, 1)).astype(np.float32)
    y = data_rng.integers(0, 2, 240)
    positions = np.where(y == 0, data_rng.integers(0, 6, 240), data_rng.integers(10, 16, 240))
    x[np.arange(240), positions, 0] += 1.0
    model = Sequential([layers.Conv1D(4, 3, activation="relu", input_shape=(16, 1)), layers.MaxPooling1D(2),
                        layers.Conv1D(4, 3, activation="relu"), layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:200], y[:200], epochs=60, batch_size=20, verbose=0)
    loss, accuracy = model.evaluate(x[200:], y[200:])
    assert accuracy >= 0.95


@pytest.mark.parametrize("make_layer, shape", [
    (lambda: layers.Conv1D(3, 2, strides=2, padding="same", dilation_rate=1, activation="relu"), (6, 3)),
    (lambda: layers.Conv2D(2, (2, 2), padding=1, activation="tanh", use_bias=False), (4, 4, 2)),
    (lambda: layers.MaxPooling1D(2, padding="same"), (5, 3)), (lambda: layers.AveragePooling2D((2, 1)), (4, 4, 2)),
    (lambda: layers.GlobalMaxPooling2D(), (3, 3, 2)), (lambda: layers.GlobalAveragePooling1D(), (5, 2)),
    (lambda: layers.Reshape((2, -1)), (4, 3))])
def test_conv_and_pooling_layers_survive_save_and_load(rng, tmp_path, make_layer, shape):
    before, after = save_load_round_trip(make_layer(), rng.standard_normal((4,) + shape).astype(np.float32),
                                         tmp_path / "model.safetensors")
    np.testing.assert_array_equal(after, before)


def test_pool_rejects_an_unknown_kind(rng):
    with pytest.raises(ValueError, match="'max', 'avg'|max, avg"):
        F.pool(rng.standard_normal((1, 4, 1)), 2, kind="median")
