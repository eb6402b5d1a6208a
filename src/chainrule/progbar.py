"""``Progbar``: Keras' text progress bar for one's own loops."""
import sys
import time


class Progbar:
    """A progress bar to ``target`` steps (None: unknown). ``update(current, values)`` moves it to
    step ``current``; each (name, value) in ``values`` is shown as its mean over the steps so far,
    weighted by the steps since the last update (names in ``stateful_metrics`` as given).
    ``verbose=1`` redraws one line (at most every ``interval`` seconds), 2 prints one line at the end."""

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step",
                 stream=None):
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose: expected 0, 1 or 2, got {verbose!r}")
        self.target, self.width, self.verbose, self.interval, self.unit_name = target, width, verbose, interval, unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self.stream = stream or sys.stdout
        self._values = {}      # name: [weighted sum, weight] or [value, 1] for stateful metrics
        self._seen = 0
        self._start = self._last_draw = time.monotonic()

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        steps = max(current - self._seen, 1)
        for name, value in values or ():
            if name in self.stateful_metrics:
                self._values[name] = [value, 1]
            else:
                total = self._values.setdefault(name, [0.0, 0])
                total[0] += value * steps
                total[1] += steps
        self._seen = current
        now = time.monotonic()
        if self.verbose == 1 and (finalize or now - self._last_draw >= self.interval):
            self._last_draw = now
            self.stream.write("\r" + self._line(current, now) + ("\n" if finalize else ""))
            self.stream.flush()
        elif self.verbose == 2 and finalize:
            self.stream.write(self._line(current, now) + "\n")
            self.stream.flush()

    def add(self, n, values=None):
        self.update(self._seen + n, values)

    def _line(self, current, now):
        if self.target:
            done = int(self.width * min(current / self.target, 1.0))
            bar = f"{current}/{self.target} [{'=' * done}{'.' * (self.width - done)}]"
        else:
            bar = f"{current} {self.unit_name}s"
        elapsed = now - self._start
        metrics = "".join(f" - {name}: {total / max(weight, 1):.4f}" for name, (total, weight) in self._values.items())
        return f"{bar} - {elapsed:.0f}s{metrics}"
