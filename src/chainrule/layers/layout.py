"""Data layouts: the ``data_format`` argument and the transposes between channels first and last.

Layers compute channels last, (batch, *spatial, channels); a 'channels_first' layer moves its
input's channel axis last, computes, and moves it back."""

DATA_FORMATS = ("channels_last", "channels_first")


def data_format_argument(data_format):
    """'channels_last' (None: Keras' default image_data_format) or 'channels_first'."""
    data_format = "channels_last" if data_format is None else data_format
    if data_format not in DATA_FORMATS:
        raise ValueError(f"data_format: expected one of {', '.join(DATA_FORMATS)}, got {data_format!r}")
    return data_format


def channels_last(inputs, data_format):
    """(batch, channels, *spatial) -> (batch, *spatial, channels) for 'channels_first'; else inputs."""
    return inputs.transpose(0, *range(2, inputs.ndim), 1) if data_format == "channels_first" else inputs


def channels_back(outputs, data_format):
    """The inverse of :func:`channels_last`: (batch, *spatial, channels) back to ``data_format``."""
    if data_format != "channels_first":
        return outputs
    return outputs.transpose(0, outputs.ndim - 1, *range(1, outputs.ndim - 1))


def shape_last(shape, data_format):
    """An input shape in the channels-last order."""
    shape = tuple(shape)
    return shape[:1] + shape[2:] + shape[1:2] if data_format == "channels_first" else shape
