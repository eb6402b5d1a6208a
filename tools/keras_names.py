"""Write docs/keras.md: every public name of Keras 3's modules (the installed keras), with a check mark where
chainrule has it under the same name, else why it is absent. Run it when either side changes:

    KERAS_BACKEND=jax python tools/keras_names.py
"""
import importlib
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

MODULES = ["layers", "losses", "metrics", "optimizers", "optimizers.schedules", "callbacks", "activations",
           "initializers", "regularizers", "constraints", "ops", "random", "utils", "saving", "models"]

# why a Keras name is absent, by the first rule whose words it contains (case-sensitive), else the default
REASONS = [
    (("Jax", "Flax", "Orbax", "Torch", "TF", "TFSM"), "tied to another backend's objects; chainrule has one backend, NumPy"),
    (("Random", "AugMix", "AutoContrast", "CutMix", "MixUp", "Equalization", "Solarization", "Resizing",
      "CenterCrop", "ContrastLimited", "BoundingBox", "bounding_boxes", "img", "image_dataset", "MelSpectrogram",
      "STFT", "stft", "audio_dataset"),
     "image and audio preprocessing: not yet (issue 11 lists the layers it asks for; these are beyond them)"),
    (("legacy", "Legacy"), "Keras 2 compatibility module: not provided"),
    (("deserialize", "serialize_keras_object", "KerasFileEditor"), "chainrule saves with its own safetensors format; use "
                                                                 "each module's get/serialize"),
]
DEFAULT = "not yet: Keras breadth (issue 11) is landing in slices"


def reason(name):
    for words, why in REASONS:
        if any(word in name for word in words):
            return why
    return DEFAULT


def main():
    import chainrule
    lines = ["# Keras 3 names in chainrule", "",
             f"Every public name of Keras {importlib.import_module('keras').__version__}'s modules, checked against "
             f"chainrule {chainrule.__version__} by `tools/keras_names.py` (which wrote this file): ✔ where "
             "`chainrule.<module>.<name>` exists, else why not. `tests/test_keras_names.py` checks that every ✔ "
             "still holds.", ""]
    total = present = 0
    for module in MODULES:
        theirs = importlib.import_module(f"keras.{module}")
        ours = importlib.import_module(f"chainrule.{module}")
        names = sorted(name for name in dir(theirs) if not name.startswith("_"))
        have = [name for name in names if hasattr(ours, name)]
        total, present = total + len(names), present + len(have)
        lines += [f"## keras.{module} ({len(have)} of {len(names)})", "", "| name | chainrule |", "|---|---|"]
        lines += [f"| `{name}` | {'✔' if name in have else reason(name)} |" for name in names]
        lines.append("")
    lines.insert(4, f"In all: {present} of {total} names.")
    lines.insert(5, "")
    Path(__file__).resolve().parent.parent.joinpath("docs", "keras.md").write_text("\n".join(lines))
    print(f"{present} of {total} names")


if __name__ == "__main__":
    main()
