"""Data-parallel training over MPI, with Keras 3's ``keras.distribution`` names.

    keras.distribution.set_distribution(keras.distribution.DataParallel())
    model.fit(x, y, batch_size=256)          # launched as: mpiexec -n 4 python train.py

Every rank (process) holds the whole model and the whole data set. ``batch_size`` is the global
batch: at each step rank r takes its contiguous slice of the same global batch (all ranks shuffle
with one permutation), computes the gradient of its slice's mean loss, and one ``Allreduce`` over a
flat buffer sums the gradients, each scaled by its slice's share of the batch (n_r / n):

    g = sum_r (n_r / n) * g_r = (1/n) sum_i g_i,

the gradient a single process computes on the global batch, so the weights after k steps equal a
single process's up to the order of floating-point summation. Initial weights, optimizer state
and the random generator are broadcast from rank 0 when training starts; the loss and every
metric whose state is a sum are reduced over the ranks at the end of each epoch and of
``evaluate``; ``predict`` shards the samples and gathers the outputs on every rank. Only rank 0
prints progress and writes files (``ModelCheckpoint``, ``CSVLogger``, ``BackupAndRestore``,
``TensorBoard``, ``model.save``). An exception on any rank aborts the whole job (MPI ``Abort``)
after printing its message, so no rank waits forever.

Without ``mpiexec`` (or without the ``distributed`` extra: mpi4py and mpich) the world is one
process and everything runs unchanged. MPI is the transport (mpi4py); chainrule writes none.
"""
import os
import sys
import time

from .backend import xp

_STATE = {"distribution": None, "world": None}


class _World:
    """The MPI communicator, or a world of one process when MPI is not there."""

    def __init__(self):
        self.comm, self.mpi = None, None
        if _launched_by_mpi():
            from mpi4py import MPI
            self.comm, self.mpi = MPI.COMM_WORLD, MPI
            if self.comm.Get_size() > 1:
                _abort_on_exception(self.comm)

    @property
    def rank(self):
        return self.comm.Get_rank() if self.comm is not None else 0

    @property
    def size(self):
        return self.comm.Get_size() if self.comm is not None else 1


def _launched_by_mpi():
    """Whether this process runs under mpiexec (the launcher's environment variables) with mpi4py installed."""
    launched = any(key in os.environ for key in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK"))
    if not launched:
        return False
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def _abort_on_exception(comm):
    """An uncaught exception on any rank prints its message and aborts every rank (as ``mpi4py.run``)."""
    previous = sys.excepthook

    def abort(kind, value, trace):
        previous(kind, value, trace)
        sys.stderr.flush()
        time.sleep(0.5)     # the launcher forwards the message before the abort ends every process
        comm.Abort(1)

    sys.excepthook = abort


def _world():
    if _STATE["world"] is None:
        _STATE["world"] = _World()
    return _STATE["world"]


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Start the world (MPI when launched by mpiexec). The arguments are Keras 3's for multi-host JAX and
    are checked against the MPI world when given; MPI's launcher has already placed the processes."""
    world = _world()
    if num_processes is not None and num_processes != world.size:
        raise ValueError(f"num_processes: expected the MPI world's size {world.size}, got {num_processes!r}")
    if process_id is not None and process_id != world.rank:
        raise ValueError(f"process_id: expected this process's MPI rank {world.rank}, got {process_id!r}")
    return world


def rank():
    """This process's rank in the world (0 without MPI)."""
    return _world().rank


def size():
    """The number of processes in the world (1 without MPI)."""
    return _world().size


def list_devices(device_type=None):
    """One CPU device per rank: ['cpu:0', 'cpu:1', ...]."""
    if device_type not in (None, "cpu", "CPU"):
        raise ValueError(f"device_type: chainrule runs on CPUs only; expected None or 'cpu', got {device_type!r}")
    return [f"cpu:{index}" for index in range(size())]


class DataParallel:
    """Data parallelism: every rank holds the whole model and trains on its slice of each global batch.
    ``devices`` (Keras' argument) must list one device per rank when given."""

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        world = _world()
        if devices is not None and len(devices) != world.size:
            raise ValueError(f"devices: expected one device per rank ({world.size}), got {len(devices)}")
        self.world = world
        self.devices = list(devices) if devices is not None else list_devices()
        self.auto_shard_dataset = auto_shard_dataset

    @property
    def is_chief(self):
        return self.world.rank == 0

    @property
    def parallel(self):
        return self.world.size > 1

    # ----- what training calls ----------------------------------------------------------------------
    def broadcast_state(self, model):
        """Rank 0's weights, optimizer state and random generator, on every rank."""
        if not self.parallel:
            return
        comm = self.world.comm
        weights = model.weights
        if weights:
            flat = _flat([w.data for w in weights])
            comm.Bcast(flat, root=0)
            _unflat(flat, [w.data for w in weights])
        if model.optimizer is not None:
            state = comm.bcast(model.optimizer.variables() if self.is_chief else None, root=0)
            if len(state) > 1 or model.optimizer.variables().keys() != state.keys():
                model.optimizer.set_variables(state)
        from .utils import generator_state, set_generator_state
        set_generator_state(comm.bcast(generator_state() if self.is_chief else None, root=0))

    def shard(self, count):
        """The slice of a global batch of ``count`` samples this rank takes (contiguous, as even as can be)."""
        world = self.world
        start = count * world.rank // world.size
        stop = count * (world.rank + 1) // world.size
        return slice(start, stop)

    def reduce_gradients(self, params, local_count, global_count):
        """g <- sum over ranks of (n_r / n) g_r, for each parameter's ``.grad``, with one Allreduce."""
        grads = [p.grad if p.grad is not None else xp.zeros_like(p.data) for p in params]
        flat = _flat(grads, grads[0].dtype if grads else xp.float64)
        flat *= local_count / global_count
        self.world.comm.Allreduce(self.world.mpi.IN_PLACE, flat, op=self.world.mpi.SUM)
        for param, grad in zip(params, _split(flat, grads)):
            param.grad = grad

    def reduce_metrics(self, metrics):
        """Sum each metric's state over the ranks (the loss's running mean, and every metric whose
        state variables are sums: the accuracies, Mean, the confusion counts, AUC's buckets)."""
        if not self.parallel:
            return
        comm, mpi = self.world.comm, self.world.mpi
        for metric in metrics:
            for value, put in _metric_state(metric):
                values = xp.array(value, dtype=xp.float64).reshape(-1)
                total = xp.empty_like(values)
                comm.Allreduce(values, total, op=mpi.SUM)
                put(total.reshape(xp.shape(value)))

    def gather(self, array):
        """Every rank's rows of ``array``, in rank order, on every rank."""
        if not self.parallel:
            return array
        pieces = self.world.comm.allgather(xp.ascontiguousarray(array))
        return xp.concatenate(pieces)


def _metric_state(metric):
    """(value, set(value)) for each additive piece of a metric's state."""
    if hasattr(metric, "total") and hasattr(metric, "count") and not hasattr(metric, "variables"):
        return [(xp.array([metric.total, metric.count]),
                 lambda total, m=metric: (setattr(m, "total", float(total[0])), setattr(m, "count", float(total[1]))))]
    pieces = []
    for variable in getattr(metric, "variables", []):
        pieces.append((variable.value, lambda total, v=variable: v.assign(total.astype(v.dtype))))
    return pieces


def _flat(arrays, dtype=xp.float64):
    """One contiguous buffer (of ``dtype``) holding every array's entries in turn."""
    return xp.concatenate([xp.asarray(a, dtype=dtype).ravel() for a in arrays]) if arrays else xp.zeros(0, dtype)


def _split(flat, like):
    out, start = [], 0
    for array in like:
        out.append(flat[start:start + array.size].reshape(array.shape).astype(array.dtype))
        start += array.size
    return out


def _unflat(flat, arrays):
    for array, values in zip(arrays, _split(flat, arrays)):
        array[...] = values


def set_distribution(value):
    """Train (fit, evaluate, predict) with ``value`` (a DataParallel), or on one process again with None."""
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"value: expected a DataParallel or None, got {type(value).__name__}")
    _STATE["distribution"] = value


def distribution():
    """The distribution set with ``set_distribution``, or None."""
    return _STATE["distribution"]


def active():
    """The distribution when one is set and the world has more than one rank, else None."""
    current = _STATE["distribution"]
    return current if current is not None and current.parallel else None


def is_chief():
    """Whether this process is the one that prints and writes files (rank 0; always without MPI)."""
    current = _STATE["distribution"]
    return current is None or current.is_chief

