"""Intersection over union from a confusion matrix accumulated over batches, as Keras computes it.

IoU_c = TP_c / (TP_c + FP_c + FN_c) for the classes in ``target_class_ids``, averaged
over those whose denominator is nonzero. Labels outside [0, num_classes) and those
equal to ``ignore_class`` are left out. Sample weights count as given (Keras, whose
default dtype here is int, truncates fractional weights).
"""
from ..arguments import positive_int
from ..backend import xp
from .base import EPSILON, Metric, as_array


class IoU(Metric):
    """The mean IoU of the classes in ``target_class_ids``; y_true and y_pred are class ids
    (``sparse_y_true`` / ``sparse_y_pred``) or scores whose argmax along ``axis`` is taken."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = positive_int(num_classes, "num_classes")
        self.target_class_ids = [int(c) for c in target_class_ids]
        if not self.target_class_ids or max(self.target_class_ids) >= num_classes or min(self.target_class_ids) < 0:
            raise ValueError(f"target_class_ids: expected ids in [0, {num_classes}), got {target_class_ids!r}")
        self.ignore_class = ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = sparse_y_true, sparse_y_pred, axis
        self.total_cm = self.add_variable((num_classes, num_classes), "zeros", name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_array(y_true), as_array(y_pred)
        if not self.sparse_y_true:
            y_true = y_true.argmax(axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = y_pred.argmax(axis=self.axis)
        y_true, y_pred = y_true.astype(xp.int64).ravel(), y_pred.astype(xp.int64).ravel()
        weights = 1.0 if sample_weight is None else xp.asarray(as_array(sample_weight), dtype=float).ravel()
        weights = xp.broadcast_to(weights, y_true.shape)
        n = self.num_classes
        keep = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            keep &= y_true != self.ignore_class
        cells = xp.bincount(y_true[keep] * n + y_pred[keep], weights[keep], minlength=n * n)
        self.total_cm.assign_add(cells.reshape(n, n))

    def result(self):
        cm = self.total_cm.value
        tp = xp.diag(cm)
        denominator = (cm.sum(axis=0) + cm.sum(axis=1) - tp)[self.target_class_ids]
        valid = denominator > 1e-9
        iou = xp.where(valid, tp[self.target_class_ids] / (denominator + EPSILON), 0.0)
        return iou.sum() / (valid.sum() + EPSILON)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of the two classes y_pred >= threshold and y_pred < threshold."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(y_true, as_array(y_pred) >= self.threshold, sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "target_class_ids": self.target_class_ids,
                "threshold": self.threshold}


class MeanIoU(IoU):
    """The IoU averaged over all ``num_classes`` classes."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        super().__init__(num_classes, list(range(num_classes)) if isinstance(num_classes, int) else [], name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """IoU for one-hot y_true (and scores y_pred unless ``sparse_y_pred``)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """MeanIoU for one-hot y_true (and scores y_pred unless ``sparse_y_pred``)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
