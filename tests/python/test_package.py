"""Python conventions of the package: one version everywhere, the loaded library named, type hints shipped and
checked (mypy --strict where mypy is installed), a docstring naming the C function on everything public, and a
progress callback that drives tqdm (a fake bar always; the real tqdm when installed)."""
import inspect
import io
import os
import re
import shutil
import subprocess
import sys
import typing

import pytest

import sscma
from sscma import _lib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PACKAGE = os.path.join(ROOT, "bindings", "python")
PIPELINE = [{"type": "Pad", "padding": 2}, {"type": "Normalize", "mean": [72.94], "std": [90.02]}]
CLASSIFIER = {"type": "ImageClassifier", "input_size": [32, 32],
              "backbone": {"type": "MobileNetV2", "widen_factor": 0.35, "in_channels": 1},
              "head": {"type": "LinearClsHead", "num_classes": 10}}


def _meson_version():
    text = open(os.path.join(ROOT, "meson.build")).read()
    return re.search(r"project\('libsscma'.*?version: '([^']+)'", text, re.S).group(1)


def test_one_version_everywhere():
    assert re.fullmatch(r"\d+\.\d+\.\d+", sscma.__version__)
    assert sscma.__version__ == _meson_version()  # the release the package belongs to
    # the built library the suite loads is that release; an installed newer one may differ (the rule below)
    assert sscma.library_version() == sscma.__version__ == sscma.version()
    pyproject = open(os.path.join(PACKAGE, "pyproject.toml")).read()
    assert 'dynamic = ["version"]' in pyproject and not re.search(r'^version\s*=\s*"', pyproject, re.M)
    assert 'version = {attr = "sscma._version.__version__"}' in pyproject


def test_the_loaded_library_is_named():
    assert os.environ.get("SSCMA_LIBRARY"), "the suite runs on the built library (run-pytest.sh sets it)"
    assert sscma.library_path() == os.path.realpath(os.environ["SSCMA_LIBRARY"])
    assert os.path.isabs(sscma.library_path())


def test_an_older_library_is_refused_a_newer_accepted(tmp_path):
    assert _lib.version_number("1.2.3") == 10203
    assert _lib.compatible(10203, "1.2.3") and _lib.compatible(10300, "1.2.3") and _lib.compatible(20000, "1.2.3")
    assert not _lib.compatible(10202, "1.2.3") and not _lib.compatible(900, "0.10.0")
    # end to end: a copy of the package that says it needs a libsscma newer than the built one
    copy = tmp_path / "pkg"
    shutil.copytree(os.path.join(PACKAGE, "sscma"), copy / "sscma")
    (copy / "sscma" / "_version.py").write_text('__version__ = "99.0.0"\n')
    r = subprocess.run([sys.executable, "-c", "import sscma"], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(copy)))
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last == (f"ImportError: {sscma.library_path()} is libsscma {sscma.library_version()}; the sscma package "
                    f"99.0.0 needs libsscma 99.0.0 or newer (set SSCMA_LIBRARY to its path)")


def _public():
    """(qualified name, object) of every public function, class, method and property of the package."""
    for name in sscma.__all__:
        obj = getattr(sscma, name)
        if inspect.isclass(obj):
            yield name, obj
            for attr in inspect.classify_class_attrs(obj):
                if attr.name.startswith("_") and attr.name != "__init__":
                    continue
                inner = attr.object.fget if isinstance(attr.object, property) else attr.object
                inner = getattr(inner, "__func__", inner)  # classmethod, staticmethod
                if (getattr(inner, "__module__", None) or "").split(".")[0] != "sscma":
                    continue  # dict's, Exception's and Protocol's own methods
                if attr.kind in ("method", "class method", "static method", "property"):
                    yield f"{name}.{attr.name}", attr.object
        elif callable(obj):
            yield name, obj


def test_everything_public_has_a_docstring_naming_its_c_function():
    missing, unnamed = [], []
    for qual, obj in _public():
        if qual.endswith("__init__"):
            continue
        target = obj.fget if isinstance(obj, property) else obj
        if isinstance(target, (classmethod, staticmethod)):
            target = target.__func__
        doc = inspect.getdoc(target)
        if not doc:
            missing.append(qual)
            continue
        try:
            source = inspect.getsource(target)
        except TypeError:
            continue
        if inspect.isclass(target):
            source = inspect.getsource(target.__init__) if "__init__" in vars(target) else ""
        called = set(re.findall(r'fn\["(sscma_\w+)"\]', source))
        if called and not any(c in doc for c in called) and not inspect.isclass(target):
            unnamed.append(f"{qual} (calls {', '.join(sorted(called))})")
        if inspect.isclass(target) and called and not any(c in doc for c in called):
            unnamed.append(f"{qual} (its constructor calls {', '.join(sorted(called))})")
    assert not missing, f"no docstring: {missing}"
    assert not unnamed, f"the docstring names none of the C functions called: {unnamed}"
    # help() shows them
    out = io.StringIO()
    import pydoc
    out.write(pydoc.render_doc(sscma.Trainer, renderer=pydoc.plaintext))
    assert "sscma_trainer_set_callback" in out.getvalue() and "Trainer.set_callback" not in out.getvalue()


def test_everything_public_is_annotated():
    unannotated = []
    for qual, obj in _public():
        target = obj.fget if isinstance(obj, property) else obj
        if isinstance(target, (classmethod, staticmethod)):
            target = target.__func__
        if inspect.isclass(target) or not callable(target):
            continue
        hints = typing.get_type_hints(target)  # the string annotations resolve
        sig = inspect.signature(target)
        for p in sig.parameters.values():
            if p.name not in ("self", "cls") and p.name not in hints:
                unannotated.append(f"{qual}({p.name})")
        if "return" not in hints:
            unannotated.append(f"{qual} -> ?")
    assert not unannotated, unannotated


def test_type_hints_are_shipped(tmp_path):
    """py.typed goes into the built package (setuptools' build_py with pyproject's package-data), and the built
    package says the version."""
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    setup = [sys.executable, "-c", "from setuptools import setup; setup()"]
    r = subprocess.run(setup + ["-q", "build_py", "--build-lib", str(tmp_path / "out")], cwd=src,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    built = sorted(os.listdir(tmp_path / "out" / "sscma"))
    assert "py.typed" in built and "_version.py" in built, built
    r = subprocess.run(setup + ["--version"], cwd=src, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1] == sscma.__version__, r.stdout + r.stderr


def test_mypy_strict(tmp_path):
    """The package passes mypy --strict, and a user's mistake is caught through the shipped hints."""
    pytest.importorskip("mypy")
    user = tmp_path / "user.py"
    user.write_text("import sscma\n"
                    "ctx = sscma.Context(threads=2)\n"
                    "n: int = sscma.Dataset(ctx, {'type': 'FashionMNIST'}).classes\n"
                    "sscma.Context(threads='2')\n")
    cmd = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary"]
    env = dict(os.environ, MYPYPATH=PACKAGE)
    r = subprocess.run(cmd + [os.path.join(PACKAGE, "sscma")], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(cmd + [str(user)], capture_output=True, text=True, env=env, cwd=tmp_path)
    errors = [line for line in r.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, r.stdout
    assert 'user.py:3: error: Incompatible types in assignment (expression has type "list[str]"' in errors[0]
    assert 'user.py:4: error: Argument "threads" to "Context" has incompatible type "str"; expected "int"' in errors[1]


class FakeBar:
    """The part of tqdm.tqdm that tqdm_callback may use, recording what it is told."""

    def __init__(self):
        self.n, self.total, self.desc, self.postfix = 0, None, "", {}
        self.updates, self.resets = [], []

    def update(self, n=1):
        self.updates.append(n)
        self.n += n

    def reset(self, total=None):
        self.resets.append(total)
        self.n, self.total = 0, total

    def set_description(self, desc=None, refresh=True):
        self.desc = desc

    def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
        self.postfix = dict(ordered_dict or {}, **kwargs)


def _trainer(ctx, epochs, callback, work_dir=None):
    data = sscma.Dataset(ctx, {"type": "FashionMNIST", "split": "test", "indices": 96})
    train = sscma.Loader(ctx, data, {"batch_size": 32, "pipeline": PIPELINE})
    config = {"max_epochs": epochs, "optim_wrapper": {"optimizer": {"type": "SGD", "lr": 0.01}}}
    return sscma.Trainer(sscma.Model(ctx, CLASSIFIER), train, None, config, callback=callback)


def test_progress_and_a_tqdm_like_bar(tmp_path):
    ctx = sscma.Context(threads=2, seed=3)
    bar, seen = FakeBar(), []
    cb = sscma.tqdm_callback(bar)

    def both(p):
        cancel = cb(p)
        seen.append((p.n, p.total, p.desc, p, bar.n))
        return cancel
    t = _trainer(ctx, 2, both)
    t.train()
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5, 6] and all(s[1] == 6 for s in seen)
    assert [s[0] for s in seen] == [s[4] for s in seen]  # the bar is where training is, at each call
    assert [s[2] for s in seen] == ["epoch 1/2"] * 3 + ["epoch 2/2"] * 3
    assert bar.n == 6 and bar.total == 6 and bar.desc == "epoch 2/2" and bar.updates == [1] * 6
    last = seen[-1][3]
    assert isinstance(last, dict) and last["epoch"] == 2 and last["iter"] == 3 and last["global_iter"] == 6
    assert bar.postfix == {"loss": f"{last['loss']:.4f}", "lr": "1.00e-02", "img/s": f"{last['images_per_s']:.0f}"}
    # a resumed run: the bar starts where training continues, its first step is one iteration
    t.save(tmp_path / "e2.ckpt")
    bar2 = FakeBar()
    t2 = _trainer(ctx, 3, sscma.tqdm_callback(bar2))
    t2.resume(tmp_path / "e2.ckpt")
    t2.train()
    assert bar2.n == 9 and bar2.total == 9 and bar2.updates == [1, 1, 1] and bar2.desc == "epoch 3/3"
    # one bar per epoch, as the sscma command's
    bar3 = FakeBar()
    _trainer(ctx, 2, sscma.tqdm_callback(bar3, per_epoch=True)).train()
    assert bar3.resets == [3, 3] and bar3.n == 3 and bar3.total == 3 and bar3.desc == "epoch 2/2"


def test_the_real_tqdm():
    tqdm = pytest.importorskip("tqdm").tqdm
    ctx = sscma.Context(threads=2, seed=3)
    out = io.StringIO()
    with tqdm(file=out, mininterval=0, ascii=True) as bar:
        _trainer(ctx, 2, sscma.tqdm_callback(bar)).train()
        assert bar.n == 6 and bar.total == 6
    last = out.getvalue().replace("\r", "\n").strip().splitlines()[-1]
    assert re.match(r"epoch 2/2: 100%\|#+\| 6/6 \[.*, loss=\d+\.\d{4}, lr=1\.00e-02, img/s=\d+\]$", last), last
