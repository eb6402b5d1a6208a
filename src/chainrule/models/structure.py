"""Structures of a model's inputs, outputs and data: one value, a list (or tuple), or a dict by name.

``flatten`` gives the entries in order (a dict's in its key order); ``pack_like`` puts a flat
list back into a structure's shape; ``flatten_like`` reads the entries a structure expects from
data given as one value, a list in the same order, or a dict by name.
"""


def is_nested(value):
    return isinstance(value, (list, tuple, dict))


def flatten(value):
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def pack_like(layout, flat):
    """``flat`` in the shape of ``layout``: one value, a list, or a dict with ``layout``'s keys."""
    if isinstance(layout, dict):
        return dict(zip(layout, flat))
    if isinstance(layout, (list, tuple)):
        return list(flat)
    return flat[0]


def flatten_like(value, layout, names, argument):
    """The entries of ``value`` in the order of ``layout`` (whose entries are called ``names``): ``value``
    is one entry (when ``layout`` has one), a list or tuple in order, or a dict by name."""
    count = len(names)
    if isinstance(value, dict):
        unknown = [key for key in value if key not in names]
        missing = [name for name in names if name not in value]
        if unknown or missing:
            raise ValueError(f"{argument}: expected a dict with the keys {names}, got keys {list(value)}"
                             + (f" ({unknown} name no input or output)" if unknown else ""))
        return [value[name] for name in names]
    if isinstance(value, (list, tuple)) and (count > 1 or is_nested(layout)):
        if len(value) != count:
            raise ValueError(f"{argument}: expected {count} entries ({', '.join(names)}), got {len(value)}")
        return list(value)
    if count != 1:
        raise ValueError(f"{argument}: expected {count} entries ({', '.join(names)}) as a list or a dict, "
                         f"got one {type(value).__name__}")
    return [value]


def describe(layout, indices):
    """A JSON description of ``layout`` whose entries are ``indices``, for a model's config."""
    if isinstance(layout, dict):
        return {"keys": list(layout), "indices": indices}
    if isinstance(layout, (list, tuple)):
        return {"indices": indices}
    return {"index": indices[0]}


def rebuild(description, values):
    """The structure ``describe`` wrote, with ``values[i]`` for each index i."""
    if "index" in description:
        return values[description["index"]]
    entries = [values[i] for i in description["indices"]]
    return dict(zip(description["keys"], entries)) if "keys" in description else entries
