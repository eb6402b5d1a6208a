"""docs/keras.md, the table of Keras 3's names, stays true: every name it marks present exists in chainrule."""
import importlib
import re
from pathlib import Path

import pytest

TABLE = Path(__file__).resolve().parent.parent / "docs" / "keras.md"


def marked_present():
    module, found = None, []
    for line in TABLE.read_text().splitlines():
        heading = re.match(r"## keras\.([\w.]+) ", line)
        if heading:
            module = heading.group(1)
        row = re.match(r"\| `(\w+)` \| ✔ \|", line)
        if row:
            found.append((module, row.group(1)))
    return found


def test_the_table_lists_names_as_present():
    assert len(marked_present()) > 400


@pytest.mark.parametrize("module, name", marked_present(), ids=lambda value: str(value))
def test_a_name_the_table_marks_present_exists(module, name):
    assert hasattr(importlib.import_module(f"chainrule.{module}"), name)
