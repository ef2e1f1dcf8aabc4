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

Versions: `sscma.__version__` is the package's (the libsscma release it comes with); `sscma.library_version()` and
`sscma.library_path()` say which libsscma was loaded. The package runs on its own release or a newer libsscma.so.1
and refuses an older one at import. Type hints ship with the package (PEP 561, `py.typed`).
"""
from __future__ import annotations

import ctypes
import json
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union

import numpy as np
import numpy.typing as npt

from . import _lib
from ._lib import (DTYPE_F32, DTYPE_I8, DTYPE_I32, DTYPE_U8, TRAIN_CALLBACK, ContextOptions, PredictOptions,
                   Prediction, QatOptions, QuantOptions, SscmaError, TrainProgress, VerifyReport, check, destroy, fn)
from ._progress import Progress, ProgressBar, tqdm_callback
from ._version import __version__

__all__ = ["Config", "Context", "Dataset", "Loader", "Metric", "Model", "Optimizer", "Progress", "ProgressBar",
           "QModel", "Runner", "Scheduler", "SscmaError", "Trainer", "__version__", "library_path",
           "library_version", "quantize", "qat_prepare", "qat_convert", "read_audio_clip", "read_image", "tqdm_callback", "version"]

#: A config: JSON text, or a dict / list that json.dumps turns into it.
ConfigLike = Union[str, Mapping[str, Any], Sequence[Any]]
#: A file name.
PathLike = Union[str, "os.PathLike[str]"]
#: A training progress callback: receives a Progress after each iteration; a true result cancels training.
Callback = Callable[[Progress], Optional[bool]]

_NP: Dict[int, Type[np.generic]] = {DTYPE_F32: np.float32, DTYPE_I8: np.int8, DTYPE_I32: np.int32, 3: np.uint8}
_OBSERVERS = {"minmax": 1, "moving_average": 2, "percentile": 3}


def library_version() -> str:
    """The loaded library's version, "MAJOR.MINOR.PATCH" (sscma_version).

    Equal to `sscma.__version__`, or newer when a newer libsscma.so.1 is installed.
    """
    return _lib.version().decode()


def version() -> str:
    """The loaded library's version (sscma_version); the same as library_version(), kept for older code."""
    return library_version()


def library_path() -> str:
    """The file libsscma was loaded from (SSCMA_LIBRARY, else libsscma.so.1 on the library path), resolved."""
    return _lib.path


def _text(config: ConfigLike) -> bytes:
    return (config if isinstance(config, str) else json.dumps(config)).encode()


_H = TypeVar("_H", bound="_Handle")


class _Handle:
    """A C object. `uses` are the wrappers whose C objects this one's uses (a Loader's Dataset, a Trainer's Model):
    while this one is open they are not freed, even when closed or finalized first (a reference cycle collected at
    exit finalizes its members in any order); their destroy waits for the last user's. The Context is not among
    them: the C library keeps a context alive until its last object is destroyed."""
    _destroy: Optional[str] = None
    _borrowed = False
    _ptr: Optional[ctypes.c_void_p] = None  # class defaults: __del__ of an object whose __init__ failed has nothing
    _closed = True
    _users = 0
    _uses: Tuple[_Handle, ...] = ()
    #: The Context this object was made from (None for a Context or a Config).
    ctx: Optional[Context]

    def __init__(self, ptr: ctypes.c_void_p, owner: object = None, ctx: Optional[Context] = None,
                 uses: Sequence[object] = ()) -> None:
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
    def _borrow(cls: Type[_H], ptr: ctypes.c_void_p, owner: _Handle, **attrs: Any) -> _H:
        """A wrapper of a C object that `owner` owns and frees (the runner's model, loaders, trainer)."""
        obj = cls.__new__(cls)
        _Handle.__init__(obj, ptr, owner, ctx=owner.ctx, uses=(owner,))
        obj._borrowed = True
        for k, v in attrs.items():
            setattr(obj, k, v)
        return obj

    def close(self) -> None:
        """Frees the C object (its sscma_*_destroy); later calls raise SscmaError.

        A borrowed handle (a Runner's model, loaders, trainer) is only forgotten. While other open objects use this
        one (a Loader its Dataset), the C object is freed when the last of them is closed.
        """
        self._closed = True
        self._release()

    def _release(self) -> None:
        if not self._closed or self._users > 0 or not self._ptr:
            return
        ptr, self._ptr = self._ptr, None
        if not self._borrowed and self._free is not None:
            self._free(ptr)
        uses, self._uses = self._uses, ()
        for u in uses:
            u._users -= 1
            u._release()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    @property
    def handle(self) -> ctypes.c_void_p:
        """The C pointer (for ctypes calls of your own); raises SscmaError (SSCMA_ERR_STATE) once closed."""
        if self._closed or not self._ptr:
            raise SscmaError(-10, "SSCMA_ERR_STATE", f"{type(self).__name__} is closed")
        return self._ptr


def _view(tensor_ptr: ctypes.c_void_p) -> npt.NDArray[Any]:
    """A numpy array over a tensor's memory (no copy), valid as long as the tensor is."""
    dtype, rank = ctypes.c_int(), ctypes.c_int32()
    check(fn["sscma_tensor_dtype"](tensor_ptr, ctypes.byref(dtype)))
    check(fn["sscma_tensor_rank"](tensor_ptr, ctypes.byref(rank)))
    shape: List[int] = []
    for i in range(rank.value):
        d = ctypes.c_int64()
        check(fn["sscma_tensor_dim"](tensor_ptr, i, ctypes.byref(d)))
        shape.append(d.value)
    data = ctypes.c_void_p()
    check(fn["sscma_tensor_data"](tensor_ptr, ctypes.byref(data)))
    ctype: Any = {DTYPE_F32: ctypes.c_float, DTYPE_I8: ctypes.c_int8, DTYPE_I32: ctypes.c_int32}.get(dtype.value,
                                                                                                  ctypes.c_uint8)
    count = int(np.prod(shape)) if shape else 1
    if count == 0:
        return np.zeros(shape, dtype=_NP[dtype.value])
    buf = (ctype * count).from_address(data.value)
    return np.frombuffer(buf, dtype=_NP[dtype.value]).reshape(shape)


class _Wrapped(_Handle):
    """A libsscma tensor viewing a numpy array (kept alive with it)."""
    _destroy = "sscma_tensor_destroy"

    def __init__(self, ctx: Context, array: npt.ArrayLike) -> None:
        arr = np.ascontiguousarray(array)
        dtype = {np.dtype(np.float32): DTYPE_F32, np.dtype(np.int8): DTYPE_I8,
                 np.dtype(np.int32): DTYPE_I32}.get(arr.dtype)
        if dtype is None:
            raise TypeError(f"arrays of {arr.dtype} cannot be passed to libsscma (float32, int8 or int32)")
        dims = (ctypes.c_int64 * max(arr.ndim, 1))(*arr.shape)
        ptr = ctypes.c_void_p()
        check(fn["sscma_tensor_wrap"](ctx.handle, dtype, arr.ndim, dims, arr.ctypes.data_as(ctypes.c_void_p),
                                      arr.nbytes, ctypes.byref(ptr)))
        super().__init__(ptr, ctx, ctx=ctx)
        self.array = arr


class Context(_Handle):
    """Threads, seed and memory for everything made from it (sscma_context_create, sscma_context_destroy).

    Args:
        threads: worker threads for kernels and loaders; 0 uses every CPU.
        seed: seeds weights, loaders and augmentations (same seed and thread count, same results).
    """
    _destroy = "sscma_context_destroy"

    def __init__(self, threads: int = 0, seed: int = 0) -> None:
        opts = ContextOptions()
        check(fn["sscma_context_options_init"](ctypes.byref(opts), ctypes.sizeof(opts)))
        opts.num_threads = threads
        opts.seed = seed
        ptr = ctypes.c_void_p()
        check(fn["sscma_context_create"](ctypes.byref(opts), ctypes.byref(ptr)))
        super().__init__(ptr)


class Dataset(_Handle):
    """A dataset from a config such as {"type": "FashionMNIST", "split": "test"} (sscma_dataset_open; docs/data.md).

    len(dataset) is its number of samples (sscma_dataset_size).
    """
    _destroy = "sscma_dataset_destroy"
    ctx: Context

    def __init__(self, ctx: Context, config: ConfigLike) -> None:
        ptr = ctypes.c_void_p()
        check(fn["sscma_dataset_open"](ctx.handle, _text(config), ctypes.byref(ptr)))
        super().__init__(ptr, ctx, ctx=ctx)

    def __len__(self) -> int:
        n = ctypes.c_int64()
        check(fn["sscma_dataset_size"](self.handle, ctypes.byref(n)))
        return n.value

    @property
    def classes(self) -> List[str]:
        """The class names, in index order (sscma_dataset_num_classes, sscma_dataset_class_name)."""
        n = ctypes.c_int32()
        check(fn["sscma_dataset_num_classes"](self.handle, ctypes.byref(n)))
        names = []
        for i in range(n.value):
            v = ctypes.c_char_p()
            check(fn["sscma_dataset_class_name"](self.handle, i, ctypes.byref(v)))
            names.append((v.value or b"").decode())
        return names


class Loader(_Handle):
    """Batches of a Dataset through a pipeline (sscma_loader_create; docs/data.md).

    Args:
        ctx: the Context.
        dataset: the Dataset (kept open while the loader is).
        config: {"batch_size": 32, "shuffle": True, "pipeline": [...]}.
    """
    _destroy = "sscma_loader_destroy"
    ctx: Context

    def __init__(self, ctx: Context, dataset: Dataset, config: ConfigLike) -> None:
        ptr = ctypes.c_void_p()
        check(fn["sscma_loader_create"](ctx.handle, dataset.handle, _text(config), ctypes.byref(ptr)))
        super().__init__(ptr, (ctx, dataset), ctx=ctx, uses=(dataset,))


class Model(_Handle):
    """A trainable model from an SSCMA-style config (sscma_model_create; docs/models.md).

    Args:
        ctx: the Context.
        config: {"type": "ImageClassifier" | "Fomo" | "PFLD" | "YOLODetector", "backbone": ..., "head": ...}.
    """
    _destroy = "sscma_model_destroy"
    ctx: Context

    def __init__(self, ctx: Context, config: ConfigLike) -> None:
        ptr = ctypes.c_void_p()
        check(fn["sscma_model_create"](ctx.handle, _text(config), ctypes.byref(ptr)))
        super().__init__(ptr, ctx, ctx=ctx)

    def load(self, path: PathLike) -> None:
        """Loads weights from a checkpoint file (sscma_model_load)."""
        check(fn["sscma_model_load"](self.handle, os.fsencode(path)))

    def save(self, path: PathLike, compress: bool = False) -> None:
        """Writes the weights to a checkpoint file, zlib-compressed when asked (sscma_model_save)."""
        check(fn["sscma_model_save"](self.handle, os.fsencode(path), 1 if compress else 0))

    def prepare(self, batch: int, training: bool = False) -> None:
        """Plans the model for a batch size, in training or inference mode (sscma_model_prepare)."""
        check(fn["sscma_model_prepare"](self.handle, batch, 1 if training else 0))

    def input(self, name: str = "image") -> npt.NDArray[Any]:
        """A numpy view of input `name` at the prepared batch: write the batch into it (sscma_model_input)."""
        t = ctypes.c_void_p()
        check(fn["sscma_model_input"](self.handle, name.encode(), ctypes.byref(t)))
        return _view(t)

    def output(self, name: str) -> npt.NDArray[Any]:
        """A numpy view of output `name` ("logits", "loss", ...) after forward() (sscma_model_output)."""
        t = ctypes.c_void_p()
        check(fn["sscma_model_output"](self.handle, name.encode(), ctypes.byref(t)))
        return _view(t)

    def forward(self) -> None:
        """Runs the model on its inputs (sscma_model_forward)."""
        check(fn["sscma_model_forward"](self.handle))

    def backward(self) -> None:
        """Gradients of the "loss" output of the last forward; they accumulate, see zero_grad (sscma_model_backward)."""
        check(fn["sscma_model_backward"](self.handle))

    def zero_grad(self) -> None:
        """Sets every gradient to zero (sscma_model_zero_grad)."""
        check(fn["sscma_model_zero_grad"](self.handle))

    def stats(self) -> Tuple[int, int]:
        """(learned parameters, multiply-accumulates per sample) (sscma_model_stats)."""
        p, m = ctypes.c_int64(), ctypes.c_int64()
        check(fn["sscma_model_stats"](self.handle, ctypes.byref(p), ctypes.byref(m)))
        return p.value, m.value


class QModel(_Handle):
    """A deployable model, float or int8 (quant.h): run numpy batches, predict, export files.

    Made by QModel.from_model, QModel.load_tflite, quantize or qat_convert; freed by sscma_qmodel_destroy.
    """
    _destroy = "sscma_qmodel_destroy"
    ctx: Context

    def __init__(self, ptr: ctypes.c_void_p, ctx: Context) -> None:
        super().__init__(ptr, ctx, ctx=ctx)
        self._batch = 0

    @classmethod
    def from_model(cls, model: Model) -> QModel:
        """The float deployable form of a model, batch norms folded (sscma_qmodel_from_model)."""
        ptr = ctypes.c_void_p()
        check(fn["sscma_qmodel_from_model"](model.handle, ctypes.byref(ptr)))
        return cls(ptr, model.ctx)

    @classmethod
    def load_tflite(cls, ctx: Context, path: PathLike) -> QModel:
        """A .tflite file, libsscma's or another converter's (sscma_qmodel_load_tflite)."""
        ptr = ctypes.c_void_p()
        check(fn["sscma_qmodel_load_tflite"](ctx.handle, os.fsencode(path), ctypes.byref(ptr)))
        return cls(ptr, ctx)

    @property
    def is_int8(self) -> bool:
        """Whether the model computes in int8 (sscma_qmodel_is_int8)."""
        v = ctypes.c_int()
        check(fn["sscma_qmodel_is_int8"](self.handle, ctypes.byref(v)))
        return bool(v.value)

    def run(self, images: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Runs float NHWC images [N, H, W, C] (quantized for an int8 model) and returns the first output as float.

        Calls sscma_qmodel_prepare (when N changes), sscma_qmodel_set_input, sscma_qmodel_run and
        sscma_qmodel_get_output.
        """
        batch = np.ascontiguousarray(images, dtype=np.float32)
        if batch.shape[0] != self._batch:
            check(fn["sscma_qmodel_prepare"](self.handle, batch.shape[0]))
            self._batch = batch.shape[0]
        out_t = ctypes.c_void_p()
        check(fn["sscma_qmodel_output"](self.handle, 0, ctypes.byref(out_t), None))
        out = np.empty(_view(out_t).shape, dtype=np.float32)
        src, dst = _Wrapped(self.ctx, batch), _Wrapped(self.ctx, out)
        check(fn["sscma_qmodel_set_input"](self.handle, 0, src.handle))
        check(fn["sscma_qmodel_run"](self.handle))
        check(fn["sscma_qmodel_get_output"](self.handle, 0, dst.handle))
        return out

    def set_meta(self, key: str, value: object) -> None:
        """Sets metadata written into exported files; None removes the key (sscma_qmodel_set_meta)."""
        check(fn["sscma_qmodel_set_meta"](self.handle, key.encode(), None if value is None else str(value).encode()))

    def _family(self) -> str:
        try:
            return self.meta("family")
        except SscmaError:
            return ""

    def meta(self, key: str) -> str:
        """The metadata value of `key` ("classes", "family", "mean", ...) (sscma_qmodel_meta)."""
        v = ctypes.c_char_p()
        check(fn["sscma_qmodel_meta"](self.handle, key.encode(), ctypes.byref(v)))
        return (v.value or b"").decode()

    def memory(self, as_int8: bool = False) -> Tuple[int, int]:
        """(weight bytes, activation arena bytes) of a deployment at batch 1, the arena as the runtimes plan it
        (sscma_qmodel_memory)."""
        w, a = ctypes.c_int64(), ctypes.c_int64()
        check(fn["sscma_qmodel_memory"](self.handle, 1 if as_int8 else 0, ctypes.byref(w), ctypes.byref(a)))
        return w.value, a.value

    def predict(self, image: npt.ArrayLike, score_threshold: Optional[float] = None, top_k: int = 5,
                capacity: int = 256, task: Optional[str] = None,
                iou_threshold: Optional[float] = None) -> List[Dict[str, Any]]:
        """Runs one uint8 image [H, W, C] as the device does (sscma_predict, sscma_predict_task); for a model of
        sensor windows (family AccelerometerClassifier), one window of floats [axes, window_size]; for a keyword
        spotter (Audio_classify), one clip of floats [1, segment_length].

        Args:
            image: uint8 pixels, [H, W, C] or [H, W]; or a float window [axes, window_size] (each axis's values in a
                row, as Dataset samples of a SensorDataset give it).
            score_threshold: the lowest score kept (default: the model's, 0.25 for SSCMA-Micro files).
            top_k: a classifier's number of classes returned.
            capacity: the most results returned.
            task: "cls", "fomo", "pfld" or "yolo": the output's layout of a file without libsscma's metadata
                (else recognised as SSCMA-Micro does).
            iou_threshold: YOLO's non-maximum suppression's (default 0.45).

        Returns:
            Best first: {"class", "score"} for a classifier, plus "x", "y", "w", "h" (pixels) for FOMO and YOLO;
            {"point", "x", "y"} for PFLD.
        """
        arr = np.asarray(image)
        window = arr.ndim == 2 and arr.dtype.kind == "f" and self._family() in ("AccelerometerClassifier",
                                                                                 "Audio_classify")
        pixels = np.ascontiguousarray(arr, dtype=np.float32 if window else np.uint8)
        if pixels.ndim == 2 and not window:
            pixels = pixels[:, :, None]
        opts = PredictOptions()
        check(fn["sscma_predict_options_init"](ctypes.byref(opts), ctypes.sizeof(opts)))
        if score_threshold is not None:
            opts.score_threshold = score_threshold
        opts.top_k = top_k
        if task is not None:
            opts.task = task.encode()
        if iou_threshold is not None:
            opts.iou_threshold = iou_threshold
        dims = (ctypes.c_int64 * pixels.ndim)(*pixels.shape)
        t = ctypes.c_void_p()
        check(fn["sscma_tensor_create"](self.ctx.handle, DTYPE_F32 if window else DTYPE_U8, pixels.ndim, dims,
                                        ctypes.byref(t)))
        try:
            _view(t)[...] = pixels
            res, n = (Prediction * capacity)(), ctypes.c_int32()
            check(fn["sscma_predict"](self.handle, t, ctypes.byref(opts), res, capacity, ctypes.byref(n)))
        finally:
            destroy["sscma_tensor_destroy"](t)
        self._batch = 1
        chosen = ctypes.c_char_p()
        check(fn["sscma_predict_task"](self.handle, ctypes.byref(opts), ctypes.byref(chosen)))
        kind = (chosen.value or b"").decode()
        out: List[Dict[str, Any]] = []
        for r in res[:min(n.value, capacity)]:
            if kind == "pfld":
                out.append({"point": r.class_id, "x": r.x, "y": r.y})
            elif kind in ("fomo", "yolo"):
                out.append({"class": r.class_id, "score": r.score, "x": r.x, "y": r.y, "w": r.w, "h": r.h})
            else:
                out.append({"class": r.class_id, "score": r.score})
        return out

    def export_tflite(self, path: PathLike) -> None:
        """Writes a .tflite file with the metadata (sscma_export_tflite)."""
        check(fn["sscma_export_tflite"](self.handle, os.fsencode(path)))

    def export_onnx(self, path: PathLike) -> None:
        """Writes an .onnx file, NCHW (sscma_export_onnx)."""
        check(fn["sscma_export_onnx"](self.handle, os.fsencode(path)))

    def export_c_array(self, header: PathLike, source: PathLike, symbol: str) -> None:
        """Writes the TFLite bytes as a C array `symbol` in a header and a source file (sscma_export_c_array)."""
        check(fn["sscma_export_c_array"](self.handle, os.fsencode(header), os.fsencode(source), symbol.encode()))

    def verify(self, path: PathLike, loader: Loader) -> Dict[str, Any]:
        """Reads a TFLite file back and compares it with this model on the loader's data (sscma_export_verify).

        Returns:
            {"samples", "values", "values_differing", "max_abs_diff", "metric", "metric_model", "metric_file"}.
        """
        r = VerifyReport()
        r.struct_size = ctypes.sizeof(r)
        check(fn["sscma_export_verify"](self.handle, os.fsencode(path), loader.handle, ctypes.byref(r)))
        self._batch = 0  # verification re-prepares the model
        return {"samples": r.samples, "values": r.values, "values_differing": r.values_differing,
                "max_abs_diff": r.max_abs_diff, "metric": r.metric_name.decode(), "metric_model": r.metric_model,
                "metric_file": r.metric_file}


def quantize(model: Model, calib: Loader, observer: str = "minmax", calib_batches: int = 32,
             averaging_constant: float = 0.01, percentile: float = 99.99) -> QModel:
    """Post-training int8 quantization calibrated on a Loader (sscma_quantize).

    Args:
        model: the trained Model.
        calib: the calibration Loader (its pipeline as at validation).
        observer: "minmax", "moving_average" (with averaging_constant) or "percentile" (with percentile).
        calib_batches: batches of calib observed.

    Returns:
        The int8 QModel (TFLite quantization spec).
    """
    if observer not in _OBSERVERS:
        raise ValueError(f"observer must be one of {', '.join(_OBSERVERS)}")
    opts = QuantOptions()
    check(fn["sscma_quant_options_init"](ctypes.byref(opts), ctypes.sizeof(opts)))
    opts.observer, opts.calib_batches = _OBSERVERS[observer], calib_batches
    opts.averaging_constant, opts.percentile = averaging_constant, percentile
    ptr = ctypes.c_void_p()
    check(fn["sscma_quantize"](model.handle, calib.handle, ctypes.byref(opts), ctypes.byref(ptr)))
    return QModel(ptr, model.ctx)


def qat_prepare(model: Model, freeze_observer_epoch: int = 1, freeze_bn_epoch: int = 1,
                averaging_constant: float = 0.01) -> None:
    """Prepares a model for quantization-aware training: fake-quant observers inserted (sscma_qat_prepare)."""
    opts = QatOptions()
    check(fn["sscma_qat_options_init"](ctypes.byref(opts), ctypes.sizeof(opts)))
    opts.freeze_observer_epoch, opts.freeze_bn_epoch = freeze_observer_epoch, freeze_bn_epoch
    opts.averaging_constant = averaging_constant
    check(fn["sscma_qat_prepare"](model.handle, ctypes.byref(opts)))


def qat_convert(model: Model) -> QModel:
    """The int8 deployable model of a QAT-trained model (sscma_qat_convert)."""
    ptr = ctypes.c_void_p()
    check(fn["sscma_qat_convert"](model.handle, ctypes.byref(ptr)))
    return QModel(ptr, model.ctx)


def _results(metric_ptr: ctypes.c_void_p) -> Dict[str, float]:
    n = ctypes.c_int32()
    check(fn["sscma_metric_result_count"](metric_ptr, ctypes.byref(n)))
    out = {}
    for i in range(n.value):
        name, value = ctypes.c_char_p(), ctypes.c_double()
        check(fn["sscma_metric_result"](metric_ptr, i, ctypes.byref(name), ctypes.byref(value)))
        out[(name.value or b"").decode()] = value.value
    return out


class Metric(_Handle):
    """An evaluator: {"type": "Accuracy", "topk": [1, 5]}, FomoMetric, PointMetric, MSE (sscma_metric_create)."""
    _destroy = "sscma_metric_destroy"
    ctx: Context

    def __init__(self, ctx: Context, config: ConfigLike) -> None:
        ptr = ctypes.c_void_p()
        check(fn["sscma_metric_create"](_text(config), ctypes.byref(ptr)))
        super().__init__(ptr, ctx, ctx=ctx)

    def update(self, pred: npt.ArrayLike, target: npt.ArrayLike, count: Optional[int] = None) -> None:
        """Adds a batch: pred float32, target int32 labels or float32, as metrics.h describes (sscma_metric_update)."""
        p, t = _Wrapped(self.ctx, pred), _Wrapped(self.ctx, target)
        check(fn["sscma_metric_update"](self.handle, p.handle, t.handle, len(p.array) if count is None else count))

    def reset(self) -> None:
        """Forgets the samples seen (sscma_metric_reset)."""
        check(fn["sscma_metric_reset"](self.handle))

    def results(self) -> Dict[str, float]:
        """{name: value} of the samples seen (sscma_metric_result_count, sscma_metric_result)."""
        return _results(self.handle)


class Trainer(_Handle):
    """The epoch loop with hooks (sscma_trainer_create; train.h).

    Args:
        model: the Model.
        train: the training Loader.
        val: the validation Loader, or None.
        config: {"max_epochs", "optim_wrapper", "param_scheduler", "val_evaluator", "default_hooks", ...}.
        callback: called after each iteration with a Progress; a true result cancels training. See tqdm_callback.
    """
    _destroy = "sscma_trainer_destroy"
    ctx: Context

    def __init__(self, model: Model, train: Loader, val: Optional[Loader], config: ConfigLike,
                 callback: Optional[Callback] = None) -> None:
        ptr = ctypes.c_void_p()
        check(fn["sscma_trainer_create"](model.handle, train.handle, val.handle if val is not None else None,
                                         _text(config), ctypes.byref(ptr)))
        super().__init__(ptr, (model, train, val), ctx=model.ctx, uses=(model, train, val))
        self._callback: Any = None
        self._val_callback: Any = None
        if callback is not None:
            self.set_callback(callback)

    def set_callback(self, callback: Optional[Callback]) -> None:
        """Sets (None: removes) the progress callback (sscma_trainer_set_callback).

        The callback receives a Progress (a dict) after each iteration; returning True cancels training, and so does
        an exception raised in it (train() then raises SscmaError SSCMA_ERR_CANCELLED).
        """
        def trampoline(progress: Any, user: Any) -> int:
            del user
            p = progress.contents
            info = Progress((f[0], getattr(p, f[0])) for f in TrainProgress._fields_ if f[0] != "struct_size")
            try:
                return 1 if callback is not None and callback(info) else 0
            except Exception:  # an exception in the callback stops training rather than crossing into C
                return 1
        self._callback = TRAIN_CALLBACK(trampoline) if callback is not None else TRAIN_CALLBACK()
        check(fn["sscma_trainer_set_callback"](self.handle, self._callback, None))

    def set_val_callback(self, callback: Optional[Callable[[int, Dict[str, float]], Any]]) -> None:
        """Sets (None: removes) the validation callback (sscma_trainer_set_val_callback).

        The callback receives the number of finished epochs and the validation's results ({"accuracy/top1": ...})
        after each validation during train(); it may call log_image. Returning True cancels training, and so does
        an exception raised in it.
        """
        def trampoline(trainer: Any, epoch: int, metric: Any, user: Any) -> int:
            del trainer, user
            try:
                return 1 if callback is not None and callback(int(epoch), _results(ctypes.c_void_p(metric))) else 0
            except Exception:  # an exception in the callback stops training rather than crossing into C
                return 1
        self._val_callback = _lib.VAL_CALLBACK(trampoline) if callback is not None else _lib.VAL_CALLBACK()
        check(fn["sscma_trainer_set_val_callback"](self.handle, self._val_callback, None))

    def log_image(self, tag: str, png: bytes, step: int = -1) -> None:
        """Adds a PNG file's bytes to the TensorBoard event file as an image summary (sscma_trainer_log_image).

        step: TensorBoard's step; negative (default) is the number of finished epochs. Nothing is written before
        training started or without a work_dir.
        """
        check(fn["sscma_trainer_log_image"](self.handle, tag.encode(), bytes(png), len(png), step))

    def train(self) -> None:
        """Trains until max_epochs or an early stop (sscma_trainer_train); Ctrl-C-style cancel raises SscmaError."""
        check(fn["sscma_trainer_train"](self.handle))

    def validate(self) -> Dict[str, float]:
        """Runs the validation metric: {"accuracy/top1": ...} (sscma_trainer_validate)."""
        m = ctypes.c_void_p()
        check(fn["sscma_trainer_validate"](self.handle, ctypes.byref(m)))
        return _results(m)

    def save(self, path: PathLike) -> None:
        """Writes the whole training state to a checkpoint (sscma_trainer_save)."""
        check(fn["sscma_trainer_save"](self.handle, os.fsencode(path)))

    def resume(self, path: PathLike) -> None:
        """Restores the whole training state from a checkpoint (sscma_trainer_resume)."""
        check(fn["sscma_trainer_resume"](self.handle, os.fsencode(path)))

    def position(self) -> Tuple[int, int]:
        """(finished epochs, iterations) (sscma_trainer_position)."""
        e, i = ctypes.c_int64(), ctypes.c_int64()
        check(fn["sscma_trainer_position"](self.handle, ctypes.byref(e), ctypes.byref(i)))
        return e.value, i.value


class Config(_Handle):
    """An SSCMA-style JSON config: _base_ inheritance, --cfg-options overrides, ${name} references (config.h).

    Made by Config.load or Config.parse; freed by sscma_config_destroy.
    """
    _destroy = "sscma_config_destroy"

    def __init__(self, ptr: ctypes.c_void_p) -> None:
        super().__init__(ptr)

    @classmethod
    def load(cls, path: PathLike) -> Config:
        """Reads a config file and its _base_ files (sscma_config_load)."""
        ptr = ctypes.c_void_p()
        check(fn["sscma_config_load"](os.fsencode(path), ctypes.byref(ptr)))
        return cls(ptr)

    @classmethod
    def parse(cls, text: ConfigLike, base_dir: Optional[PathLike] = None) -> Config:
        """A config from JSON text or a dict; _base_ files are found in base_dir (sscma_config_parse)."""
        ptr = ctypes.c_void_p()
        check(fn["sscma_config_parse"](_text(text), None if base_dir is None else os.fsencode(base_dir),
                                       ctypes.byref(ptr)))
        return cls(ptr)

    def set(self, assignment: str) -> None:
        """Applies "dotted.key=VALUE", VALUE JSON when it parses, else a string (sscma_config_set)."""
        check(fn["sscma_config_set"](self.handle, assignment.encode()))

    def resolve(self) -> None:
        """Replaces the ${name} references by their values (sscma_config_resolve)."""
        check(fn["sscma_config_resolve"](self.handle))

    def get(self, dotted_key: str = "") -> Any:
        """The value at dotted_key ("" for the whole config), decoded from JSON (sscma_config_get)."""
        out = ctypes.c_char_p()
        check(fn["sscma_config_get"](self.handle, dotted_key.encode(), ctypes.byref(out)))
        return json.loads((out.value or b"null").decode())


def read_image(ctx: Context, path: PathLike, channels: int = 0) -> npt.NDArray[np.uint8]:
    """An image file (JPEG, PNG, BMP) as uint8 [H, W, C]; channels 1 or 3 converts, 0 keeps (sscma_image_read)."""
    t = ctypes.c_void_p()
    check(fn["sscma_image_read"](ctx.handle, os.fsencode(path), channels, ctypes.byref(t)))
    try:
        return _view(t).astype(np.uint8, copy=True)
    finally:
        destroy["sscma_tensor_destroy"](t)


def read_audio_clip(ctx: Context, path: PathLike, sampling_rate: int = 8000, segment_length: int = 8192,
                    lower_volume: bool = True) -> npt.NDArray[np.float32]:
    """An audio file (any WAV) as float32 [1, segment_length], read as a Speechcommand validation clip: mono,
    resampled to sampling_rate, +0.5 dB and clamped when lower_volume, peak-normalised, centre-cropped or zero-padded
    (sscma_audio_clip_read). QModel.predict takes it for an Audio_classify model."""
    t = ctypes.c_void_p()
    check(fn["sscma_audio_clip_read"](ctx.handle, os.fsencode(path), sampling_rate, segment_length,
                                      1 if lower_volume else 0, ctypes.byref(t)))
    try:
        return _view(t).astype(np.float32, copy=True)
    finally:
        destroy["sscma_tensor_destroy"](t)


class Optimizer(_Handle):
    """SGD, Adam or AdamW over a model's trainable parameters (sscma_optimizer_create; optim.h).

    Args:
        model: the Model.
        config: {"type": "AdamW", "lr": 0.001, ...}.
    """
    _destroy = "sscma_optimizer_destroy"
    ctx: Context

    def __init__(self, model: Model, config: ConfigLike) -> None:
        ptr = ctypes.c_void_p()
        check(fn["sscma_optimizer_create"](model.handle, _text(config), ctypes.byref(ptr)))
        super().__init__(ptr, model, ctx=model.ctx, uses=(model,))

    def step(self) -> None:
        """One update from the current gradients (sscma_optimizer_step)."""
        check(fn["sscma_optimizer_step"](self.handle))

    @property
    def lr(self) -> float:
        """The base learning rate (sscma_optimizer_lr; setting it calls sscma_optimizer_set_lr)."""
        v = ctypes.c_double()
        check(fn["sscma_optimizer_lr"](self.handle, ctypes.byref(v)))
        return v.value

    @lr.setter
    def lr(self, value: float) -> None:
        check(fn["sscma_optimizer_set_lr"](self.handle, value))

    @property
    def momentum(self) -> float:
        """SGD's momentum or Adam's beta1 as used now (sscma_optimizer_momentum)."""
        v = ctypes.c_double()
        check(fn["sscma_optimizer_momentum"](self.handle, ctypes.byref(v)))
        return v.value

    @property
    def grad_norm(self) -> float:
        """The global gradient norm the last step measured, before clipping (sscma_optimizer_grad_norm)."""
        v = ctypes.c_double()
        check(fn["sscma_optimizer_grad_norm"](self.handle, ctypes.byref(v)))
        return v.value


class Scheduler(_Handle):
    """mmengine's param_scheduler list over an Optimizer (sscma_scheduler_create; optim.h).

    Args:
        optimizer: the Optimizer.
        config: a list of schedulers ([{"type": "LinearLR", ...}, {"type": "CosineAnnealingLR", ...}]).
        iters_per_epoch: converts epoch-based schedulers to iterations (0: none are).
    """
    _destroy = "sscma_scheduler_destroy"
    ctx: Context

    def __init__(self, optimizer: Optimizer, config: ConfigLike, iters_per_epoch: int = 0) -> None:
        ptr = ctypes.c_void_p()
        check(fn["sscma_scheduler_create"](optimizer.handle, _text(config), iters_per_epoch, ctypes.byref(ptr)))
        super().__init__(ptr, optimizer, ctx=optimizer.ctx, uses=(optimizer,))

    def step_iter(self) -> None:
        """Advances the iteration-based schedulers (sscma_scheduler_step_iter)."""
        check(fn["sscma_scheduler_step_iter"](self.handle))

    def step_epoch(self) -> None:
        """Advances the epoch-based schedulers (sscma_scheduler_step_epoch)."""
        check(fn["sscma_scheduler_step_epoch"](self.handle))


class Runner(_Handle):
    """What tools/train.py builds from a config: model, loaders, trainer, evaluation, metadata (sscma_runner_create).

    Args:
        ctx: the Context.
        config: a resolved sscma.Config (load, set overrides, resolve).
    """
    _destroy = "sscma_runner_destroy"
    ctx: Context

    def __init__(self, ctx: Context, config: Config) -> None:
        if not isinstance(config, Config):
            raise TypeError("Runner needs a sscma.Config (load, set overrides, resolve)")
        ptr = ctypes.c_void_p()
        check(fn["sscma_runner_create"](ctx.handle, config.handle, ctypes.byref(ptr)))
        super().__init__(ptr, ctx, ctx=ctx)

    @property
    def model(self) -> Model:
        """The runner's Model, owned by the runner (sscma_runner_model)."""
        m = ctypes.c_void_p()
        check(fn["sscma_runner_model"](self.handle, ctypes.byref(m)))
        return Model._borrow(m, self)

    def dataset(self, split: str = "train") -> Dataset:
        """The Dataset of split "train", "val" or "test", owned by the runner (sscma_runner_dataset)."""
        d = ctypes.c_void_p()
        check(fn["sscma_runner_dataset"](self.handle, split.encode(), ctypes.byref(d)))
        return Dataset._borrow(d, self)

    def loader(self, split: str = "train") -> Loader:
        """The Loader of a split, owned by the runner (sscma_runner_loader)."""
        ld = ctypes.c_void_p()
        check(fn["sscma_runner_loader"](self.handle, split.encode(), ctypes.byref(ld)))
        return Loader._borrow(ld, self)

    def loader_config(self, split: str = "train") -> Dict[str, Any]:
        """The loader config derived from the split's dataloader, as a dict (sscma_runner_loader_config)."""
        v = ctypes.c_char_p()
        check(fn["sscma_runner_loader_config"](self.handle, split.encode(), ctypes.byref(v)))
        result: Dict[str, Any] = json.loads((v.value or b"{}").decode())
        return result

    def trainer(self, callback: Optional[Callback] = None) -> Trainer:
        """The runner's Trainer, the same C object each call (sscma_runner_trainer); callback as Trainer's.

        The runner keeps the callback alive; it holds no reference to the wrapper (no cycle: a cycle could let the
        garbage collector free the Context first).
        """
        t = ctypes.c_void_p()
        check(fn["sscma_runner_trainer"](self.handle, ctypes.byref(t)))
        tr = Trainer._borrow(t, self, _callback=None)
        if callback is not None:
            tr.set_callback(callback)
            self._trainer_callback = tr._callback
        return tr

    def evaluate(self, split: str = "val") -> Dict[str, float]:
        """The evaluator's results on a split: {"accuracy/top1": ...} (sscma_runner_evaluate)."""
        m = ctypes.c_void_p()
        check(fn["sscma_runner_evaluate"](self.handle, split.encode(), ctypes.byref(m)))
        return _results(m)

    def set_meta(self, qmodel: QModel) -> None:
        """Class names and input normalisation from the config, as the qmodel's metadata (sscma_runner_set_meta)."""
        check(fn["sscma_runner_set_meta"](self.handle, qmodel.handle))
