"""Tables, rendered as rich tables in a terminal or as markdown: one description, two renderings."""
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Table:
    title: str
    columns: list
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)   # lines printed under the table


def number(value, precision=6):
    return f"{float(value):.{precision}g}"


MAX_SHOWN = 4


def summary(values, fmt=number):
    """An array in one cell: all its values when there are at most ``MAX_SHOWN``, else its shape,
    norm and first values; a list of arrays (a layer with several outputs) one after the other, a dict
    (the inputs of a model with named inputs) each after its name."""
    if isinstance(values, dict):
        return "; ".join(f"{key}: {summary(v, fmt)}" for key, v in values.items())
    if isinstance(values, list):
        return "; ".join(summary(v, fmt) for v in values)
    flat = np.ravel(values)
    listed = ", ".join(fmt(v) for v in flat[:MAX_SHOWN])
    if flat.size <= MAX_SHOWN:
        return f"[{listed}]"
    return f"{tuple(np.shape(values))} ‖·‖ {fmt(np.linalg.norm(flat))}: [{listed}, …]"


def _cell(value):
    return str(value).replace("|", "\\|")


def markdown(tables):
    parts = []
    for table in tables:
        lines = [f"### {table.title}", ""]
        if table.columns:
            lines.append("| " + " | ".join(map(_cell, table.columns)) + " |")
            lines.append("|" + "|".join("---" for _ in table.columns) + "|")
            lines.extend("| " + " | ".join(map(_cell, row)) + " |" for row in table.rows)
            lines.append("")
        lines.extend(f"{note}  " if i < len(table.notes) - 1 else note for i, note in enumerate(table.notes))
        parts.append("\n".join(lines).rstrip())
    return "\n\n".join(parts) + "\n"


def show(tables, console=None):
    """Print ``tables`` with rich (plain markdown when rich is not installed)."""
    try:
        from rich.console import Console
        from rich.table import Table as RichTable
    except ImportError:
        print(markdown(tables))
        return
    console = console or Console()
    for table in tables:
        if table.columns:
            rich_table = RichTable(title=table.title, title_justify="left", title_style="bold")
            for column in table.columns:
                rich_table.add_column(column)
            for row in table.rows:
                rich_table.add_row(*(str(cell) for cell in row))
            console.print(rich_table)
        else:
            console.print(f"[bold]{table.title}[/bold]")
        for note in table.notes:
            console.print(note, markup=False, highlight=False)
        console.print()


MAX_JSON_VALUES = 1024


def listed(value):
    """``value`` as JSON-ready lists and dicts, arrays over ``MAX_JSON_VALUES`` values summarised."""
    if isinstance(value, dict):
        return {key: listed(v) for key, v in value.items()}
    if isinstance(value, list):
        return [listed(v) for v in value]
    if not isinstance(value, np.ndarray):
        return value
    if value.size <= MAX_JSON_VALUES:
        return value.tolist()
    flat = value.ravel()
    return {"shape": list(value.shape), "norm": float(np.linalg.norm(flat)), "min": float(flat.min()),
            "max": float(flat.max()), "first": flat[:8].tolist()}
