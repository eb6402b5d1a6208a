"""Run under mpiexec by tests/test_distributed.py: train, evaluate and predict with DataParallel and
write what rank 0 sees (or fail on purpose) into the folder given as the first argument."""
import json
import sys
import time
from pathlib import Path

import numpy as np

import chainrule as keras
from chainrule import distribution

class RankFiles(keras.callbacks.Callback):
    """A callback that writes a file: only rank 0 may run it."""

    writes_files = True

    def __init__(self, out):
        self.out = out

    def on_epoch_end(self, epoch, logs=None):
        (self.out / f"written_by_rank_{distribution.rank()}").write_text(str(epoch))


def model_and_data(seed):
    """The model (float64, Adam) and data both the ranks and the one-process reference train on."""
    keras.utils.set_random_seed(seed)
    with keras.tensor.default_dtype("float64"):
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"),
                                  keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    data = np.random.default_rng(7)
    x = data.normal(size=(90, 6))
    return model, x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)


def main(out, scenario):
    distribution.set_distribution(distribution.DataParallel())
    if scenario == "fail":
        if distribution.rank() == 1:
            raise RuntimeError("rank 1 fails on purpose")
        time.sleep(60)          # rank 0 would wait forever for rank 1 without the abort
        return
    model, x, y = model_and_data(distribution.rank())     # each rank its own draw: rank 0's is broadcast
    history = model.fit(x, y, batch_size=20, epochs=3, shuffle=True, callbacks=[RankFiles(out)], verbose=0)
    logs = model.evaluate(x, y, batch_size=16, return_dict=True, verbose=0)
    predictions = model.predict(x, batch_size=16, verbose=0)
    if distribution.rank() == 0:
        np.save(out / "predictions.npy", predictions)
        for index, weight in enumerate(model.get_weights()):
            np.save(out / f"weight_{index}.npy", weight)
        (out / "logs.json").write_text(json.dumps({"history": history.history, "evaluate": logs,
                                                   "size": distribution.size(),
                                                   "devices": distribution.list_devices()}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
