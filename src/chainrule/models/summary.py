"""``Model.summary``: the table of layers (name and type, output shape, parameter count) and the totals."""
import sys


def summary_rows(model):
    """(title, header, rows, footer) of ``model``'s summary table."""
    rows = [(f"{layer.name} ({type(layer).__name__})", shape_text(layer.output_shape), f"{layer.count_params():,}")
            for layer in model.layers]
    total, trainable = model.count_params(), sum(int(w.size) for w in model.trainable_weights)
    footer = [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}"]
    return f'Model: "{model.name}"', ("Layer (type)", "Output Shape", "Param #"), rows, footer


def print_summary(model, print_fn=None):
    """Print the table: a rich table on a terminal, plain text otherwise (or to ``print_fn``); returns the plain text."""
    table = summary_rows(model)
    text = plain_table(*table)
    if print_fn is not None:
        print_fn(text)
    elif sys.stdout.isatty():
        print_rich_table(*table)
    else:
        print(text)
    return text


def shape_text(shape):
    return "?" if shape is None else "(" + ", ".join("None" if n is None else str(n) for n in shape) + ")"


def plain_table(title, header, rows, footer):
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join("{:<%d}" % w for w in widths)
    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    body = [line.format(*row) for row in rows]
    return "\n".join([title, rule, line.format(*header), rule, *body, rule, *footer])


def print_rich_table(title, header, rows, footer):
    from rich.console import Console
    from rich.table import Table
    table = Table(title=title, caption="\n".join(footer))
    for i, name in enumerate(header):
        table.add_column(name, justify="right" if i == 2 else "left")
    for row in rows:
        table.add_row(*row)
    Console().print(table)
