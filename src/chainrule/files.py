"""``get_file`` offline: chainrule never downloads; it finds the file Keras would have cached."""
import hashlib
import os


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None, force_download=False):
    """The path ``cache_dir/cache_subdir/fname`` (cache_dir defaults to $KERAS_HOME or ~/.keras; fname to
    the last part of ``origin``) when that file exists, checked against ``file_hash`` (sha256, or md5
    for a 32-digit hash) when one is given. chainrule works offline: it never downloads, so a missing
    file is a FileNotFoundError naming the path to place it at and its origin. ``extract``/``untar``
    and ``force_download`` are not supported (ValueError)."""
    if fname is None:
        if not origin:
            raise ValueError("fname: give fname or origin (the file's name is then the last part of origin)")
        fname = os.path.basename(origin.split("?")[0])
    if extract or untar:
        raise ValueError("extract: chainrule.utils.get_file does not extract archives; extract it yourself")
    if force_download:
        raise ValueError("force_download: chainrule.utils.get_file works offline and never downloads")
    cache_dir = cache_dir or os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    path = fname if os.path.isabs(fname) else os.path.join(cache_dir, cache_subdir, fname)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"fname: {path!r} is not there and chainrule never downloads; fetch "
                                f"{origin or fname!r} yourself and place it at that path")
    expected = file_hash or md5_hash
    if expected:
        algorithm = hash_algorithm if hash_algorithm in ("md5", "sha256") else (
            "md5" if len(expected) == 32 else "sha256")
        digest = hashlib.new(algorithm)
        with open(path, "rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != expected:
            raise ValueError(f"file_hash: {path!r} has {algorithm} {digest.hexdigest()}, expected {expected}")
    return path
