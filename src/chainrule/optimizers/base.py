"""The Optimizer base class: learning rate (or schedule), gradient clipping,
weight decay, per-parameter state slots, and the config / state round trips.

A subclass names its per-parameter state in ``slot_names`` and writes its
update rule in ``_update`` with in-place array ops on preallocated buffers.
"""
import math
import warnings

from ..backend import xp
from ..tensor import Tensor
from . import schedules
from ..arguments import check_number, positive_int


class Optimizer:
    """Updates parameters in place from their gradients.

    ``step(params)`` reads each Tensor's ``.grad`` (skipping those that are None)
    and updates its ``.data`` in place; ``apply_gradients(grads_and_vars)`` does the
    same for explicit ``(gradient, variable)`` pairs. Per-parameter state ("slots")
    is allocated on the first update, keyed by the parameter's position in the list,
    so pass the same parameters in the same order every step.

    Before the update, gradients are clipped (at most one of: ``clipnorm``, each
    gradient rescaled to norm <= clipnorm; ``global_clipnorm``, all gradients
    rescaled together to global norm <= global_clipnorm; ``clipvalue``, each entry
    clipped to [-clipvalue, clipvalue]), then with ``weight_decay`` each updated
    weight decays: w <- w - learning_rate * weight_decay * w (decoupled, as AdamW).

    Keras 3's other options, all inside ``step``/``apply`` (they see every step's gradients):
    ``loss_scale_factor`` s: gradients are divided by s (``scale_loss(loss)`` multiplies the loss by s);
    ``gradient_accumulation_steps`` k: gradients are summed over k calls and the update made on every
    k-th with their mean (``iterations`` counts every call, as Keras); ``use_ema``: after each call the
    average a <- m * a + (1 - m) * w (m = ema_momentum, 0 on the first call) of every parameter is kept,
    written into the parameters every ``ema_overwrite_frequency`` calls and by
    ``finalize_variable_values``. Keras 2's ``lr`` (alias of learning_rate) and ``decay`` (the rate
    learning_rate / (1 + decay * iterations), an InverseTimeDecay schedule) warn DeprecationWarning.
    """

    name = None
    default_learning_rate = 0.001
    slot_names = ()
    work_buffers = 1   # scratch arrays per parameter handed to _update (one array, or a tuple of this many)

    def __init__(self, learning_rate=None, lr=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 weight_decay=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, decay=None):
        if learning_rate is not None and lr is not None:
            raise ValueError(f"learning_rate: got both learning_rate={learning_rate!r} and its alias lr={lr!r}; pass one")
        if lr is not None:
            warnings.warn("lr: Keras 2's name of learning_rate; use learning_rate", DeprecationWarning, stacklevel=3)
        if learning_rate is None:
            learning_rate = self.default_learning_rate if lr is None else lr
        if decay:
            warnings.warn("decay: Keras 2's argument; use learning_rate=schedules.InverseTimeDecay(learning_rate, 1, "
                          "decay), which is what it becomes here", DeprecationWarning, stacklevel=3)
            if isinstance(learning_rate, schedules.LearningRateSchedule):
                raise ValueError("decay: cannot decay a LearningRateSchedule; give a number as learning_rate")
            learning_rate = schedules.InverseTimeDecay(self._checked_learning_rate(learning_rate), 1,
                                                       check_number("decay", decay, minimum=0))
        clipping = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = [key for key, value in clipping.items() if value is not None]
        if len(given) > 1:
            raise ValueError(f"{given[1]}: only one of clipnorm, clipvalue and global_clipnorm can be set, got {', '.join(given)}")
        self._learning_rate = self._checked_learning_rate(learning_rate)
        self.clipnorm = None if clipnorm is None else check_number("clipnorm", clipnorm, minimum=0, min_open=True)
        self.clipvalue = None if clipvalue is None else check_number("clipvalue", clipvalue, minimum=0, min_open=True)
        self.global_clipnorm = (None if global_clipnorm is None
                                else check_number("global_clipnorm", global_clipnorm, minimum=0, min_open=True))
        self.weight_decay = None if weight_decay is None else check_number("weight_decay", weight_decay, minimum=0)
        self.use_ema = bool(use_ema)
        self.ema_momentum = check_number("ema_momentum", ema_momentum, minimum=0, maximum=1)
        self.ema_overwrite_frequency = (None if ema_overwrite_frequency is None
                                        else positive_int(ema_overwrite_frequency, "ema_overwrite_frequency"))
        self.loss_scale_factor = (None if loss_scale_factor is None
                                  else check_number("loss_scale_factor", loss_scale_factor, minimum=0, min_open=True))
        if gradient_accumulation_steps is not None and (positive_int(gradient_accumulation_steps,
                                                                     "gradient_accumulation_steps") < 2):
            raise ValueError(f"gradient_accumulation_steps: expected an int >= 2 or None, got {gradient_accumulation_steps!r}")
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.state_names = (self.slot_names + (("average",) if self.use_ema else ())
                            + (("accumulated_gradient",) if gradient_accumulation_steps else ()))
        self.iterations = 0
        self._slots = None     # one tuple of arrays (in slot_names order) per parameter position
        self._scratch = None   # one work buffer per parameter position, not state

    # ----- learning rate ----------------------------------------------------
    @staticmethod
    def _checked_learning_rate(value):
        if isinstance(value, schedules.LearningRateSchedule):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float, xp.floating, xp.integer)):
            raise TypeError(f"learning_rate: expected a number or a LearningRateSchedule, got {type(value).__name__}")
        return check_number("learning_rate", value, minimum=0)

    @property
    def learning_rate(self):
        """The learning rate of the next update (a schedule is evaluated at ``iterations``)."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        value = self._checked_learning_rate(value)
        if isinstance(self._learning_rate, schedules.LearningRateSchedule) and not isinstance(
                value, schedules.LearningRateSchedule):
            raise TypeError("learning_rate: this optimizer follows a LearningRateSchedule; "
                            "set a new schedule, not a number")
        self._learning_rate = value

    lr = learning_rate

    # ----- updates ----------------------------------------------------------
    def step(self, params):
        """Update each Tensor in ``params`` in place from its ``.grad`` (None grads are skipped)."""
        params = list(params)
        self._apply([p.grad for p in params], params)

    def apply_gradients(self, grads_and_vars):
        """Update each variable (a Tensor) in place from its gradient (an array, a Tensor or None)."""
        grads, params = [], []
        for index, (grad, param) in enumerate(grads_and_vars):
            if not isinstance(param, Tensor):
                raise TypeError(f"grads_and_vars[{index}]: expected a Tensor variable, got {type(param).__name__}")
            if grad is not None:
                grad = grad.data if isinstance(grad, Tensor) else xp.asarray(grad)
                if grad.shape != param.shape:
                    raise ValueError(f"grads_and_vars[{index}]: gradient shape {grad.shape} does not match "
                                     f"variable shape {param.shape}")
            grads.append(grad)
            params.append(param)
        self._apply(grads, params)

    def apply(self, grads, trainable_variables=None):
        """Update ``trainable_variables`` (Tensors) in place from ``grads`` (Keras 3's name; the order of
        the two lists matches)."""
        if trainable_variables is None:
            raise ValueError("trainable_variables: expected the list of variables the gradients are for, got None")
        self.apply_gradients(zip(list(grads), list(trainable_variables)))

    def scale_loss(self, loss):
        """The loss times ``loss_scale_factor`` (unchanged without one): backpropagate this one, the
        update divides the gradients back."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, write the moving averages into ``var_list`` (the parameters, in the order
        they were updated); Keras calls it at the end of ``fit``."""
        if not self.use_ema or self._slots is None:
            return
        var_list = list(var_list)
        self._check_positions(var_list)
        for param, slots in zip(var_list, self._slots):
            param.data[...] = slots[self.state_names.index("average")]

    def _apply(self, grads, params):
        if self._slots is None:
            self._slots = [self._new_slots(p.data) + self._option_slots(p.data) for p in params]
        self._check_positions(params)
        if self._scratch is None:
            self._scratch = [xp.empty_like(p.data) if self.work_buffers == 1
                             else tuple(xp.empty_like(p.data) for _ in range(self.work_buffers)) for p in params]
        step = self.iterations + 1
        if self.loss_scale_factor is not None:
            grads = [None if g is None else g / self.loss_scale_factor for g in grads]
        if self.gradient_accumulation_steps:
            grads = self._accumulated(grads, step % self.gradient_accumulation_steps == 0)
        if grads is not None:
            self._update_all(self._clipped(grads), params, step)
            if self.gradient_accumulation_steps:
                for slots in self._slots:
                    slots[-1][...] = 0
        if self.use_ema:
            self._average(params, step)
        self.iterations += 1

    def _update_all(self, grads, params, step):
        lr = self.learning_rate
        rate = self._step_rate(lr, step)
        decay = None if not self.weight_decay else 1.0 - lr * self.weight_decay
        for param, grad, slots, scratch in zip(params, grads, self._slots, self._scratch):
            if grad is None:
                continue
            if decay is not None:
                param.data *= decay
            self._update(param.data, grad, slots, scratch, rate)

    def _option_slots(self, weight):
        """The state the options keep per parameter: the moving average (use_ema), the gradient sum
        (gradient_accumulation_steps)."""
        return tuple(xp.zeros_like(weight) for _ in self.state_names[len(self.slot_names):])

    def _accumulated(self, grads, update):
        """Add ``grads`` to the sums; on an update call, the sums divided by the step count (None otherwise)."""
        for grad, slots in zip(grads, self._slots):
            if grad is not None:
                slots[-1][...] += grad
        if not update:
            return None
        for slots in self._slots:
            slots[-1][...] *= 1.0 / self.gradient_accumulation_steps
        return [None if grad is None else slots[-1] for grad, slots in zip(grads, self._slots)]

    def _average(self, params, step):
        momentum = self.ema_momentum if step > 1 else 0.0
        index = self.state_names.index("average")
        overwrite = self.ema_overwrite_frequency and step % self.ema_overwrite_frequency == 0
        for param, slots in zip(params, self._slots):
            average = slots[index]
            average *= momentum
            average += (1.0 - momentum) * param.data
            if overwrite:
                param.data[...] = average

    def _check_positions(self, params):
        """The same number of parameters every step; their shapes are checked against the
        slots once, before the work buffers are allocated (first step, or after set_variables)."""
        if len(params) != len(self._slots):
            raise ValueError(f"params: this optimizer holds state for {len(self._slots)} parameters, got {len(params)}; "
                             "pass the same parameters in the same order every step")
        if self._scratch is None:
            for index, (param, slots) in enumerate(zip(params, self._slots)):
                for slot_name, slot, shape in zip(self.state_names, slots, self._slot_shapes(param.shape)):
                    if slot.shape != shape:
                        raise ValueError(f"params[{index}]: shape {param.shape} does not match the "
                                         f"optimizer's {slot_name!r} state of shape {slot.shape}")

    def _clipped(self, grads):
        if self.clipnorm is not None:
            return [None if g is None else _scaled_to_norm(g, _norm(g), self.clipnorm) for g in grads]
        if self.global_clipnorm is not None:
            global_norm = math.sqrt(sum(_norm(g) ** 2 for g in grads if g is not None))
            return [None if g is None else _scaled_to_norm(g, global_norm, self.global_clipnorm) for g in grads]
        if self.clipvalue is not None:
            return [None if g is None else xp.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _new_slots(self, weight):
        """The initial state of one parameter: one zero array per slot name."""
        return tuple(xp.zeros_like(weight) for _ in self.slot_names)

    def _slot_shapes(self, shape):
        """The shape of each state array (``state_names`` order) for a parameter of ``shape``."""
        return (shape,) * len(self.state_names)

    def _step_rate(self, lr, step):
        """The step size used by every parameter's update at ``step`` (1 on the first update)."""
        return lr

    def _update(self, w, g, slots, scratch, rate):
        """Update ``w`` and ``slots`` in place from the gradient ``g``; ``scratch`` is a work buffer."""
        raise NotImplementedError

    # ----- state (for saving) -----------------------------------------------
    def variables(self):
        """All state as ``{"iterations": int64 scalar, "<position>/<slot>": array, ...}``."""
        state = {"iterations": xp.asarray(self.iterations, dtype=xp.int64)}
        for position, slots in enumerate(self._slots or ()):
            for slot_name, slot in zip(self.state_names, slots):
                state[f"{position}/{slot_name}"] = slot
        return state

    def set_variables(self, variables):
        """Restore the state written by :meth:`variables` (checked before anything changes)."""
        if "iterations" not in variables:
            raise ValueError(f"variables: expected an 'iterations' entry, got keys {sorted(variables)}")
        iterations = int(xp.asarray(variables["iterations"]))
        slot_keys = [key for key in variables if key != "iterations"]
        count = len(slot_keys) // len(self.state_names) if self.state_names else 0
        expected = {f"{position}/{slot_name}" for position in range(count) for slot_name in self.state_names}
        if set(slot_keys) != expected:
            raise ValueError(f"variables: expected keys 'iterations' and '<position>/<slot>' for slots "
                             f"{list(self.state_names)}, got {sorted(slot_keys)}")
        slots = [tuple(xp.array(variables[f"{position}/{slot_name}"]) for slot_name in self.state_names)
                 for position in range(count)]
        self.iterations = iterations
        self._slots = slots if count else None
        self._scratch = None

    # ----- config -----------------------------------------------------------
    def get_config(self):
        """The constructor arguments, and ``name`` (the identifier :func:`chainrule.optimizers.get` reads)."""
        learning_rate = self._learning_rate
        if isinstance(learning_rate, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(learning_rate)
        config = {"name": self.name, "learning_rate": learning_rate}
        config.update(self._hyperparameters())
        for key in ("clipnorm", "clipvalue", "global_clipnorm", "weight_decay", "loss_scale_factor",
                    "gradient_accumulation_steps"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        if self.use_ema:
            config.update(use_ema=True, ema_momentum=self.ema_momentum,
                          ema_overwrite_frequency=self.ema_overwrite_frequency)
        return config

    def _hyperparameters(self):
        return {}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("name", None)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items() if key != "name")
        return f"{type(self).__name__}({arguments})"


def moving_average(average, value, decay, scratch):
    """average <- decay * average + (1 - decay) * value, in place, as average += (1 - decay) * (value - average)
    (Keras' form); ``value`` may be ``scratch`` itself."""
    xp.subtract(value, average, out=scratch)
    scratch *= 1.0 - decay
    average += scratch


def _norm(g):
    return math.sqrt(float(xp.vdot(g, g)))


def _scaled_to_norm(g, norm, max_norm):
    """g * max_norm / max(norm, max_norm): unchanged when its norm is within max_norm."""
    return g if norm <= max_norm else g * (max_norm / norm)
