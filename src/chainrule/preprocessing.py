"""Array preparation as ``keras.utils`` names it: one-hot labels, norms, padded sequences, time-series
windows and splits. Plain NumPy in, plain NumPy (or a PyDataset of NumPy batches) out."""
import math

from .arguments import is_int, positive_int
from .backend import xp
from .pydataset import PyDataset


def to_categorical(x, num_classes=None):
    """One-hot rows: out[..., k] = 1 where x == k, for integer labels x of any shape (a trailing axis of
    size 1 is dropped); ``num_classes`` defaults to max(x) + 1. Float64, as Keras."""
    x = xp.asarray(x)
    if x.size and (x.dtype.kind not in "iub" and not xp.array_equal(x, xp.round(x))):
        raise ValueError("x: to_categorical expects integer class labels, got non-integer values")
    x = x.astype(xp.int64)
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x[..., 0]
    classes = int(x.max()) + 1 if num_classes is None else positive_int(num_classes, "num_classes")
    if x.size and (x.min() < 0 or x.max() >= classes):
        raise ValueError(f"x: labels must be in [0, {classes}), got values in [{x.min()}, {x.max()}]")
    out = xp.zeros((x.size, classes))
    out[xp.arange(x.size), x.reshape(-1)] = 1.0
    return out.reshape(x.shape + (classes,))


def normalize(x, axis=-1, order=2):
    """x / ||x||_order along ``axis`` (a zero norm left as 1, so zero rows stay zero)."""
    if not is_int(order) or order < 1:
        raise ValueError(f"order: expected an int >= 1, got {order!r}")
    x = xp.asarray(x)
    norm = xp.atleast_1d(xp.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / xp.expand_dims(norm, axis)


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """The sequences as one array (n, maxlen, ...): each cut to its last (truncating='pre') or first
    ('post') maxlen entries and filled with ``value`` before ('pre') or after ('post') to maxlen
    (the longest length by default)."""
    for name, given in (("padding", padding), ("truncating", truncating)):
        if given not in ("pre", "post"):
            raise ValueError(f"{name}: expected 'pre' or 'post', got {given!r}")
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"sequences: expected a list of sequences, got {type(sequences).__name__}")
    lengths, sample_shape = [], None
    for index, sequence in enumerate(sequences):
        if not hasattr(sequence, "__len__"):
            raise ValueError(f"sequences[{index}]: expected a sequence, got {type(sequence).__name__}")
        lengths.append(len(sequence))
        if sample_shape is None and len(sequence):
            sample_shape = xp.asarray(sequence).shape[1:]
    sample_shape = sample_shape or ()
    maxlen = max(lengths, default=0) if maxlen is None else positive_int(maxlen, "maxlen")
    out = xp.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for index, sequence in enumerate(sequences):
        if not len(sequence):
            continue
        kept = xp.asarray(sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"sequences[{index}]: entries of shape {kept.shape[1:]} where the first sequence "
                             f"has {sample_shape}")
        if padding == "post":
            out[index, :len(kept)] = kept
        else:
            out[index, -len(kept):] = kept
    return out


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                                  batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None):
    """Sliding windows over ``data`` as a PyDataset of batches: window i is data[s_i + j * sampling_rate]
    for j < sequence_length, s_i = start_index + i * sequence_stride; its target is targets[s_i] (batches
    are (x, y), or x alone when ``targets`` is None). ``shuffle`` orders the windows by ``seed``."""
    data = xp.asarray(data)
    sequence_length = positive_int(sequence_length, "sequence_length")
    sequence_stride = positive_int(sequence_stride, "sequence_stride")
    sampling_rate = positive_int(sampling_rate, "sampling_rate")
    batch_size = None if batch_size is None else positive_int(batch_size, "batch_size")
    start = 0 if start_index is None else start_index
    end = len(data) if end_index is None else end_index
    if not (is_int(start) and is_int(end) and 0 <= start < end <= len(data)):
        raise ValueError(f"start_index, end_index: expected 0 <= start_index < end_index <= len(data) = {len(data)}, "
                         f"got {start_index!r}, {end_index!r}")
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = xp.asarray(targets)
        count = min(count, len(targets))
    positions = xp.arange(0, max(count, 0), sequence_stride)
    if shuffle:
        xp.random.default_rng(seed).shuffle(positions)
    offsets = xp.arange(sequence_length) * sampling_rate

    class Windows(PyDataset):
        def __len__(self):
            return math.ceil(len(positions) / (batch_size or max(len(positions), 1)))

        def __getitem__(self, index):
            if not 0 <= index < len(self):
                raise IndexError(f"index: expected a batch index in [0, {len(self)}), got {index}")
            size = batch_size or len(positions)
            chosen = positions[index * size:(index + 1) * size]
            x = data[start + chosen[:, None] + offsets]
            return x if targets is None else (x, targets[start + chosen])

    return Windows()


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Two parts of ``dataset`` (an array, or a tuple/list/dict of arrays of one length), split along the
    first axis: sizes as counts (ints) or fractions (floats in (0, 1)); one size given means the rest for
    the other, none means 0.8 / 0.2 (Keras' default). Returns (left, right) in the structure given, as
    arrays (Keras returns tf.data datasets)."""
    parts = dataset if isinstance(dataset, (tuple, list, dict)) else (dataset,)
    arrays = [xp.asarray(a) for a in (parts.values() if isinstance(parts, dict) else parts)]
    total = len(arrays[0]) if arrays else 0
    if not arrays or any(len(a) != total for a in arrays):
        raise ValueError(f"dataset: expected arrays of one length, got lengths {[len(a) for a in arrays]}")
    left, right = (_split_size(name, size, total) for name, size in (("left_size", left_size),
                                                                      ("right_size", right_size)))
    if left is None and right is None:
        left = int(total * 0.8)
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total or left + right == 0:
        raise ValueError(f"left_size, right_size: {left} + {right} samples of a dataset of {total}")
    order = xp.random.default_rng(seed).permutation(total) if shuffle else xp.arange(total)
    pieces = ([a[order[:left]] for a in arrays], [a[order[left:left + right]] for a in arrays])
    if isinstance(dataset, dict):
        return tuple(dict(zip(dataset, piece)) for piece in pieces)
    if isinstance(dataset, (tuple, list)):
        return tuple(type(dataset)(piece) for piece in pieces)
    return pieces[0][0], pieces[1][0]


def _split_size(name, size, total):
    if size is None:
        return None
    if is_int(size) and 0 <= size <= total:
        return int(size)
    if isinstance(size, float) and 0 < size < 1:
        return int(round(size * total))
    raise ValueError(f"{name}: expected an int in [0, {total}] or a float in (0, 1), got {size!r}")
