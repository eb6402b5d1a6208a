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
    c = (1 + cos(pi * min(step, decay_steps) / decay_steps)) / 2."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
        self.initial_learning_rate = check_number("initial_learning_rate", initial_learning_rate, minimum=0)
        self.decay_steps = check_number("decay_steps", decay_steps, minimum=0, min_open=True)
        self.alpha = check_number("alpha", alpha, minimum=0, maximum=1)

    def __call__(self, step):
        cosine = 0.5 * (1 + math.cos(math.pi * min(step, self.decay_steps) / self.decay_steps))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha}


_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay)}


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
