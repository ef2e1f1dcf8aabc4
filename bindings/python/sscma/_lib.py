"""Loads libsscma and declares the C functions the package calls (ctypes).

The library is found through SSCMA_LIBRARY (a path), else as "libsscma.so.1" on the system's library path (an
installed libsscma). Every call returning a status goes through check(): a negative status raises SscmaError
carrying the status name and the library's message.

Versions: the package is released with libsscma and carries its version (sscma/_version.py, meson.build's project
version). It runs on that library or any newer libsscma.so.1 (the soname only changes when the ABI breaks, and
options structs only grow); an older library is refused at import with a message naming both versions and the file.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any, Callable, Dict

from ._version import __version__

c_status = ctypes.c_int
c_ptr = ctypes.c_void_p
c_char_p = ctypes.c_char_p
c_i32 = ctypes.c_int32
c_i64 = ctypes.c_int64
c_u32 = ctypes.c_uint32
c_u64 = ctypes.c_uint64
c_size = ctypes.c_size_t

DTYPE_F32, DTYPE_I8, DTYPE_U8, DTYPE_I32 = 1, 2, 3, 4


STATUS_NAMES = {-1: "SSCMA_ERR_INVALID_ARGUMENT", -2: "SSCMA_ERR_OUT_OF_MEMORY", -3: "SSCMA_ERR_IO",
                -4: "SSCMA_ERR_FORMAT", -5: "SSCMA_ERR_UNSUPPORTED", -6: "SSCMA_ERR_SHAPE", -7: "SSCMA_ERR_DTYPE",
                -8: "SSCMA_ERR_OVERFLOW", -9: "SSCMA_ERR_NOT_FOUND", -10: "SSCMA_ERR_STATE", -11: "SSCMA_ERR_NUMERIC",
                -12: "SSCMA_ERR_CANCELLED", -13: "SSCMA_ERR_CONFIG", -14: "SSCMA_ERR_INTERNAL"}


class SscmaError(Exception):
    """A libsscma call failed.

    Attributes:
        status: the sscma_status code (negative).
        name: its name, e.g. "SSCMA_ERR_CONFIG" (sscma_status_string).

    str(error) is the library's message for the failure (sscma_last_error): what failed and where.
    """

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.name = name


def _load() -> ctypes.CDLL:
    path = os.environ.get("SSCMA_LIBRARY")
    if path:
        return ctypes.CDLL(path)
    try:
        return ctypes.CDLL("libsscma.so.1")
    except OSError:
        found = ctypes.util.find_library("sscma")
        if found is None:
            raise OSError("libsscma.so.1 not found: install libsscma or set SSCMA_LIBRARY to its path") from None
        return ctypes.CDLL(found)


lib = _load()


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", c_char_p), ("dli_fbase", c_ptr), ("dli_sname", c_char_p), ("dli_saddr", c_ptr)]


def _loaded_path() -> str:
    """The file the dynamic linker loaded libsscma from (dladdr on one of its functions), else the name asked for."""
    try:
        dladdr = ctypes.CDLL(None).dladdr
        dladdr.argtypes = [c_ptr, ctypes.POINTER(_DlInfo)]
        dladdr.restype = ctypes.c_int
        info = _DlInfo()
        if dladdr(ctypes.cast(lib.sscma_version, c_ptr), ctypes.byref(info)) and info.dli_fname:
            return os.path.realpath(os.fsdecode(info.dli_fname))
    except (OSError, AttributeError):
        pass
    return str(lib._name)


def version_number(text: str) -> int:
    """"MAJOR.MINOR.PATCH" as sscma_version_number() counts it: 10000 * major + 100 * minor + patch."""
    major, minor, patch = (int(x) for x in text.split(".")[:3])
    return 10000 * major + 100 * minor + patch


def compatible(library: int, package: str) -> bool:
    """Whether a library of version number `library` runs this package's version: the same or newer (the soname,
    libsscma.so.1, says the ABI is the same)."""
    return library >= version_number(package)


path = _loaded_path()
_number = lib.sscma_version_number
_number.restype = c_u32
_number.argtypes = []
if not compatible(int(_number()), __version__):
    _found = lib.sscma_version
    _found.restype = c_char_p
    raise ImportError(f"{path} is libsscma {_found().decode()}; the sscma package {__version__} needs libsscma "
                      f"{__version__} or newer (set SSCMA_LIBRARY to its path)")


class ContextOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_u32), ("num_threads", c_i32), ("seed", c_u64), ("log_level", ctypes.c_int),
                ("log_fn", c_ptr), ("log_user_data", c_ptr), ("alloc_fn", c_ptr), ("free_fn", c_ptr),
                ("alloc_user_data", c_ptr)]


class QuantOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_u32), ("observer", ctypes.c_int), ("averaging_constant", ctypes.c_float),
                ("percentile", ctypes.c_float), ("calib_batches", c_i64)]


class QatOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_u32), ("averaging_constant", ctypes.c_float), ("freeze_observer_epoch", c_i64),
                ("freeze_bn_epoch", c_i64)]


class VerifyReport(ctypes.Structure):
    _fields_ = [("struct_size", c_u32), ("samples", c_i64), ("values", c_i64), ("values_differing", c_i64),
                ("max_abs_diff", ctypes.c_double), ("metric_model", ctypes.c_double),
                ("metric_file", ctypes.c_double), ("metric_name", ctypes.c_char * 48)]


class TrainProgress(ctypes.Structure):
    _fields_ = [("struct_size", c_size), ("epoch", c_i64), ("max_epochs", c_i64), ("iter", c_i64),
                ("iters_per_epoch", c_i64), ("global_iter", c_i64), ("loss", ctypes.c_double),
                ("lr", ctypes.c_double), ("images_per_s", ctypes.c_double), ("eta_s", ctypes.c_double),
                ("momentum", ctypes.c_double)]


class PredictOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_u32), ("score_threshold", ctypes.c_float), ("top_k", c_i32),
                ("task", ctypes.c_char_p), ("iou_threshold", ctypes.c_float)]


class Prediction(ctypes.Structure):
    _fields_ = [("class_id", c_i32), ("score", ctypes.c_float), ("x", ctypes.c_float), ("y", ctypes.c_float),
                ("w", ctypes.c_float), ("h", ctypes.c_float)]


TRAIN_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(TrainProgress), ctypes.c_void_p)
# sscma_val_callback: (trainer, epoch, metric, user_data)
VAL_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p)


def _declare(name: str, restype: Any, *argtypes: Any) -> Any:
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


P = ctypes.POINTER
status_string: Callable[[int], bytes] = _declare("sscma_status_string", c_char_p, c_status)
last_error: Callable[[], "bytes | None"] = _declare("sscma_last_error", c_char_p)
version: Callable[[], bytes] = _declare("sscma_version", c_char_p)

_FUNCS = {
    "sscma_context_options_init": (P(ContextOptions), c_size),
    "sscma_context_create": (P(ContextOptions), P(c_ptr)),
    "sscma_tensor_create": (c_ptr, ctypes.c_int, c_i32, P(c_i64), P(c_ptr)),
    "sscma_tensor_wrap": (c_ptr, ctypes.c_int, c_i32, P(c_i64), c_ptr, c_size, P(c_ptr)),
    "sscma_tensor_dtype": (c_ptr, P(ctypes.c_int)),
    "sscma_tensor_rank": (c_ptr, P(c_i32)),
    "sscma_tensor_dim": (c_ptr, c_i32, P(c_i64)),
    "sscma_tensor_data": (c_ptr, P(c_ptr)),
    "sscma_tensor_quant": (c_ptr, P(c_i32), P(c_i64), P(P(ctypes.c_float)), P(P(c_i32))),
    "sscma_model_create": (c_ptr, c_char_p, P(c_ptr)),
    "sscma_model_prepare": (c_ptr, c_i64, ctypes.c_int),
    "sscma_model_input": (c_ptr, c_char_p, P(c_ptr)),
    "sscma_model_output": (c_ptr, c_char_p, P(c_ptr)),
    "sscma_model_forward": (c_ptr,),
    "sscma_model_save": (c_ptr, c_char_p, c_u32),
    "sscma_model_load": (c_ptr, c_char_p),
    "sscma_model_stats": (c_ptr, P(c_i64), P(c_i64)),
    "sscma_dataset_open": (c_ptr, c_char_p, P(c_ptr)),
    "sscma_dataset_size": (c_ptr, P(c_i64)),
    "sscma_loader_create": (c_ptr, c_ptr, c_char_p, P(c_ptr)),
    "sscma_quant_options_init": (P(QuantOptions), c_size),
    "sscma_qat_options_init": (P(QatOptions), c_size),
    "sscma_qat_prepare": (c_ptr, P(QatOptions)),
    "sscma_qat_convert": (c_ptr, P(c_ptr)),
    "sscma_quantize": (c_ptr, c_ptr, P(QuantOptions), P(c_ptr)),
    "sscma_qmodel_from_model": (c_ptr, P(c_ptr)),
    "sscma_qmodel_is_int8": (c_ptr, P(ctypes.c_int)),
    "sscma_qmodel_prepare": (c_ptr, c_i64),
    "sscma_qmodel_input": (c_ptr, c_i32, P(c_ptr)),
    "sscma_qmodel_output": (c_ptr, c_i32, P(c_ptr), P(c_char_p)),
    "sscma_qmodel_run": (c_ptr,),
    "sscma_qmodel_set_input": (c_ptr, c_i32, c_ptr),
    "sscma_qmodel_get_output": (c_ptr, c_i32, c_ptr),
    "sscma_qmodel_set_meta": (c_ptr, c_char_p, c_char_p),
    "sscma_qmodel_meta": (c_ptr, c_char_p, P(c_char_p)),
    "sscma_qmodel_load_tflite": (c_ptr, c_char_p, P(c_ptr)),
    "sscma_export_tflite": (c_ptr, c_char_p),
    "sscma_export_onnx": (c_ptr, c_char_p),
    "sscma_export_c_array": (c_ptr, c_char_p, c_char_p, c_char_p),
    "sscma_export_verify": (c_ptr, c_char_p, c_ptr, P(VerifyReport)),
    "sscma_trainer_create": (c_ptr, c_ptr, c_ptr, c_char_p, P(c_ptr)),
    "sscma_trainer_set_callback": (c_ptr, TRAIN_CALLBACK, c_ptr),
    "sscma_trainer_set_val_callback": (c_ptr, VAL_CALLBACK, c_ptr),
    "sscma_trainer_log_image": (c_ptr, c_char_p, c_char_p, c_size, c_i64),
    "sscma_trainer_resume": (c_ptr, c_char_p),
    "sscma_trainer_train": (c_ptr,),
    "sscma_trainer_validate": (c_ptr, P(c_ptr)),
    "sscma_trainer_save": (c_ptr, c_char_p),
    "sscma_trainer_position": (c_ptr, P(c_i64), P(c_i64)),
    "sscma_metric_create": (c_char_p, P(c_ptr)),
    "sscma_metric_reset": (c_ptr,),
    "sscma_metric_update": (c_ptr, c_ptr, c_ptr, c_i64),
    "sscma_metric_result_count": (c_ptr, P(c_i32)),
    "sscma_metric_result": (c_ptr, c_i32, P(c_char_p), P(ctypes.c_double)),
    "sscma_config_load": (c_char_p, P(c_ptr)),
    "sscma_config_parse": (c_char_p, c_char_p, P(c_ptr)),
    "sscma_config_set": (c_ptr, c_char_p),
    "sscma_config_resolve": (c_ptr,),
    "sscma_config_get": (c_ptr, c_char_p, P(c_char_p)),
    "sscma_optimizer_create": (c_ptr, c_char_p, P(c_ptr)),
    "sscma_optimizer_step": (c_ptr,),
    "sscma_optimizer_set_lr": (c_ptr, ctypes.c_double),
    "sscma_optimizer_lr": (c_ptr, P(ctypes.c_double)),
    "sscma_optimizer_momentum": (c_ptr, P(ctypes.c_double)),
    "sscma_optimizer_grad_norm": (c_ptr, P(ctypes.c_double)),
    "sscma_model_backward": (c_ptr,),
    "sscma_model_zero_grad": (c_ptr,),
    "sscma_scheduler_create": (c_ptr, c_char_p, c_i64, P(c_ptr)),
    "sscma_scheduler_step_iter": (c_ptr,),
    "sscma_scheduler_step_epoch": (c_ptr,),
    "sscma_runner_create": (c_ptr, c_ptr, P(c_ptr)),
    "sscma_runner_model": (c_ptr, P(c_ptr)),
    "sscma_runner_dataset": (c_ptr, c_char_p, P(c_ptr)),
    "sscma_runner_loader": (c_ptr, c_char_p, P(c_ptr)),
    "sscma_runner_loader_config": (c_ptr, c_char_p, P(c_char_p)),
    "sscma_runner_trainer": (c_ptr, P(c_ptr)),
    "sscma_runner_evaluate": (c_ptr, c_char_p, P(c_ptr)),
    "sscma_runner_set_meta": (c_ptr, c_ptr),
    "sscma_qmodel_memory": (c_ptr, ctypes.c_int, P(c_i64), P(c_i64)),
    "sscma_predict_options_init": (P(PredictOptions), c_size),
    "sscma_predict": (c_ptr, c_ptr, P(PredictOptions), P(Prediction), c_i32, P(c_i32)),
    "sscma_predict_task": (c_ptr, P(PredictOptions), P(ctypes.c_char_p)),
    "sscma_image_read": (c_ptr, c_char_p, c_i32, P(c_ptr)),
    "sscma_audio_clip_read": (c_ptr, c_char_p, c_i64, c_i64, c_i32, P(c_ptr)),
    "sscma_dataset_num_classes": (c_ptr, P(c_i32)),
    "sscma_dataset_class_name": (c_ptr, c_i32, P(c_char_p)),
}
fn: Dict[str, Callable[..., int]] = {name: _declare(name, c_status, *args) for name, args in _FUNCS.items()}

_DESTROY = ["sscma_context_destroy", "sscma_tensor_destroy", "sscma_model_destroy", "sscma_dataset_destroy",
            "sscma_loader_destroy", "sscma_qmodel_destroy", "sscma_trainer_destroy", "sscma_metric_destroy",
            "sscma_config_destroy", "sscma_optimizer_destroy", "sscma_scheduler_destroy", "sscma_runner_destroy"]
destroy: Dict[str, Callable[[Any], None]] = {name: _declare(name, None, c_ptr) for name in _DESTROY}


def check(status: int) -> int:
    """Raises SscmaError for a failed call (the message is the calling thread's last libsscma error)."""
    if status < 0:
        raise SscmaError(status, STATUS_NAMES.get(status, status_string(status).decode()),
                         (last_error() or b"").decode())
    return status
