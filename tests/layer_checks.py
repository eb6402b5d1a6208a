"""Test helper: gradcheck through a layer, its weights included."""
import numpy as np

import chainrule as cr


def _rebind(layer, replacements):
    """Point ``layer`` (and its sublayers) at new weight Tensors: {id(old): new}."""
    for obj in [layer, *layer.sublayers()]:
        for key, value in list(vars(obj).items()):
            if isinstance(value, cr.Tensor) and id(value) in replacements:
                setattr(obj, key, replacements[id(value)])
        obj._weights = [(name, replacements.get(id(w), w), trainable) for name, w, trainable in obj._weights]
        if obj is not layer:
            _rebind(obj, replacements)


def layer_gradcheck(layer, x, training=False, input_grad=True):
    """gradcheck of ``layer(x)`` (its first output) in float64 with respect to x and every
    trainable weight; the layer must have been created with dtype='float64'."""
    x = cr.Tensor(np.asarray(x, dtype=np.float64), requires_grad=input_grad)
    layer(x, training=training)
    current = list(layer.weights)

    def forward(x, *weights):
        _rebind(layer, {id(old): new for old, new in zip(current, weights)})
        current[:] = weights
        out = layer(x, training=training)
        return out[0] if isinstance(out, list) else out

    return cr.gradcheck(forward, x, *current)


def save_load_round_trip(layer, x, path):
    """Predictions of Sequential([layer]) before and after model.save / load_model; a layer with
    weights is trained one step first so that no weight keeps its initial value."""
    from chainrule.models import Sequential, load_model

    model = Sequential([layer])
    model.compile(optimizer="adam", loss="mse")
    target = model.predict(x)
    if model.trainable_weights:
        model.fit(x, target + 0.1, epochs=1, batch_size=len(x), verbose=0)
    model.save(path)
    return model.predict(x), load_model(path).predict(x)


def assert_config_round_trip(layer, x):
    """A layer rebuilt from its get_config, given the same weights, gives the same output on x."""
    out = layer(x).data
    clone = type(layer).from_config(layer.get_config())
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).data, out)
