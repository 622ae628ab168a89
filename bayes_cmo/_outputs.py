"""The one output guard: nothing a user gave is ever overwritten, whatever the options.

Every verb names its inputs (priors folder or network file, case file, costs
file) and its outputs (``--out``, ``--csv``, ``--plot``, ``--report``, ...)
once, before any work::

    outputs = plan_outputs([("--csv", args.csv, "csv"), ("--plot", args.plot, "figure")],
                           inputs=[args.model, args.cases], force=args.force)
    ...
    outputs["--csv"].write_csv(frame)

:func:`plan_outputs` refuses, each as one line naming the option:

- an output that is an input, lies inside an input folder, or is a folder
  holding an input (even with ``--force``);
- two options naming one path, or one output inside another's folder;
- an existing output without ``--force``; with ``--force``, an existing one
  of another kind: a file is replaced only by a file of its format (a
  figure by a figure, a CSV by text), a folder only if this tool wrote it
  (it holds ``provenance.yaml`` saying ``created_by: bayes_cmo``);
- a folder that does not exist or cannot be written in (probed, not guessed).

The writers (:meth:`Output.write_csv`, :meth:`Output.save_figure`,
:meth:`Output.folder`, ...) go through :mod:`._files`' atomic writers and run
the same checks again right before the final rename, so a file that appears
while the work runs is not silently replaced.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _files
from ._errors import BayesCMOError

#: The marker file of a folder this tool wrote (update's priors folders, report folders).
MARKER = "provenance.yaml"
MARKER_LINE = "created_by: bayes_cmo"

#: Kinds of output: the suffixes a file of that kind may have (None: any) and a check of its first bytes.
_TEXT = "text"
_MAGIC = {".png": (b"\x89PNG",), ".pdf": (b"%PDF",), ".svg": (b"<?xml", b"<svg", b"<!--")}
KINDS: dict[str, tuple[str, ...] | None] = {
    "csv": (".csv", ".tsv", ".txt"),
    "figure": (".png", ".pdf", ".svg"),
    "network": (".bif", ".xmlbif", ".bifxml", ".xml", ".net", ".xdsl"),
    "xlsx": (".xlsx",),
    "text": None,
    "folder": None,
}
_EXAMPLES = {"network": "cmo.xdsl"}
_KIND_NAMES = {"csv": "CSV", "figure": "figure", "network": "network", "xlsx": "workbook", "text": "text", "folder": "folder"}


def _resolve(path: str | Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # a hard link, or another name of one file
    except OSError:
        return False


def input_problem(output: Path, given: str | Path) -> str | None:
    """Why ``output`` would touch the input ``given``, or None."""
    target, source = _resolve(output), _resolve(given)
    if target == source or _same_file(target, source):
        return f"is the input {given}"
    if source.is_relative_to(target):
        return f"would replace the folder holding the input {given}"
    if target.is_relative_to(source) and source.is_dir():
        return f"is inside the input folder {given}"
    return None


def _looks_like(path: Path, kind: str) -> bool:
    """Is the existing ``path`` an output of ``kind`` (so that --force may replace it)?"""
    if kind == "folder":
        marker = path / MARKER
        try:
            return marker.is_file() and MARKER_LINE in marker.read_text(encoding="utf-8", errors="replace")[:4000]
        except OSError:
            return False
    if not path.is_file():
        return False
    suffixes = KINDS[kind]
    if suffixes is not None and path.suffix.lower() not in suffixes:
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    if kind == "xlsx":
        return head.startswith(b"PK\x03\x04")  # a workbook is a zip archive
    if kind == "figure":
        starts = _MAGIC[path.suffix.lower()]
        return head.lstrip().startswith(starts) or (path.suffix.lower() == ".svg" and b"<svg" in head)
    if not head:
        return True
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # binary: not a text table or network file
    return True


def _probe_writable(folder: Path) -> str | None:
    """Why nothing can be written in ``folder``, or None (a real probe: create and remove a file)."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".bayes-cmo-probe-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


@dataclass(frozen=True)
class Output:
    """One output path a verb will write, checked against the inputs and the other outputs."""

    option: str
    path: Path
    kind: str
    force: bool = False
    inputs: tuple[Path, ...] = ()

    def _name(self) -> str:
        return f"{self.option} {self.path}" if self.option else str(self.path)

    def check_inputs(self) -> None:
        for given in self.inputs:
            problem = input_problem(self.path, given)
            if problem:
                raise BayesCMOError(f"{self._name()}: {problem}; inputs are never overwritten, choose another name")

    def check_existing(self, *, again: bool = False) -> None:
        path = self.path
        if not os.path.lexists(path):
            return
        if not self.force:
            when = "appeared while this ran" if again else "already exists"
            raise BayesCMOError(f"{self._name()}: {when}; choose another name or pass --force to replace it")
        if self.kind == "folder":
            if not path.is_dir():
                raise BayesCMOError(f"{self._name()}: exists and is not a folder; choose another name")
            if not _looks_like(path, "folder"):
                raise BayesCMOError(
                    f"{self._name()}: is a folder bayes-cmo did not write (no {MARKER}); "
                    "--force replaces only folders it wrote, choose another name"
                )
            return
        if path.is_dir():
            raise BayesCMOError(f"{self._name()}: is a folder; give a file name inside it")
        if not _looks_like(path, self.kind):
            raise BayesCMOError(
                f"{self._name()}: exists and is not a {_KIND_NAMES[self.kind]} file this could have written; "
                "--force replaces only a file of the kind being written, choose another name"
            )

    def check(self) -> None:
        """Every check, before the work: inputs, an existing path, the suffix, a writable folder."""
        self.check_inputs()
        suffixes = KINDS[self.kind]
        if self.kind == "figure" and self.path.suffix.lower() not in suffixes:
            raise BayesCMOError(f"{self._name()}: expected a .png, .pdf or .svg file name")
        if self.kind == "xlsx" and self.path.suffix.lower() not in suffixes:
            raise BayesCMOError(f"{self._name()}: expected a file name ending in .xlsx")
        if self.kind != "folder" and self.path.is_dir():
            example = _EXAMPLES.get(self.kind)
            hint = f"such as {self.path / example}" if example else "inside it"
            raise BayesCMOError(f"{self._name()}: is a folder; give a file name {hint}")
        self.check_existing()
        parent = self.path.parent if str(self.path.parent) else Path(".")
        if not parent.exists():
            raise BayesCMOError(f"{self._name()}: the folder {parent} does not exist")
        if not parent.is_dir():
            raise BayesCMOError(f"{self._name()}: cannot write it ({parent} is a file, not a folder)")
        reason = _probe_writable(parent)
        if reason:
            raise BayesCMOError(f"{self._name()}: cannot write it in {parent} ({reason})")

    def recheck(self) -> None:
        """Right before the final rename: the path is still no input, and still ours to (re)place."""
        self.check_inputs()
        self.check_existing(again=True)

    def _options(self) -> dict[str, Any]:
        return {"replace": self.force, "guard": self.recheck}

    # the writers -------------------------------------------------------------------------------------

    def write_text(self, text: str) -> Path:
        _files.write_text(self.path, text, **self._options())
        return self.path

    def write_csv(self, frame) -> Path:
        """A table for people: spreadsheet-safe CSV (formula-like cells escaped)."""
        _files.write_csv(self.path, frame, **self._options())
        return self.path

    def write_with(self, write: Callable[[str], None]) -> Path:
        """``write(tmp)`` fills a temporary file that then takes this path."""
        _files.write_atomically(self.path, write, **self._options())
        return self.path

    def save_figure(self, fig, *, dpi: int = 200) -> Path:
        _files.save_figure(fig, self.path, dpi=dpi, **self._options())
        return self.path

    @contextlib.contextmanager
    def folder(self) -> Iterator[Path]:
        """A temporary folder to fill; it then takes this path in one step (see _files.folder_atomically)."""
        with _files.folder_atomically(self.path, **self._options()) as tmp:
            yield tmp


OutputSpec = tuple[str, "str | Path | None", str]


def plan_outputs(
    outputs: Iterable[OutputSpec],
    *,
    inputs: Iterable[str | Path | None] = (),
    force: bool = False,
) -> dict[str, Output]:
    """Check every ``(option, path, kind)`` before any work; the planned outputs by option (None paths left out).

    ``kind`` is one of :data:`KINDS`. Raises :class:`BayesCMOError` naming the
    option for the first problem.
    """
    given = tuple(Path(p) for p in inputs if p is not None and str(p) != "")
    planned: dict[str, Output] = {}
    for option, path, kind in outputs:
        if path is None or str(path) == "":
            continue
        if kind not in KINDS:
            raise ValueError(f"unknown output kind {kind!r}")
        output = Output(option=option, path=Path(path), kind=kind, force=force, inputs=given)
        output.check_inputs()
        target = _resolve(path)
        for other in planned.values():
            there = _resolve(other.path)
            if there == target:
                raise BayesCMOError(f"{path}: named by both {other.option} and {option}; give each its own file")
            for inner, outer in ((output, other), (other, output)):
                if outer.kind == "folder" and _resolve(inner.path).is_relative_to(_resolve(outer.path)):
                    raise BayesCMOError(
                        f"{inner.option} {inner.path}: lies inside {outer.option} {outer.path}, which is written "
                        "as a whole; give it a name outside that folder"
                    )
        planned[option] = output
    for output in planned.values():
        output.check()
    return planned


def check_output(option: str, path: str | Path, kind: str, *, inputs: Iterable[str | Path | None] = (), force: bool = False) -> Output:
    """:func:`plan_outputs` for one output."""
    return plan_outputs([(option, path, kind)], inputs=inputs, force=force)[option]


def marker_text(created: str, **fields: Any) -> str:
    """A provenance marker's YAML for a folder this tool writes (the --force test reads its first line)."""
    import yaml

    from ._version import __version__

    record = {"created_by": f"bayes_cmo {__version__}", "created": created, **fields}
    return yaml.safe_dump(record, sort_keys=False, allow_unicode=True)


def options_of(args: Any, names: Mapping[str, str]) -> list[OutputSpec]:
    """``[(--option, args.option, kind)]`` for a namespace, for the options it has."""
    specs = []
    for attr, kind in names.items():
        if hasattr(args, attr):
            specs.append(("--" + attr.replace("_", "-"), getattr(args, attr), kind))
    return specs


def plan_folder_files(
    option: str,
    folder: str | Path,
    files: Mapping[str, str],
    *,
    inputs: Iterable[str | Path | None] = (),
    force: bool = False,
) -> dict[str, Output]:
    """Files ``{name: kind}`` to write into ``folder`` (made if missing), every one through the guard.

    For scripts that fill a folder with tables and figures one by one: the
    folder is never an input nor inside one; each file is checked as
    :func:`plan_outputs` checks an option.
    """
    folder = Path(folder)
    given = [p for p in inputs if p is not None and str(p) != ""]
    for source in given:
        problem = input_problem(folder, source)
        if problem and not problem.startswith("would replace"):  # files go into it; the folder itself stays
            raise BayesCMOError(f"{option} {folder}: {problem}; inputs are never overwritten, choose another folder")
    if os.path.lexists(folder) and not folder.is_dir():
        raise BayesCMOError(f"{option} {folder}: is a file; expected a folder")
    planned = {name: Output(option="", path=folder / name, kind=kind, force=force, inputs=tuple(Path(p) for p in given))
               for name, kind in files.items()}
    for item in planned.values():  # refuse before making the folder
        item.check_inputs()
        item.check_existing()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BayesCMOError(f"{option} {folder}: cannot make the folder ({exc.strerror or exc})") from None
    for item in planned.values():
        item.check()
    return planned
