"""libsscma from Python: a thin ctypes layer over the C API (no logic of its own).

    import sscma
    ctx = sscma.Context(threads=2, seed=0)
    model = sscma.Model(ctx, {"type": "ImageClassifier", ...})
    q = sscma.quantize(model, sscma.Loader(ctx, dataset, {...}))
    q.export_tflite("model_int8.tflite")
    probs = sscma.QModel.load_tflite(ctx, "model_int8.tflite").run(images)   # numpy in, numpy out

Errors raise sscma.SscmaError with the library's message. Handles free their C object when garbage-collected or on
close(), in whatever order that happens (docs/reliability.md, "Lifetimes"): every object keeps a reference to its
Context (`.ctx`) and to the objects its C object uses (a Loader its Dataset, a Trainer its Model and Loaders); an
object closed while others still use it is freed after the last of them; and the C context itself stays alive
until the last object made from it is destroyed (sscma_context_destroy), so a garbage collector that finalizes a
reference cycle in any order cannot free memory still in use.
"""
import ctypes
import json

import numpy as np

from ._lib import (DTYPE_F32, DTYPE_I8, DTYPE_I32, TRAIN_CALLBACK, ContextOptions, PredictOptions, Prediction,
                   QatOptions, QuantOptions, SscmaError, VerifyReport, check, destroy, fn, version as _version)

__all__ = ["Config", "Context", "Dataset", "Loader", "Metric", "Model", "Optimizer", "QModel", "Runner", "Scheduler",
           "SscmaError", "Trainer", "quantize", "qat_prepare", "qat_convert", "read_image", "version"]

_NP = {DTYPE_F32: np.float32, DTYPE_I8: np.int8, DTYPE_I32: np.int32, 3: np.uint8}
_OBSERVERS = {"minmax": 1, "moving_average": 2, "percentile": 3}


def version():
    """The library's version string."""
    return _version().decode()


def _text(config):
    return (config if isinstance(config, str) else json.dumps(config)).encode()


class _Handle:
    """A C object. `uses` are the wrappers whose C objects this one's uses (a Loader's Dataset, a Trainer's Model):
    while this one is open they are not freed, even when closed or finalized first (a reference cycle collected at
    exit finalizes its members in any order); their destroy waits for the last user's. The Context is not among
    them: the C library keeps a context alive until its last object is destroyed."""
    _destroy = None
    _borrowed = False
    _ptr = None  # class defaults: __del__ of an object whose __init__ failed has nothing to do
    _closed = True
    _users = 0
    _uses = ()

    def __init__(self, ptr, owner=None, ctx=None, uses=()):
        self._ptr = ptr
        self._owner = owner  # keeps the context (or the model) alive
        self.ctx = ctx  # every object made from a context keeps a reference to its Context wrapper
        self._free = destroy[self._destroy] if self._destroy else None  # bound now: module globals go at exit
        self._closed = False
        self._users = 0  # open wrappers whose C objects use this one's
        self._uses = tuple(u for u in uses if isinstance(u, _Handle))
        for u in self._uses:
            u._users += 1

    @classmethod
    def _borrow(cls, ptr, owner, **attrs):
        """A wrapper of a C object that `owner` owns and frees (the runner's model, loaders, trainer)."""
        obj = cls.__new__(cls)
        _Handle.__init__(obj, ptr, owner, ctx=getattr(owner, "ctx", None), uses=(owner,))
        obj._borrowed = True
        for k, v in attrs.items():
            setattr(obj, k, v)
        return obj

    def close(self):
        """Frees the C object (later calls fail); a borrowed handle is only forgotten. While other open objects use
        this one (a Loader its Dataset), the C object is freed when the last of them is closed."""
        self._closed = True
        self._release()

    def _release(self):
        if not self._closed or self._users > 0 or not self._ptr:
            return
        ptr, self._ptr = self._ptr, None
        if not self._borrowed:
            self._free(ptr)
        uses, self._uses = self._uses, ()
        for u in uses:
            u._users -= 1
            u._release()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    @property
    def handle(self):
        if self._closed or not self._ptr:
            raise SscmaError(-10, "SSCMA_ERR_STATE", f"{type(self).__name__} is closed")
        return self._ptr


def _view(tensor_ptr):
    """A numpy array over a tensor's memory (no copy), valid as long as the tensor is."""
    dtype, rank = ctypes.c_int(), ctypes.c_int32()
    check(fn["sscma_tensor_dtype"](tensor_ptr, ctypes.byref(dtype)))
    check(fn["sscma_tensor_rank"](tensor_ptr, ctypes.byref(rank)))
    shape = []
    for i in range(rank.value):
        d = ctypes.c_int64()
        check(fn["sscma_tensor_dim"](tensor_ptr, i, ctypes.byref(d)))
        shape.append(d.value)
    data = ctypes.c_void_p()
    check(fn["sscma_tensor_data"](tensor_ptr, ctypes.byref(data)))
    ctype = {DTYPE_F32: ctypes.c_float, DTYPE_I8: ctypes.c_int8, DTYPE_I32: ctypes.c_int32}.get(dtype.value,
                                                                                             ctypes.c_uint8)
    count = int(np.prod(shape)) if shape else 1
    if count == 0:
        return np.zeros(shape, dtype=_NP[dtype.value])
    buf = (ctype * count).from_address(data.value)
    return np.frombuffer(buf, dtype=_NP[dtype.value]).reshape(shape)


class _Wrapped(_Handle):
    """A libsscma tensor viewing a numpy array (kept alive with it)."""
    _destroy = "sscma_tensor_destroy"

    def __init__(self, ctx, array):
        array = np.ascontiguousarray(array)
        dtype = {np.dtype(np.float32): DTYPE_F32, np.dtype(np.int8): DTYPE_I8,
                 np.dtype(np.int32): DTYPE_I32}.get(array.dtype)
        if dtype is None:
            raise TypeError(f"arrays of {array.dtype} cannot be passed to libsscma (float32, int8 or int32)")
        dims = (ctypes.c_int64 * max(array.ndim, 1))(*array.shape)
        ptr = ctypes.c_void_p()
        check(fn["sscma_tensor_wrap"](ctx.handle, dtype, array.ndim, dims, array.ctypes.data_as(ctypes.c_void_p),
                                      array.nbytes, ctypes.byref(ptr)))
        super().__init__(ptr, ctx, ctx=ctx)
        self.array = array


class Context(_Handle):
    """Threads, seed and memory for everything made from it (sscma_context_create)."""
    _destroy = "sscma_context_destroy"

    def __init__(self, threads=0, seed=0):
        opts = ContextOptions()
        check(fn["sscma_context_options_init"](ctypes.byref(opts), ctypes.sizeof(opts)))
        opts.num_threads = threads
        opts.seed = seed
        ptr = ctypes.c_void_p()
        check(fn["sscma_context_create"](ctypes.byref(opts), ctypes.byref(ptr)))
        super().__init__(ptr)


class Dataset(_Handle):
    """A dataset from a config ({"type": "FashionMNIST", ...}; docs/data.md)."""
    _destroy = "sscma_dataset_destroy"

    def __init__(self, ctx, config):
        ptr = ctypes.c_void_p()
        check(fn["sscma_dataset_open"](ctx.handle, _text(config), ctypes.byref(ptr)))
        super().__init__(ptr, ctx, ctx=ctx)

    def __len__(self):
        n = ctypes.c_int64()
        check(fn["sscma_dataset_size"](self.handle, ctypes.byref(n)))
        return n.value

    @property
    def classes(self):
        """The class names, in index order."""
        n = ctypes.c_int32()
        check(fn["sscma_dataset_num_classes"](self.handle, ctypes.byref(n)))
        names = []
        for i in range(n.value):
            v = ctypes.c_char_p()
            check(fn["sscma_dataset_class_name"](self.handle, i, ctypes.byref(v)))
            names.append(v.value.decode())
        return names


class Loader(_Handle):
    """Batches of a dataset through a pipeline ({"batch_size": 32, "pipeline": [...]}; docs/data.md)."""
    _destroy = "sscma_loader_destroy"

    def __init__(self, ctx, dataset, config):
        ptr = ctypes.c_void_p()
        check(fn["sscma_loader_create"](ctx.handle, dataset.handle, _text(config), ctypes.byref(ptr)))
        super().__init__(ptr, (ctx, dataset), ctx=ctx, uses=(dataset,))


class Model(_Handle):
    """A model from an SSCMA-style config (docs/models.md)."""
    _destroy = "sscma_model_destroy"

    def __init__(self, ctx, config):
        ptr = ctypes.c_void_p()
        check(fn["sscma_model_create"](ctx.handle, _text(config), ctypes.byref(ptr)))
        super().__init__(ptr, ctx, ctx=ctx)

    def load(self, path):
        check(fn["sscma_model_load"](self.handle, str(path).encode()))

    def save(self, path, compress=False):
        check(fn["sscma_model_save"](self.handle, str(path).encode(), 1 if compress else 0))

    def prepare(self, batch, training=False):
        check(fn["sscma_model_prepare"](self.handle, batch, 1 if training else 0))

    def input(self, name="image"):
        """A numpy view of input `name` at the prepared batch: write the batch into it."""
        t = ctypes.c_void_p()
        check(fn["sscma_model_input"](self.handle, name.encode(), ctypes.byref(t)))
        return _view(t)

    def output(self, name):
        """A numpy view of output `name` after forward()."""
        t = ctypes.c_void_p()
        check(fn["sscma_model_output"](self.handle, name.encode(), ctypes.byref(t)))
        return _view(t)

    def forward(self):
        check(fn["sscma_model_forward"](self.handle))

    def backward(self):
        """Gradients of the "loss" output of the last forward (they accumulate: see zero_grad)."""
        check(fn["sscma_model_backward"](self.handle))

    def zero_grad(self):
        check(fn["sscma_model_zero_grad"](self.handle))

    def stats(self):
        """(learned parameters, multiply-accumulates per sample)."""
        p, m = ctypes.c_int64(), ctypes.c_int64()
        check(fn["sscma_model_stats"](self.handle, ctypes.byref(p), ctypes.byref(m)))
        return p.value, m.value


class QModel(_Handle):
    """A deployable model, float or int8 (quant.h): run numpy batches, export files."""
    _destroy = "sscma_qmodel_destroy"

    def __init__(self, ptr, ctx):
        super().__init__(ptr, ctx, ctx=ctx)
        self._batch = 0

    @classmethod
    def from_model(cls, model):
        """The float deployable form of a model (batch norms folded)."""
        ptr = ctypes.c_void_p()
        check(fn["sscma_qmodel_from_model"](model.handle, ctypes.byref(ptr)))
        return cls(ptr, model.ctx)

    @classmethod
    def load_tflite(cls, ctx, path):
        ptr = ctypes.c_void_p()
        check(fn["sscma_qmodel_load_tflite"](ctx.handle, str(path).encode(), ctypes.byref(ptr)))
        return cls(ptr, ctx)

    @property
    def is_int8(self):
        v = ctypes.c_int()
        check(fn["sscma_qmodel_is_int8"](self.handle, ctypes.byref(v)))
        return bool(v.value)

    def run(self, images):
        """Runs float NHWC images [N, H, W, C] (quantized for an int8 model); returns the first output as float."""
        images = np.ascontiguousarray(images, dtype=np.float32)
        if images.shape[0] != self._batch:
            check(fn["sscma_qmodel_prepare"](self.handle, images.shape[0]))
            self._batch = images.shape[0]
        out_t = ctypes.c_void_p()
        check(fn["sscma_qmodel_output"](self.handle, 0, ctypes.byref(out_t), None))
        out = np.empty(_view(out_t).shape, dtype=np.float32)
        src, dst = _Wrapped(self.ctx, images), _Wrapped(self.ctx, out)
        check(fn["sscma_qmodel_set_input"](self.handle, 0, src.handle))
        check(fn["sscma_qmodel_run"](self.handle))
        check(fn["sscma_qmodel_get_output"](self.handle, 0, dst.handle))
        return out

    def set_meta(self, key, value):
        """Metadata written into exported files (None removes the key)."""
        check(fn["sscma_qmodel_set_meta"](self.handle, key.encode(), None if value is None else str(value).encode()))

    def meta(self, key):
        v = ctypes.c_char_p()
        check(fn["sscma_qmodel_meta"](self.handle, key.encode(), ctypes.byref(v)))
        return v.value.decode()

    def memory(self, as_int8=False):
        """(weight bytes, activation arena bytes) of a deployment at batch 1 (sscma_qmodel_memory)."""
        w, a = ctypes.c_int64(), ctypes.c_int64()
        check(fn["sscma_qmodel_memory"](self.handle, 1 if as_int8 else 0, ctypes.byref(w), ctypes.byref(a)))
        return w.value, a.value

    def predict(self, image, score_threshold=None, top_k=5, capacity=256, task=None, iou_threshold=None):
        """Runs one uint8 image [H, W, C] as the device does (sscma_predict); returns a list of dicts, best first:
        {"class", "score"} for a classifier, plus "x", "y", "w", "h" for FOMO and YOLO; {"point", "x", "y"} for PFLD.
        task ("cls", "fomo", "pfld", "yolo") says the output's layout of a file without libsscma's metadata (else
        recognised as SSCMA-Micro does); iou_threshold is YOLO's non-maximum suppression's (default 0.45)."""
        image = np.ascontiguousarray(image, dtype=np.uint8)
        if image.ndim == 2:
            image = image[:, :, None]
        opts = PredictOptions()
        check(fn["sscma_predict_options_init"](ctypes.byref(opts), ctypes.sizeof(opts)))
        if score_threshold is not None:
            opts.score_threshold = score_threshold
        opts.top_k = top_k
        if task is not None:
            opts.task = task.encode()
        if iou_threshold is not None:
            opts.iou_threshold = iou_threshold
        dims = (ctypes.c_int64 * 3)(*image.shape)
        t = ctypes.c_void_p()
        check(fn["sscma_tensor_create"](self.ctx.handle, 3, 3, dims, ctypes.byref(t)))
        try:
            _view(t)[...] = image
            res, n = (Prediction * capacity)(), ctypes.c_int32()
            check(fn["sscma_predict"](self.handle, t, ctypes.byref(opts), res, capacity, ctypes.byref(n)))
        finally:
            destroy["sscma_tensor_destroy"](t)
        self._batch = 1
        chosen = ctypes.c_char_p()
        check(fn["sscma_predict_task"](self.handle, ctypes.byref(opts), ctypes.byref(chosen)))
        kind = chosen.value.decode()
        out = []
        for r in res[:min(n.value, capacity)]:
            if kind == "pfld":
                out.append({"point": r.class_id, "x": r.x, "y": r.y})
            elif kind in ("fomo", "yolo"):
                out.append({"class": r.class_id, "score": r.score, "x": r.x, "y": r.y, "w": r.w, "h": r.h})
            else:
                out.append({"class": r.class_id, "score": r.score})
        return out

    def export_tflite(self, path):
        check(fn["sscma_export_tflite"](self.handle, str(path).encode()))

    def export_onnx(self, path):
        check(fn["sscma_export_onnx"](self.handle, str(path).encode()))

    def export_c_array(self, header, source, symbol):
        check(fn["sscma_export_c_array"](self.handle, str(header).encode(), str(source).encode(), symbol.encode()))

    def verify(self, path, loader):
        """Reads the TFLite file back and compares it with this model on the loader's data (a dict of the report)."""
        r = VerifyReport()
        r.struct_size = ctypes.sizeof(r)
        check(fn["sscma_export_verify"](self.handle, str(path).encode(), loader.handle, ctypes.byref(r)))
        self._batch = 0  # verification re-prepares the model
        return {"samples": r.samples, "values": r.values, "values_differing": r.values_differing,
                "max_abs_diff": r.max_abs_diff, "metric": r.metric_name.decode(), "metric_model": r.metric_model,
                "metric_file": r.metric_file}


def quantize(model, calib, observer="minmax", calib_batches=32, averaging_constant=0.01, percentile=99.99):
    """Post-training int8 quantization calibrated on a Loader (sscma_quantize)."""
    if observer not in _OBSERVERS:
        raise ValueError(f"observer must be one of {', '.join(_OBSERVERS)}")
    opts = QuantOptions()
    check(fn["sscma_quant_options_init"](ctypes.byref(opts), ctypes.sizeof(opts)))
    opts.observer, opts.calib_batches = _OBSERVERS[observer], calib_batches
    opts.averaging_constant, opts.percentile = averaging_constant, percentile
    ptr = ctypes.c_void_p()
    check(fn["sscma_quantize"](model.handle, calib.handle, ctypes.byref(opts), ctypes.byref(ptr)))
    return QModel(ptr, model.ctx)


def qat_prepare(model, freeze_observer_epoch=1, freeze_bn_epoch=1, averaging_constant=0.01):
    """Prepares a model for quantization-aware training (sscma_qat_prepare)."""
    opts = QatOptions()
    check(fn["sscma_qat_options_init"](ctypes.byref(opts), ctypes.sizeof(opts)))
    opts.freeze_observer_epoch, opts.freeze_bn_epoch = freeze_observer_epoch, freeze_bn_epoch
    opts.averaging_constant = averaging_constant
    check(fn["sscma_qat_prepare"](model.handle, ctypes.byref(opts)))


def qat_convert(model):
    """The int8 deployable model of a QAT-trained model."""
    ptr = ctypes.c_void_p()
    check(fn["sscma_qat_convert"](model.handle, ctypes.byref(ptr)))
    return QModel(ptr, model.ctx)


def _results(metric_ptr):
    n = ctypes.c_int32()
    check(fn["sscma_metric_result_count"](metric_ptr, ctypes.byref(n)))
    out = {}
    for i in range(n.value):
        name, value = ctypes.c_char_p(), ctypes.c_double()
        check(fn["sscma_metric_result"](metric_ptr, i, ctypes.byref(name), ctypes.byref(value)))
        out[name.value.decode()] = value.value
    return out


class Metric(_Handle):
    """An evaluator ({"type": "Accuracy", "topk": [1, 5]}, FomoMetric, PointMetric, MSE; metrics.h)."""
    _destroy = "sscma_metric_destroy"

    def __init__(self, ctx, config):
        ptr = ctypes.c_void_p()
        check(fn["sscma_metric_create"](_text(config), ctypes.byref(ptr)))
        super().__init__(ptr, ctx, ctx=ctx)

    def update(self, pred, target, count=None):
        """Adds a batch: pred float32, target int32 labels or float32 (as metrics.h describes)."""
        p, t = _Wrapped(self.ctx, pred), _Wrapped(self.ctx, target)
        check(fn["sscma_metric_update"](self.handle, p.handle, t.handle, len(pred) if count is None else count))

    def reset(self):
        check(fn["sscma_metric_reset"](self.handle))

    def results(self):
        """{name: value} of the samples seen."""
        return _results(self.handle)


class Trainer(_Handle):
    """The epoch loop (train.h) with an optional progress callback: callback(dict) returning True cancels."""
    _destroy = "sscma_trainer_destroy"

    def __init__(self, model, train, val, config, callback=None):
        ptr = ctypes.c_void_p()
        check(fn["sscma_trainer_create"](model.handle, train.handle, val.handle if val is not None else None,
                                         _text(config), ctypes.byref(ptr)))
        super().__init__(ptr, (model, train, val), ctx=model.ctx, uses=(model, train, val))
        self._callback = None
        if callback is not None:
            self.set_callback(callback)

    def set_callback(self, callback):
        def trampoline(progress, user):
            del user
            p = progress.contents
            info = {k: getattr(p, k) for k, _ in p._fields_ if k != "struct_size"}
            try:
                return 1 if callback(info) else 0
            except Exception:  # an exception in the callback stops training rather than crossing into C
                return 1
        self._callback = TRAIN_CALLBACK(trampoline) if callback is not None else TRAIN_CALLBACK()
        check(fn["sscma_trainer_set_callback"](self.handle, self._callback, None))

    def train(self):
        check(fn["sscma_trainer_train"](self.handle))

    def validate(self):
        """The validation metric's results ({"accuracy/top1": ...})."""
        m = ctypes.c_void_p()
        check(fn["sscma_trainer_validate"](self.handle, ctypes.byref(m)))
        return _results(m)

    def save(self, path):
        check(fn["sscma_trainer_save"](self.handle, str(path).encode()))

    def resume(self, path):
        check(fn["sscma_trainer_resume"](self.handle, str(path).encode()))

    def position(self):
        """(finished epochs, iterations)."""
        e, i = ctypes.c_int64(), ctypes.c_int64()
        check(fn["sscma_trainer_position"](self.handle, ctypes.byref(e), ctypes.byref(i)))
        return e.value, i.value


class Config(_Handle):
    """An SSCMA-style JSON config with _base_ inheritance, --cfg-options overrides and ${name} references."""
    _destroy = "sscma_config_destroy"

    def __init__(self, ptr):
        super().__init__(ptr)

    @classmethod
    def load(cls, path):
        ptr = ctypes.c_void_p()
        check(fn["sscma_config_load"](str(path).encode(), ctypes.byref(ptr)))
        return cls(ptr)

    @classmethod
    def parse(cls, text, base_dir=None):
        ptr = ctypes.c_void_p()
        check(fn["sscma_config_parse"](_text(text), None if base_dir is None else str(base_dir).encode(),
                                       ctypes.byref(ptr)))
        return cls(ptr)

    def set(self, assignment):
        """Applies "dotted.key=VALUE"."""
        check(fn["sscma_config_set"](self.handle, assignment.encode()))

    def resolve(self):
        check(fn["sscma_config_resolve"](self.handle))

    def get(self, dotted_key=""):
        """The value at dotted_key, decoded from JSON."""
        out = ctypes.c_char_p()
        check(fn["sscma_config_get"](self.handle, dotted_key.encode(), ctypes.byref(out)))
        return json.loads(out.value.decode())


def read_image(ctx, path, channels=0):
    """An image file (JPEG, PNG, BMP) as a uint8 numpy array [H, W, C] (channels 1 or 3 converts; 0 keeps)."""
    t = ctypes.c_void_p()
    check(fn["sscma_image_read"](ctx.handle, str(path).encode(), channels, ctypes.byref(t)))
    try:
        return _view(t).copy()
    finally:
        destroy["sscma_tensor_destroy"](t)


class Optimizer(_Handle):
    """SGD, Adam or AdamW over a model's trainable parameters (optim.h): {"type": "AdamW", "lr": 0.001, ...}."""
    _destroy = "sscma_optimizer_destroy"

    def __init__(self, model, config):
        ptr = ctypes.c_void_p()
        check(fn["sscma_optimizer_create"](model.handle, _text(config), ctypes.byref(ptr)))
        super().__init__(ptr, model, ctx=model.ctx, uses=(model,))

    def step(self):
        """One update from the current gradients."""
        check(fn["sscma_optimizer_step"](self.handle))

    @property
    def lr(self):
        v = ctypes.c_double()
        check(fn["sscma_optimizer_lr"](self.handle, ctypes.byref(v)))
        return v.value

    @lr.setter
    def lr(self, value):
        check(fn["sscma_optimizer_set_lr"](self.handle, value))

    @property
    def momentum(self):
        v = ctypes.c_double()
        check(fn["sscma_optimizer_momentum"](self.handle, ctypes.byref(v)))
        return v.value

    @property
    def grad_norm(self):
        """The global gradient norm the last step measured (before clipping)."""
        v = ctypes.c_double()
        check(fn["sscma_optimizer_grad_norm"](self.handle, ctypes.byref(v)))
        return v.value


class Scheduler(_Handle):
    """mmengine's param_scheduler list over an Optimizer (optim.h); iters_per_epoch converts epoch-based ones."""
    _destroy = "sscma_scheduler_destroy"

    def __init__(self, optimizer, config, iters_per_epoch=0):
        ptr = ctypes.c_void_p()
        check(fn["sscma_scheduler_create"](optimizer.handle, _text(config), iters_per_epoch, ctypes.byref(ptr)))
        super().__init__(ptr, optimizer, ctx=optimizer.ctx, uses=(optimizer,))

    def step_iter(self):
        check(fn["sscma_scheduler_step_iter"](self.handle))

    def step_epoch(self):
        check(fn["sscma_scheduler_step_epoch"](self.handle))


class Runner(_Handle):
    """What tools/train.py builds from a config (runner.h): the model, loaders, trainer, evaluation, metadata."""
    _destroy = "sscma_runner_destroy"

    def __init__(self, ctx, config):
        if not isinstance(config, Config):
            raise TypeError("Runner needs a sscma.Config (load, set overrides, resolve)")
        ptr = ctypes.c_void_p()
        check(fn["sscma_runner_create"](ctx.handle, config.handle, ctypes.byref(ptr)))
        super().__init__(ptr, ctx, ctx=ctx)

    @property
    def model(self):
        m = ctypes.c_void_p()
        check(fn["sscma_runner_model"](self.handle, ctypes.byref(m)))
        return Model._borrow(m, self)

    def dataset(self, split="train"):
        d = ctypes.c_void_p()
        check(fn["sscma_runner_dataset"](self.handle, split.encode(), ctypes.byref(d)))
        return Dataset._borrow(d, self)

    def loader(self, split="train"):
        ld = ctypes.c_void_p()
        check(fn["sscma_runner_loader"](self.handle, split.encode(), ctypes.byref(ld)))
        return Loader._borrow(ld, self)

    def loader_config(self, split="train"):
        """The loader config derived from the split's dataloader (a dict)."""
        v = ctypes.c_char_p()
        check(fn["sscma_runner_loader_config"](self.handle, split.encode(), ctypes.byref(v)))
        return json.loads(v.value.decode())

    def trainer(self, callback=None):
        """The runner's Trainer (the same C object each call); callback as Trainer's. The runner keeps the callback
        alive; it holds no reference to the wrapper (no cycle: a cycle could let the garbage collector free the
        Context first)."""
        t = ctypes.c_void_p()
        check(fn["sscma_runner_trainer"](self.handle, ctypes.byref(t)))
        tr = Trainer._borrow(t, self, _callback=None)
        if callback is not None:
            tr.set_callback(callback)
            self._trainer_callback = tr._callback
        return tr

    def evaluate(self, split="val"):
        """The evaluator's results on a split ({"accuracy/top1": ...})."""
        m = ctypes.c_void_p()
        check(fn["sscma_runner_evaluate"](self.handle, split.encode(), ctypes.byref(m)))
        return _results(m)

    def set_meta(self, qmodel):
        """Class names and input normalisation from the config, as the qmodel's metadata."""
        check(fn["sscma_runner_set_meta"](self.handle, qmodel.handle))
