"""The chainrule command line: train on digits end to end, predict and info on the saved model, bad arguments."""
import json

import numpy as np
import pytest

from chainrule import cli
from chainrule.datasets import load_digits


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short training run on digits, shared by the tests that read its output."""
    out = tmp_path_factory.mktemp("run")
    status = cli.main(["train", "--dataset", "digits", "--hidden", "32", "--epochs", "3", "--lr", "0.01", "--seed", "1",
                       "--out", str(out)])
    return status, out


def test_train_exits_zero(trained):
    status, _ = trained
    assert status == 0


def test_train_writes_model_curves_and_metrics(trained):
    _, out = trained
    for name in ("model.safetensors", "curves.png", "metrics.json"):
        assert (out / name).stat().st_size > 0
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metrics_json_holds_the_test_accuracy(trained):
    metrics = json.loads((trained[1] / "metrics.json").read_text())
    assert metrics["dataset"] == "digits"
    assert 0.8 < metrics["test_accuracy"] <= 1.0
    assert len(metrics["history"]["loss"]) == 3


def test_train_prints_the_test_accuracy(tmp_path, capsys):
    cli.main(["train", "--dataset", "xor", "--epochs", "2", "--out", str(tmp_path)])
    assert "test accuracy: " in capsys.readouterr().out


def test_predict_prints_one_class_per_row(trained, tmp_path, capsys):
    (_, _), (x_test, y_test) = load_digits()
    csv = tmp_path / "rows.csv"
    np.savetxt(csv, x_test[:20], delimiter=",")
    capsys.readouterr()
    assert cli.main(["predict", str(trained[1] / "model.safetensors"), str(csv)]) == 0
    predictions = [int(line) for line in capsys.readouterr().out.split()]
    assert len(predictions) == 20
    assert np.mean(np.array(predictions) == y_test[:20]) > 0.7


def test_predict_ignores_a_label_column_and_writes_output(trained, tmp_path):
    (_, _), (x_test, y_test) = load_digits()
    csv, output = tmp_path / "labelled.csv", tmp_path / "predictions.txt"
    np.savetxt(csv, np.column_stack([x_test[:5], y_test[:5]]), delimiter=",")
    assert cli.main(["predict", str(trained[1] / "model.safetensors"), str(csv), "--output", str(output)]) == 0
    assert len(output.read_text().split()) == 5


def test_predict_wrong_column_count_exits_1(trained, tmp_path, capsys):
    csv = tmp_path / "narrow.csv"
    np.savetxt(csv, np.zeros((3, 10)), delimiter=",")
    assert cli.main(["predict", str(trained[1] / "model.safetensors"), str(csv)]) == 1
    assert "expected 64 feature columns" in capsys.readouterr().err


def test_info_shows_summary_config_and_metrics(trained, capsys):
    capsys.readouterr()
    assert cli.main(["info", str(trained[1] / "model.safetensors")]) == 0
    out = capsys.readouterr().out
    assert "config:" in out and "metrics:" in out and '"test_accuracy"' in out


def test_train_on_csv_dataset(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    csv = tmp_path / "data.csv"
    np.savetxt(csv, np.column_stack([x, x[:, 0] > 0]), delimiter=",", header="a,b,c,label", comments="")
    out = tmp_path / "run"
    assert cli.main(["train", "--dataset", f"csv:{csv}", "--epochs", "2", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["classes"], metrics["test_samples"]) == (2, 12)


def test_unknown_dataset_exits_2_with_the_valid_names(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--dataset", "mnist"])
    assert exit_info.value.code == 2
    assert "expected one of digits, xor, moons, csv:PATH, got 'mnist'" in capsys.readouterr().err


@pytest.mark.parametrize("argument, value", [("--hidden", "64,x"), ("--optimizer", "adamm"),
                                             ("--activation", "relu7"), ("--epochs", "0"), ("--lr", "-1")])
def test_bad_train_arguments_exit_2(argument, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", argument, value])
    assert exit_info.value.code == 2
    assert f"argument {argument}" in capsys.readouterr().err


def test_missing_csv_file_exits_2_without_traceback(tmp_path, capsys):
    assert cli.main(["train", "--dataset", f"csv:{tmp_path / 'none.csv'}", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule train: error:") and "Traceback" not in err


def test_info_on_a_file_that_is_not_a_model_exits_1(tmp_path, capsys):
    path = tmp_path / "not_a_model.safetensors"
    path.write_bytes(b"hello")
    assert cli.main(["info", str(path)]) == 1
    assert capsys.readouterr().err.startswith("chainrule info: error:")


def test_csv_with_fractional_labels_exits_1(tmp_path, capsys):
    csv = tmp_path / "fractional.csv"
    csv.write_text("1,2,0.5\n3,4,1\n5,6,0\n")
    assert cli.main(["train", "--dataset", f"csv:{csv}", "--out", str(tmp_path)]) == 1
    assert "expected the last column to hold int class labels >= 0" in capsys.readouterr().err


def test_csv_with_a_ragged_row_names_the_line(tmp_path, capsys):
    csv = tmp_path / "ragged.csv"
    csv.write_text("a,b,label\n1,2,0\n3,1\n")
    assert cli.main(["train", "--dataset", f"csv:{csv}", "--out", str(tmp_path)]) == 1
    assert "line 3: expected 3 finite numbers" in capsys.readouterr().err
