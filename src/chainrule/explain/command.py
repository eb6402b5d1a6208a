"""``chainrule explain``: backpropagation step by step, on a shipped example or any saved model.

    chainrule explain --list
    chainrule explain --example mazur [--check] [--format text|markdown|json] [--plot DIR] [--chain L,I,J]
    chainrule explain --model FILE --input 0.05,0.10 --target 0.01,0.99 [--learning-rate LR] [...]
    chainrule explain --vanishing [--plot DIR]
    chainrule explain --modes
"""
import argparse
import json
import sys
from pathlib import Path

EXIT_CHECK_FAILED = 1


def rows_argument(text):
    """Samples as text: values separated by commas, samples by semicolons ("0,0;0,1")."""
    try:
        rows = [[float(value) for value in row.split(",")] for row in text.split(";") if row.strip()]
    except ValueError:
        rows = None
    if not rows or len({len(row) for row in rows}) != 1:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, samples by semicolons "
                                         f"(e.g. 0.05,0.10 or 0,0;0,1), got {text!r}")
    return rows


def weight_argument(text):
    try:
        numbers = [int(part) for part in text.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) not in (2, 3) or min(numbers) < 0:
        raise argparse.ArgumentTypeError(f"expected LAYER,I,J for kernel[i, j] or LAYER,J for bias[j] "
                                         f"(0-based), got {text!r}")
    return numbers[0], tuple(numbers[1:])


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def add_explain_command(subparsers):
    from .examples import list_examples

    parser = subparsers.add_parser(
        "explain", help="show backpropagation step by step: forward pass, deltas, gradients, update",
        description="Trace one forward and backward pass with the engine's own numbers, on a shipped worked "
                    "example or a saved model; or compare sigmoid and ReLU gradient flow (--vanishing), or "
                    "forward-mode and reverse-mode cost (--modes).")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--example", choices=list_examples(), metavar="NAME",
                      help=f"a shipped worked example: {', '.join(list_examples())}")
    what.add_argument("--model", type=Path, help="a model saved by chainrule (model.safetensors)")
    what.add_argument("--vanishing", action="store_true",
                      help="train the same 10-layer network with sigmoid and with ReLU; per-layer gradient norms")
    what.add_argument("--modes", action="store_true",
                      help="full gradient by forward accumulation (one pass per parameter) vs backpropagation")
    what.add_argument("--list", action="store_true", help="list the shipped examples")
    parser.add_argument("--input", type=rows_argument, help="with --model: the input samples, e.g. 0.05,0.10 "
                        "(each row reshaped to the model's input shape, e.g. steps x channels)")
    parser.add_argument("--target", type=rows_argument, help="with --model: the targets, e.g. 0.01,0.99")
    parser.add_argument("--loss", help="with --model: the loss, when the saved model was not compiled")
    parser.add_argument("--learning-rate", type=positive_float,
                        help="learning rate of the update phase (default: the example's, or the model's SGD's)")
    parser.add_argument("--check", action="store_true",
                        help="verify every delta and gradient with central finite differences in float64 "
                             "(and an example's numbers against its source); exit 1 on a mismatch")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument("--chain", type=weight_argument, metavar="LAYER,I,J",
                        help="also write out the chain rule for kernel[I, J] of layer LAYER (0-based; LAYER,J: bias)")
    parser.add_argument("--plot", type=Path, metavar="DIR", help="write the pictures to this folder")
    parser.set_defaults(run=run_explain)


def run_explain(args):
    if args.list:
        return _list()
    if args.vanishing:
        return _vanishing(args)
    if args.modes:
        return _modes(args)
    if args.model is not None and (args.input is None or args.target is None):
        raise ValueError("--model needs --input and --target")
    if args.example is not None:
        from .examples import load_example
        example = load_example(args.example)
        run, names, expected = example.trace(), example.names, example.expected
        heading = f"{example.title}\n{example.description}"
    else:
        run, names, expected = _model_trace(args), None, {}
        heading = f"model {args.model}"
    if args.learning_rate is not None:
        run.learning_rate = args.learning_rate
    _print_trace(run, heading, args.format)
    if args.chain is not None:
        _print_chain(run, names, args.chain, args.format)
    status = 0
    if args.check:
        status = _check(run, names, expected)
    if args.plot is not None:
        _plot(run, args.plot)
    return status


def _list():
    from .examples import list_examples, load_example
    for name in list_examples():
        print(f"{name:22s} {load_example(name).title}")
    return 0


def _model_trace(args):
    import numpy as np

    from ..models import load_model
    from .trace import trace

    model = load_model(str(args.model))
    if args.loss is not None:
        model.compile(optimizer=model.optimizer or "sgd", loss=args.loss)
    if model.loss is None:
        raise ValueError(f"{args.model}: the saved model has no loss; pass --loss")
    x = np.array(args.input)
    sample_shape = None if model.input_shape is None else model.input_shape[1:]
    if sample_shape is not None and x.shape[1:] != sample_shape and x.shape[1] == np.prod(sample_shape):
        x = x.reshape(len(x), *sample_shape)   # flat rows for a model over sequences or images
    return trace(model, x, np.array(args.target), args.learning_rate)


def _print_trace(run, heading, output_format):
    if output_format == "json":
        print(run.to_json())
    elif output_format == "markdown":
        print("## " + heading.replace("\n", "\n\n") + "\n")
        print(run.to_markdown())
    else:
        print(heading + "\n")
        run.show()


def _print_chain(run, names, weight, output_format):
    from .chain import chain

    layer, index = weight
    result = chain(run.model, run.x, run.y, layer, index, names=names)
    if output_format == "json":
        return
    if output_format == "markdown":
        print(result.to_markdown())
    else:
        result.show()


def _check(run, names, expected):
    report = run.check()
    print(report)
    ok = report.ok
    if expected:
        from .examples import compare_expected
        rows = compare_expected(run, names, expected)
        for what, wanted, got, agrees in rows:
            print(f"  {'ok  ' if agrees else 'FAIL'} {what}: source {wanted:.10g}, chainrule {got:.10g}")
        ok = ok and all(row[3] for row in rows)
    return 0 if ok else EXIT_CHECK_FAILED


def _plot(run, folder):
    from .plots import animate, plot_network
    folder.mkdir(parents=True, exist_ok=True)
    written = [plot_network(run, folder / "network.png"), animate(run, folder / "passes.gif")]
    print("wrote " + ", ".join(map(str, written)))


def _print_tables(tables, output_format):
    from . import render
    if output_format == "markdown":
        print(render.markdown(tables))
    elif output_format == "json":
        print(json.dumps([{"title": t.title, "columns": t.columns, "rows": t.rows, "notes": t.notes} for t in tables],
                         indent=2, default=str))
    else:
        render.show(tables)


def _vanishing(args):
    from . import render
    from .monitor import vanishing_comparison

    monitors = vanishing_comparison()
    table = render.Table("Per-layer gradient norm ||dL/dW||, last epoch: the same 10-layer network",
                         ["layer"] + [f"{name}" for name in monitors])
    depth = len(next(iter(monitors.values())).norms[-1])
    for l in range(depth):
        table.rows.append([l + 1] + [f"{m.norms[-1][l]:.3e}" for m in monitors.values()])
    table.rows.append(["first / last"] + [f"{m.ratios[-1]:.2e}" for m in monitors.values()])
    for name, m in monitors.items():
        verdict = "VANISHING (first/last < 1e-3)" if m.vanishing else (
            "EXPLODING (first/last > 1e3)" if m.exploding else "healthy")
        table.notes.append(f"{name}: {verdict}")
    table.notes.append("layer 1 is next to the input; sigmoid uses Glorot init, ReLU He init; "
                       "each sigmoid slope is at most 1/4, so deltas shrink layer by layer")
    _print_tables([table], args.format)
    if args.plot is not None:
        from .plots import plot_gradient_flow
        args.plot.mkdir(parents=True, exist_ok=True)
        print(f"wrote {plot_gradient_flow(monitors, args.plot / 'gradient_flow.png')}")
    return 0


def _modes(args):
    from .modes import compare_modes, modes_table

    results = compare_modes()
    _print_tables([modes_table(results)], args.format)
    worst = max(r.max_difference for r in results)
    if worst > 1e-10:
        print(f"the two gradients differ by {worst:.2e} > 1e-10", file=sys.stderr)
        return EXIT_CHECK_FAILED
    return 0
