"""Reliability promises (docs/RELIABILITY.md): threads, model files, saving, bad input."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule import callbacks, cli, saving
from chainrule.datasets import read_csv_rows
from chainrule.layers import Dense, Dropout
from chainrule.models import Sequential
from chainrule.tensor import get_default_dtype, is_grad_enabled, set_default_dtype
from chainrule.utils import set_random_seed

THREADS, ITERATIONS = 8, 20


def small_model(seed=0, dropout=False):
    set_random_seed(seed)
    layers = [Dense(16, activation="tanh", input_dim=4)] + ([Dropout(0.5)] if dropout else []) + [Dense(3)]
    model = Sequential(layers)
    model.compile(optimizer="adam", loss="mse")
    return model


def run_threads(target, count):
    """Run ``target(i)`` in ``count`` threads; re-raise the first error any thread met."""
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as error:  # noqa: BLE001 - handed back to the test's thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]


# ----- 1. thread safety ------------------------------------------------------------
def test_predicting_in_eight_threads_while_another_trains_matches_serial_runs():
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    y = np.random.default_rng(1).normal(size=(32, 3)).astype(np.float32)
    predictor, trainer, reference = small_model(0), small_model(1), small_model(1)
    serial_prediction = predictor.predict(x, verbose=0)
    reference.fit(x, y, epochs=ITERATIONS, batch_size=8, shuffle=False, verbose=0)
    results = {}

    def work(i):
        if i == THREADS:
            trainer.fit(x, y, epochs=ITERATIONS, batch_size=8, shuffle=False, verbose=0)
        else:
            results[i] = [predictor.predict(x, verbose=0) for _ in range(ITERATIONS)]

    run_threads(work, THREADS + 1)
    for predictions in results.values():
        for prediction in predictions:
            np.testing.assert_array_equal(prediction, serial_prediction)
    for trained, expected in zip(trainer.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(trained, expected)
    assert is_grad_enabled() and get_default_dtype() == np.float32


def test_no_grad_in_one_thread_leaves_recording_on_in_another():
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def quiet(_):
        with cr.no_grad():
            inside.set()
            outside.wait(10)

    def recording(_):
        inside.wait(10)
        w = cr.Tensor(np.ones(3), requires_grad=True)
        seen["requires_grad"] = (w * 2).requires_grad
        outside.set()

    run_threads(lambda i: (quiet, recording)[i](i), 2)
    assert seen["requires_grad"] and is_grad_enabled()


def test_set_default_dtype_in_one_thread_does_not_leak_to_another():
    seen = {}
    changed = threading.Event()

    def change(_):
        set_default_dtype(np.float64)
        seen["own"] = cr.Tensor([1.0]).dtype
        changed.set()

    def read(_):
        changed.wait(10)
        seen["other"] = cr.Tensor([1.0]).dtype

    run_threads(lambda i: (change, read)[i](i), 2)
    assert seen == {"own": np.float64, "other": np.float32}
    assert get_default_dtype() == np.float32


def test_dropout_in_threads_draws_from_the_shared_generator_without_error():
    x = np.ones((16, 4), np.float32)
    model = small_model(dropout=True)
    run_threads(lambda i: [model(x, training=True) for _ in range(ITERATIONS)], THREADS)


# ----- 2. model files refused cheaply, with one clear error ----------------------------------
FUZZ_CASES = 2000


def saved_bytes():
    set_random_seed(0)
    model = Sequential([Dense(5, activation="relu", input_dim=3), Dropout(0.1), Dense(2)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32), epochs=1, verbose=0)
    return saving.model_to_bytes(model)


def split(data):
    """(header dict, data section) of a safetensors file's bytes."""
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size]), data[8 + size:]


def join(header, body):
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def with_model_record(data, edit):
    header, body = split(data)
    record = json.loads(header["__metadata__"]["model"])
    edit(record)
    header["__metadata__"]["model"] = json.dumps(record)
    return join(header, body)


def refusal(data):
    with pytest.raises(saving.ModelFileError) as caught:
        saving.model_from_bytes(data, path="m.safetensors")
    return str(caught.value)


def test_a_bad_size_in_the_config_names_the_file_and_the_field():
    def zero_units(record):
        record["config"]["layers"][2]["config"]["units"] = 0
    assert refusal(with_model_record(saved_bytes(), zero_units)) == (
        f"'m.safetensors': config.layers[2].config.units: expected a positive int <= {saving.MAX_UNITS}, got 0")


def test_an_unknown_class_name_is_refused_before_anything_is_built():
    def rename(record):
        record["config"]["layers"][1]["class_name"] = "os.system"
    assert "config.layers[1].class_name: layer: unknown class name 'os.system'" in refusal(
        with_model_record(saved_bytes(), rename))


def test_a_config_that_would_build_weights_larger_than_the_file_is_refused_before_allocating():
    def huge(record):
        record["config"]["layers"][0]["config"]["units"] = saving.MAX_UNITS
        record["config"]["input_shape"] = record["input_shape"] = [saving.MAX_UNITS]
        record["config"]["layers"][0]["config"]["input_shape"] = [saving.MAX_UNITS]
    tracemalloc.start()
    message = refusal(with_model_record(saved_bytes(), huge))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "more entries than are left of twice the file's weight tensors" in message and peak < 20e6


@pytest.mark.parametrize("edit, field", [
    (lambda h: h["weights/0000"].update(data_offsets=[0, 10**9]), "header['weights/0000'].data_offsets"),
    (lambda h: h["weights/0001"].update(data_offsets=[h["weights/0000"]["data_offsets"][0] + 4,
                                                      h["weights/0000"]["data_offsets"][0] + 24]), "data_offsets"),
    (lambda h: h["weights/0000"].update(shape=[3, 6]), "header['weights/0000'].data_offsets"),
    (lambda h: h["weights/0000"].update(dtype="F128"), "header['weights/0000'].dtype"),
    (lambda h: h["weights/0000"].update(shape=[-1, 5]), "header['weights/0000'].shape"),
    (lambda h: h["__metadata__"].pop("model"), "header.__metadata__.model"),
    (lambda h: h["__metadata__"].update(compile=json.dumps({"optimizer": {"class_name": "Adam", "config": {}},
                                                            "metrics": []})), "compile"),
    (lambda h: h["__metadata__"].update(model="[" * 100 + "]" * 100), "model"),
    (lambda h: h["__metadata__"].update(model='{"class_name": NaN}'), "model.class_name"),
])
def test_a_bad_header_field_is_named(edit, field):
    header, body = split(saved_bytes())
    edit(header)
    message = refusal(join(header, body))
    assert message.startswith(f"'m.safetensors': ") and field in message


def test_a_negative_optimizer_iteration_count_is_refused():
    header, body = split(saved_bytes())
    begin, end = header["optimizer/iterations"]["data_offsets"]
    body = body[:begin] + np.int64(-3).tobytes() + body[end:]
    assert "header['optimizer/iterations']: expected a non-negative int scalar, got int64 of shape (): -3" in \
        refusal(join(header, body))


def test_two_thousand_layers_load_in_linear_time():
    def seconds_to_load(count):
        model = Sequential([Dense(2, input_dim=2)] + [Dense(2) for _ in range(count - 1)])
        data = saving.model_to_bytes(model)
        start = time.perf_counter()
        assert len(saving.model_from_bytes(data).layers) == count
        return time.perf_counter() - start
    small = min(seconds_to_load(500) for _ in range(3))     # the best of three: the machine may be busy
    large = min(seconds_to_load(2000) for _ in range(2))
    assert large < 8 * small + 0.5   # 4x the layers: linear is ~4x, quadratic ~16x


def mutations(data, generator):
    """Seeded mutations of a valid model file: byte flips, truncations, header and config edits."""
    header, body = split(data)
    values = [0, -1, 2**70, 1e308, "x", None, [], {}, True, [[[]]], "\x1b[2J\u202e"]
    for case in range(FUZZ_CASES):
        kind = case % 4
        if kind == 0:
            mutated = bytearray(data)
            for position in generator.integers(0, len(data), size=generator.integers(1, 4)):
                mutated[position] ^= 1 << int(generator.integers(0, 8))
            yield bytes(mutated)
        elif kind == 1:
            yield data[:int(generator.integers(0, len(data)))]
        elif kind == 2:
            edited = json.loads(json.dumps(header))
            name = str(generator.choice([key for key in edited if key != "__metadata__"]))
            key = str(generator.choice(["dtype", "shape", "data_offsets"]))
            edited[name][key] = values[generator.integers(len(values))] if generator.random() < 0.5 else \
                [int(v) for v in generator.integers(0, len(body) + 64, size=2)]
            yield join(edited, body)
        else:
            edited = json.loads(json.dumps(header))
            record = json.loads(edited["__metadata__"]["model"])
            targets, stack = [], [record]
            while stack:
                item = stack.pop()
                if isinstance(item, dict):
                    targets.append(item)
                    stack.extend(item.values())
                elif isinstance(item, list):
                    stack.extend(item)
            target = targets[generator.integers(len(targets))]
            key = str(generator.choice(list(target) or ["units"]))
            if generator.random() < 0.2:
                target.pop(key, None)
            else:
                target[key] = values[generator.integers(len(values))]
            edited["__metadata__"]["model"] = json.dumps(record)
            yield join(edited, body)


def test_fuzzed_model_files_load_or_raise_model_file_error_within_time_and_memory():
    data = saved_bytes()
    loaded = refused = 0
    tracemalloc.start()
    for mutated in mutations(data, np.random.default_rng(12)):
        start = time.perf_counter()
        try:
            saving.model_from_bytes(mutated, path="m.safetensors")
            loaded += 1
        except saving.ModelFileError:
            refused += 1
        assert time.perf_counter() - start < 2.0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert loaded + refused == FUZZ_CASES and refused > FUZZ_CASES // 2 and peak < 50e6


def test_info_prints_names_from_a_file_escaped(tmp_path, capsys):
    model = Sequential([Dense(2, input_dim=3, name="evil\x1b[2J\u202e")])
    model.save(tmp_path / "m.safetensors")
    assert cli.main(["info", str(tmp_path / "m.safetensors")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "evil\\x1b[2J\\u202e" in out


# ----- 5. NaN never becomes EarlyStopping's best ------------------------------------------
@pytest.mark.parametrize("mode, values, best", [
    ("min", [float("nan"), 5.0, float("nan"), 4.0, float("nan")], 4.0),
    ("max", [float("nan"), 0.5, float("nan"), 0.7, float("nan")], 0.7),
])
def test_a_nan_monitored_value_never_becomes_the_best(mode, values, best):
    stopper = callbacks.EarlyStopping(monitor="score", mode=mode, patience=10)
    stopper.set_model(small_model())
    stopper.on_train_begin()
    for epoch, value in enumerate(values):
        stopper.on_epoch_end(epoch, {"score": value})
        assert not np.isnan(stopper.best)
    assert stopper.best == best and stopper.best_epoch == 3


def test_early_stopping_stops_when_the_monitored_value_is_nan_from_the_start():
    stopper = callbacks.EarlyStopping(monitor="score", patience=2)
    stopper.set_model(small_model())
    stopper.on_train_begin()
    for epoch in range(3):
        stopper.on_epoch_end(epoch, {"score": float("nan")})
    assert stopper.model.stop_training and stopper.best == float("inf")


# ----- 3. saving as open(path, 'w') would ---------------------------------------------------
@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_a_new_file_gets_the_permissions_the_umask_gives(tmp_path, umask):
    previous = os.umask(umask)
    try:
        small_model().save(tmp_path / "m.safetensors")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "m.safetensors").st_mode) == 0o666 & ~umask


def test_overwriting_a_file_keeps_its_mode(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    small_model().save_weights(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640 and path.read_bytes() != b"old"


def test_saving_over_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "real").mkdir()
    link = tmp_path / "m.safetensors"
    link.symlink_to(tmp_path / "real" / "model.safetensors")
    small_model().save(link)
    assert link.is_symlink() and len(saving.model_from_bytes((tmp_path / "real" / "model.safetensors").read_bytes()).layers) == 2


def test_a_failed_save_names_the_users_path_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    with pytest.raises(FileNotFoundError, match="missing/m.safetensors"):
        small_model().save(tmp_path / "missing" / "m.safetensors")
    renamed = []

    def killed(source, target):
        renamed.append(os.path.basename(source))
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        small_model().save(path)
    assert re.fullmatch(r"\.m\.safetensors\.[0-9a-f]{16}\.tmp", renamed[0]) and os.listdir(tmp_path) == []


def test_the_next_save_removes_temporary_files_older_than_a_minute(tmp_path):
    stale, fresh = tmp_path / ".m.safetensors.0123456789abcdef.tmp", tmp_path / ".m.safetensors.fedcba9876543210.tmp"
    for leftover in (stale, fresh):
        leftover.write_bytes(b"partial")
    os.utime(stale, (time.time() - 2 * saving.STALE_SECONDS,) * 2)
    small_model().save(tmp_path / "other.safetensors")
    assert sorted(os.listdir(tmp_path)) == [fresh.name, "other.safetensors"]


# ----- 6. bad input checked before anything changes -----------------------------------------
X4 = np.ones((4, 4), np.float32)
BAD_INPUTS = [
    ("targets 1e300 are inf in float32", lambda m: m.fit(X4, np.full((4, 3), 1e300), verbose=0), "y: expected finite"),
    ("targets of another shape", lambda m: m.fit(X4, np.ones((4, 1, 3)), verbose=0), "y: mse expects targets"),
    ("targets of another size", lambda m: m.fit(X4, np.ones((4, 6)), verbose=0), "y: mse expects targets"),
    ("validation_split as text", lambda m: m.fit(X4, np.ones((4, 3)), validation_split="0.1", verbose=0),
     "validation_split: expected a float"),
    ("ragged x", lambda m: m.predict([[1, 2, 3, 4], [1]], verbose=0), "x: expected numbers in a rectangular array"),
    ("ragged y", lambda m: m.fit(X4, [[1, 2, 3], [1], [1, 2, 3], [1, 2, 3]], verbose=0),
     "y: expected numbers in a rectangular array"),
    ("a scalar x", lambda m: m.predict(3.0, verbose=0), "x: expected an array of samples"),
]


@pytest.mark.parametrize("case, call, message", BAD_INPUTS, ids=[case for case, _, _ in BAD_INPUTS])
def test_bad_input_is_refused_naming_the_argument_before_any_weight_changes(case, call, message):
    model = small_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        call(model)
    for weight, kept in zip(model.get_weights(), before):
        np.testing.assert_array_equal(weight, kept)


def test_numpy_integer_scalars_are_accepted_where_python_ints_are():
    model = Sequential([Dense(np.int64(3), input_dim=np.int32(4))])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(X4, np.ones((4, 3)), batch_size=np.int64(2), epochs=np.int32(2), verbose=0)
    assert len(history.epoch) == 2 and model.predict(X4, batch_size=np.uint8(3), verbose=0).shape == (4, 3)


def test_targets_with_a_trailing_axis_of_one_are_taken_as_keras_takes_them():
    model = Sequential([Dense(1, input_dim=4)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X4, np.ones(4), verbose=0)


# ----- 7. the command line never shows a traceback ----------------------------------------
def cli_cases(folder):
    """(arguments, expected exit status, a fragment of the one-line error) per bad case."""
    def csv(name, text):
        path = folder / name
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        return f"csv:{path}"
    rows = "".join(f"{i},{i % 2},{i % 3}\n" for i in range(12))
    model = folder / "model" / "model.safetensors"
    model.parent.mkdir()
    small_model().save(model)
    (model.parent / "metrics.json").write_text("{not json")
    truncated = folder / "truncated.safetensors"
    truncated.write_bytes(model.read_bytes()[:-20])
    (folder / "a_file").write_text("")
    out = str(folder / "out")
    return [
        (["train", "--hidden", ""], 2, "argument --hidden"),
        (["train", "--classes", "1"], 2, "argument --classes"),
        (["train", "--out", str(folder / "a_file")], 2, "argument --out"),
        (["train", "--dataset", f"csv:{folder / 'absent.csv'}", "--out", out], 2, "absent.csv"),
        (["info", str(folder / "absent.safetensors")], 2, "absent.safetensors"),
        (["train", "--dataset", csv("nan.csv", "nan,1,0\n" + rows), "--out", out], 1, "line 1"),
        (["train", "--dataset", csv("inf.csv", "1,inf,0\n" + rows), "--out", out], 1, "line 1"),
        (["train", "--dataset", csv("empty.csv", "1,,0\n" + rows), "--out", out], 1, "line 1"),
        (["train", "--dataset", csv("negative.csv", rows + "1,2,-1\n"), "--out", out], 1, "int class labels >= 0"),
        (["train", "--dataset", csv("huge.csv", rows + "1,2,1000\n"), "--out", out], 1, "give --classes"),
        (["train", "--dataset", csv("over.csv", rows), "--classes", "2", "--out", out], 1, "--classes 2"),
        (["train", "--dataset", csv("one.csv", "".join(f"{i},1,0\n" for i in range(12))), "--out", out], 1,
         "at least two classes"),
        (["train", "--dataset", csv("latin1.csv", "a,b,\xe9t\xe9\n1,2,0\n".encode("latin-1")), "--out", out], 1,
         "UTF-8"),
        (["train", "--dataset", csv("escape.csv", "\x1b[2J,1,0\n1,\x1b[31m,1\n"), "--out", out], 1, "line 1"),
        (["predict", str(truncated), csv("x.csv", rows)[4:]], 1, "not a readable safetensors file"),
        (["info", str(model)], 0, "warning: "),
    ]


def test_each_bad_case_through_the_command_is_one_line_on_stderr_with_its_exit_status(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.path.join(os.path.dirname(os.path.dirname(__file__)), "src")}
    cases = cli_cases(tmp_path)
    installed = shutil.which("chainrule", path=os.path.dirname(sys.executable))    # the command pip installed
    command = [installed] if installed else [sys.executable, "-m", "chainrule.cli"]
    runs = [subprocess.Popen([*command, *arguments], env=env, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for arguments, _, _ in cases]
    for (arguments, status, fragment), run in zip(cases, runs):
        _, err = run.communicate(timeout=120)
        assert (run.returncode, err.count("\n")) == (status, 1), (arguments, err)
        assert err.startswith("chainrule") and fragment in err and "\x1b" not in err, (arguments, err)


def test_a_csv_first_row_with_a_byte_order_mark_is_data(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff1,2,0\n3,4,1\n".encode("utf-8"))
    assert read_csv_rows(path) == [[1.0, 2.0, 0.0], [3.0, 4.0, 1.0]]


def test_a_csv_header_is_skipped_only_when_no_field_is_a_number_or_empty(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,b,label\n1,2,0\n")
    assert read_csv_rows(path) == [[1.0, 2.0, 0.0]]


@pytest.mark.parametrize("bad_y", [np.ones((5, 2)), np.ones((4, 7))], ids=["length", "shape"])
def test_a_refused_first_fit_leaves_an_unbuilt_model_unbuilt(bad_y):
    model = Sequential([Dense(2)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError):
        model.fit(np.ones((4, 3)), bad_y, verbose=0)
    assert not model.built and model.weights == [] and model.input_shape is None
    model.fit(np.ones((4, 5)), np.ones((4, 2)), verbose=0)       # builds for the data it is then given
    assert model.input_shape == (None, 5) and model.layers[0].kernel.shape == (5, 2)
