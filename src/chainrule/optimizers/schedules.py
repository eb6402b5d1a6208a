"""Learning-rate schedules: the learning rate as a function of the optimizer's step.

Pass one as an optimizer's ``learning_rate``; the optimizer evaluates it at
``iterations`` (0 on the first update), as Keras does.
"""
import bisect
import math

from ..arguments import check_number


class LearningRateSchedule:
    """Callable on the step (an int >= 0), returning the learning rate (a float)."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class ExponentialDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps);
    with ``staircase=True`` the exponent is floor(step / decay_steps)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = check_number("initial_learning_rate", initial_learning_rate, minimum=0)
        self.decay_steps = check_number("decay_steps", decay_steps, minimum=0, min_open=True)
        self.decay_rate = check_number("decay_rate", decay_rate, minimum=0, min_open=True)
        self.staircase = bool(staircase)

    def __call__(self, step):
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate ** exponent

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase}


class PiecewiseConstantDecay(LearningRateSchedule):
    """Step decay: lr(step) = values[0] while step <= boundaries[0], values[1] while
    boundaries[0] < step <= boundaries[1], ..., values[-1] after boundaries[-1]."""

    def __init__(self, boundaries, values):
        boundaries, values = list(boundaries), list(values)
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"values: expected len(boundaries) + 1 = {len(boundaries) + 1} values, got {len(values)}")
        self.boundaries = [check_number(f"boundaries[{i}]", b, minimum=0) for i, b in enumerate(boundaries)]
        if any(b >= c for b, c in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(f"boundaries: expected strictly increasing steps, got {boundaries}")
        self.values = [check_number(f"values[{i}]", v, minimum=0) for i, v in enumerate(values)]

    def __call__(self, step):
        return self.values[bisect.bisect_left(self.boundaries, step)]

    def get_config(self):
        return {"boundaries": list(self.boundaries), "values": list(self.values)}


class CosineDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate * ((1 - alpha) * c + alpha) with
    c = (1 + cos(pi * min(step, decay_steps) / decay_steps)) / 2.

    With ``warmup_target`` the rate first rises linearly from initial_learning_rate to warmup_target over
    ``warmup_steps`` steps, then decays from warmup_target as above, counting steps from the warmup's end."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = check_number("initial_learning_rate", initial_learning_rate, minimum=0)
        self.decay_steps = check_number("decay_steps", decay_steps, minimum=0, min_open=True)
        self.alpha = check_number("alpha", alpha, minimum=0, maximum=1)
        self.warmup_target = None if warmup_target is None else check_number("warmup_target", warmup_target, minimum=0)
        self.warmup_steps = check_number("warmup_steps", warmup_steps, minimum=0)

    def __call__(self, step):
        if self.warmup_target is None:
            return _cosine(self.initial_learning_rate, min(step, self.decay_steps) / self.decay_steps, self.alpha)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) * step / self.warmup_steps
        return _cosine(self.warmup_target, (step - self.warmup_steps) / self.decay_steps, self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


def _cosine(rate, fraction, alpha):
    """rate * ((1 - alpha) * (1 + cos(pi * fraction)) / 2 + alpha): a half cosine from rate down to alpha * rate."""
    return rate * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): period i lasts first_decay_steps * t_mul**i steps and starts
    from initial_learning_rate * m_mul**i; within a period at fraction f,
    lr = initial_learning_rate * ((1 - alpha) * m_mul**i * (1 + cos(pi * f)) / 2 + alpha)."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
        self.initial_learning_rate = check_number("initial_learning_rate", initial_learning_rate, minimum=0)
        self.first_decay_steps = check_number("first_decay_steps", first_decay_steps, minimum=0, min_open=True)
        self.t_mul = check_number("t_mul", t_mul, minimum=0, min_open=True)
        self.m_mul = check_number("m_mul", m_mul, minimum=0)
        self.alpha = check_number("alpha", alpha, minimum=0, maximum=1)

    def __call__(self, step):
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(math.log(1.0 - fraction * (1.0 - self.t_mul)) / math.log(self.t_mul))
            done = (1.0 - self.t_mul ** restart) / (1.0 - self.t_mul)
            fraction = (fraction - done) / self.t_mul ** restart
        cosine = 0.5 * self.m_mul ** restart * (1 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self.t_mul, "m_mul": self.m_mul, "alpha": self.alpha}


class PolynomialDecay(LearningRateSchedule):
    """lr(step) = (initial_learning_rate - end_learning_rate) * (1 - s / d)**power + end_learning_rate with
    s = min(step, decay_steps), d = decay_steps; with ``cycle=True`` s = step and d = decay_steps *
    ceil(step / decay_steps) (1 at step 0), so the decay restarts after each period."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False):
        self.initial_learning_rate = check_number("initial_learning_rate", initial_learning_rate, minimum=0)
        self.decay_steps = check_number("decay_steps", decay_steps, minimum=0, min_open=True)
        self.end_learning_rate = check_number("end_learning_rate", end_learning_rate, minimum=0)
        self.power = check_number("power", power)
        self.cycle = bool(cycle)

    def __call__(self, step):
        if self.cycle:
            period = self.decay_steps * (math.ceil(step / self.decay_steps) if step else 1)
        else:
            step, period = min(step, self.decay_steps), self.decay_steps
        fraction = 1 - step / period
        return (self.initial_learning_rate - self.end_learning_rate) * fraction ** self.power + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle}


class InverseTimeDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps); with ``staircase=True``
    step / decay_steps is floored. Keras 2's optimizer argument ``decay`` is InverseTimeDecay(lr, 1, decay)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = check_number("initial_learning_rate", initial_learning_rate, minimum=0)
        self.decay_steps = check_number("decay_steps", decay_steps, minimum=0, min_open=True)
        self.decay_rate = check_number("decay_rate", decay_rate, minimum=0)
        self.staircase = bool(staircase)

    def __call__(self, step):
        fraction = step / self.decay_steps
        if self.staircase:
            fraction = math.floor(fraction)
        return self.initial_learning_rate / (1 + self.decay_rate * fraction)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase}


_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay, CosineDecayRestarts,
                                         PolynomialDecay, InverseTimeDecay)}


def serialize(schedule):
    """``{"class_name": ..., "config": ...}``, the form :func:`deserialize` reads."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config):
    """The schedule described by ``{"class_name": ..., "config": ...}``."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"schedule config: expected a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    if name not in _BY_NAME:
        raise ValueError(f"schedule: unknown class_name {name!r}; valid names: {', '.join(sorted(_BY_NAME))}")
    return _BY_NAME[name].from_config(config.get("config", {}))
