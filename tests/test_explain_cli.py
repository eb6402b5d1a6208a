"""``chainrule explain``: every shipped example with --check, formats, pictures, saved models."""
import json

import pytest

import chainrule
from chainrule.cli import main
from chainrule.explain import list_examples
from chainrule.layers import Dense
from chainrule.models import Sequential


@pytest.mark.parametrize("name", list_examples())
def test_every_shipped_example_passes_its_check(name, capsys):
    assert main(["explain", "--example", name, "--check"]) == 0
    out = capsys.readouterr().out
    assert "check passed" in out and "Forward pass" in out and "FAIL" not in out


def test_mazur_check_compares_the_numbers_of_the_source(capsys):
    main(["explain", "--example", "mazur", "--check"])
    out = capsys.readouterr().out
    assert "ok   loss: source 0.298371109" in out
    assert "ok   w5 after one step: source 0.35891648" in out


def test_markdown_format_and_the_chain_of_one_weight(capsys):
    assert main(["explain", "--example", "one-two-one", "--format", "markdown", "--chain", "0,0,0"]) == 0
    out = capsys.readouterr().out
    assert "### Delta rule, layer 1" in out
    assert "### dE/dw11 = 2(o - y) · o(1 - o) · w21 · h1(1 - h1) · x1" in out


def test_json_format_is_the_trace(capsys):
    assert main(["explain", "--example", "xor", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["layers"]) == 2 and len(data["output"]) == 4


def test_plot_writes_the_network_and_the_animation(tmp_path, capsys):
    assert main(["explain", "--example", "single-neuron", "--plot", str(tmp_path)]) == 0
    assert (tmp_path / "network.png").stat().st_size > 0
    assert (tmp_path / "passes.gif").stat().st_size > 0


def test_a_saved_model_is_explained_and_checked(tmp_path, capsys):
    chainrule.utils.set_random_seed(0)
    model = Sequential([Dense(3, activation="tanh", input_dim=2), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.save(str(tmp_path / "model.safetensors"))
    status = main(["explain", "--model", str(tmp_path / "model.safetensors"), "--input", "0.5,-1;1,2",
                   "--target", "1,0;0,1", "--check"])
    assert status == 0
    out = capsys.readouterr().out
    assert "Output delta: softmax fused with the cross-entropy" in out and "check passed" in out


def test_model_without_input_is_a_usage_error(tmp_path, capsys):
    assert main(["explain", "--model", str(tmp_path / "missing.safetensors")]) == 2
    assert "--input" in capsys.readouterr().err


def test_bad_input_text_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["explain", "--model", "m.safetensors", "--input", "a,b", "--target", "1"])
    assert exit_info.value.code == 2


def test_vanishing_shows_sigmoid_and_relu_side_by_side(tmp_path, capsys):
    assert main(["explain", "--vanishing", "--format", "markdown", "--plot", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| layer | sigmoid | relu |" in out
    assert "sigmoid: VANISHING" in out and "relu: healthy" in out
    assert (tmp_path / "gradient_flow.png").exists()


def test_modes_compares_forward_and_reverse_mode(capsys):
    assert main(["explain", "--modes", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "one jvp pass per parameter" in out and "agree to" in out
