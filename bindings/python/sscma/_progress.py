"""Training progress as Python sees it, and the adapter that drives a tqdm bar with it."""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional

try:
    from typing import Protocol
except ImportError:  # pragma: no cover - Python < 3.8 is not supported (requires-python >= 3.9)
    Protocol = object  # type: ignore[assignment]


class Progress(Dict[str, float]):
    """What a training callback receives after each iteration (sscma_train_progress).

    A dict, keys as the C struct's fields: "epoch" (1-based), "max_epochs", "iter" (1-based, within the epoch),
    "iters_per_epoch", "global_iter" (iterations done since the start of training, resumes included), "loss", "lr",
    "momentum", "images_per_s" and "eta_s" (seconds to the end at that throughput). The properties give what a
    progress bar shows, named as tqdm's attributes.
    """

    @property
    def n(self) -> int:
        """Iterations done in the whole run ("global_iter")."""
        return int(self["global_iter"])

    @property
    def total(self) -> int:
        """Iterations of the whole run: max_epochs * iters_per_epoch."""
        return int(self["max_epochs"]) * int(self["iters_per_epoch"])

    @property
    def desc(self) -> str:
        """"epoch E/MAX", the bar's description."""
        return f"epoch {int(self['epoch'])}/{int(self['max_epochs'])}"

    @property
    def postfix(self) -> Dict[str, str]:
        """{"loss", "lr", "img/s"} formatted as the CLI's bar shows them (for tqdm's set_postfix)."""
        return {"loss": f"{self['loss']:.4f}", "lr": f"{self['lr']:.2e}", "img/s": f"{self['images_per_s']:.0f}"}


class ProgressBar(Protocol):
    """What tqdm_callback needs of a bar: the part of tqdm.tqdm's interface it uses."""

    n: float
    total: Optional[float]

    def update(self, n: float = 1) -> Optional[bool]:
        """Advances the bar by n."""

    def reset(self, total: Optional[float] = None) -> None:
        """Restarts the bar at 0 with a new total."""

    def set_description(self, desc: Optional[str] = None, refresh: bool = True) -> None:
        """Sets the text before the bar."""

    def set_postfix(self, ordered_dict: Optional[Mapping[str, Any]] = None, refresh: bool = True,
                    **kwargs: Any) -> None:
        """Sets the key=value text after the bar."""


def tqdm_callback(bar: ProgressBar, per_epoch: bool = False) -> Callable[[Progress], bool]:
    """A training callback that drives a tqdm progress bar (or anything with tqdm's update/reset/set_* methods).

    Args:
        bar: a `tqdm.tqdm` (any total; this sets it), or an object with the methods of ProgressBar.
        per_epoch: False: one bar for the whole run, total max_epochs * iters_per_epoch (a resumed run starts where
            it stopped). True: the bar restarts at each epoch with total iters_per_epoch, as the `sscma` command's bar.

    Returns:
        A callback for Trainer(callback=...), Trainer.set_callback or Runner.trainer: it sets the description to
        "epoch E/MAX" and the postfix to loss, lr and img/s, advances the bar, and never cancels.

    Example:
        >>> from tqdm import tqdm
        >>> with tqdm(unit="it") as bar:
        ...     runner.trainer(callback=sscma.tqdm_callback(bar)).train()
    """
    state = {"epoch": -1}

    def update(p: Progress) -> bool:
        epoch = int(p["epoch"])
        if per_epoch:
            if epoch != state["epoch"]:
                bar.reset(total=int(p["iters_per_epoch"]))
            done = int(p["iter"])
        else:
            if bar.total != p.total:
                bar.total = p.total
            done = p.n
            if state["epoch"] < 0 and bar.n < done - 1:
                bar.n = done - 1  # a resumed run: start the bar (and its rate) where training continues
                if hasattr(bar, "last_print_n"):  # tqdm measures its rate from there
                    setattr(bar, "last_print_n", done - 1)
        if epoch != state["epoch"]:
            bar.set_description(p.desc, refresh=False)
            state["epoch"] = epoch
        bar.set_postfix(p.postfix, refresh=False)
        bar.update(done - bar.n)
        return False

    return update
