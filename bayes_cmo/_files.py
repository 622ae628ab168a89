"""Reading the user's YAML and CSV files, with one-line errors that name the file."""

from __future__ import annotations

import csv
import contextlib
import errno
import hashlib
import io
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from ._errors import BayesCMOError
from ._lazy import pandas as pd


class _Loader(yaml.SafeLoader):
    """SafeLoader where only true/false are booleans.

    YAML 1.1 reads the states ``no``/``yes``/``on``/``off`` as booleans, which
    would silently turn a state named ``no`` into ``False``.
    """


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """A mapping where a repeated key is an error (YAML would silently keep the last one)."""
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (first on line {seen[key] + 1}); the later one would silently win",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        except TypeError:  # an unhashable key: let the default constructor report it
            pass
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_CLoader = None
if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        """The same loader on libyaml's C parser: a query's start-up spends most of its own time
        parsing the priors in pure Python otherwise. A file it refuses is parsed again by
        :class:`_Loader`, whose messages the error contract names."""

    _CLoader.yaml_implicit_resolvers = {k: list(v) for k, v in _Loader.yaml_implicit_resolvers.items()}
    _CLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


#: A priors file is a few hundred values; aliases expanding past this are an alias bomb ("billion laughs").
MAX_YAML_VALUES = 100_000
#: Deeper nesting than any priors file needs (and than the loaders' recursion can take).
MAX_YAML_DEPTH = 100


def _check_expansion(path: Path, root: yaml.Node) -> None:
    """Refuse YAML whose aliases expand beyond MAX_YAML_VALUES values, or nested beyond MAX_YAML_DEPTH.

    Counted on the composed node graph (aliases share nodes), without recursion
    and without expanding anything.
    """
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_YAML_DEPTH:
            raise BayesCMOError(
                f"{path}:{node.start_mark.line + 1}: nested too deeply (more than {MAX_YAML_DEPTH} levels); "
                "a priors file needs only a few"
            )
        if id(node) in size and not done:
            continue
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            size[id(node)] = 1
            continue
        if done:
            size[id(node)] = total = 1 + sum(size.get(id(c), 1) for c in children)
            if total > MAX_YAML_VALUES:
                raise BayesCMOError(
                    f"{path}:{node.start_mark.line + 1}: YAML aliases (*name) expand to more than "
                    f"{MAX_YAML_VALUES:,} values; write the values out instead of repeating aliases"
                )
            continue
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in size)


def _compose_checked(path: Path, loader) -> Any:
    """Compose the document, refuse alias bombs and deep nesting (:func:`_check_expansion`), then construct it."""
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(path, node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes one line with file:line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BayesCMOError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise BayesCMOError(f"{path}: is a folder; expected a YAML file") from None
    except UnicodeDecodeError as exc:
        raise BayesCMOError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise BayesCMOError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if _CLoader is not None:
        try:
            return _compose_checked(path, _CLoader(text))
        except yaml.YAMLError:
            pass  # the pure-Python parser below words the error
    try:
        return _compose_checked(path, _Loader(text))
    except RecursionError:
        raise BayesCMOError(f"{path}: nested too deeply to read (more than {MAX_YAML_DEPTH} levels)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BayesCMOError(f"{path}{where}: malformed YAML ({problem})") from None


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode_text(data: bytes) -> str:
    """Text of a file by its byte-order mark: UTF-8 (with or without BOM), or UTF-16 (Excel's "Unicode Text")."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    return data.decode("utf-8")


def read_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV as strings; anything pandas cannot parse is one line naming the file."""
    path = Path(path)
    if path.is_dir():
        raise BayesCMOError(f"{path}: is a folder; expected a CSV file")
    if not path.is_file():
        raise BayesCMOError(f"{path}: file not found")
    try:
        text = decode_text(path.read_bytes())
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True, **kwargs)
    except UnicodeDecodeError:
        raise BayesCMOError(f"{path}: not a CSV text file (it is neither UTF-8 nor UTF-16 with a byte-order mark)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BayesCMOError(f"{path}: not a readable CSV file ({first})") from None
    except OSError as exc:
        raise BayesCMOError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda col: col.str.strip())


def csv_header(path: Path) -> list[str]:
    """The header row's names as written (pandas renames blank and repeated ones), stripped."""
    try:
        text = decode_text(Path(path).read_bytes())
        for row in csv.reader(io.StringIO(text, newline=""), skipinitialspace=True):
            return [name.strip() for name in row]
    except (UnicodeDecodeError, OSError, csv.Error):
        pass  # read_csv reports these
    return []


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- writing: atomic, never half a file, permissions as the umask says --------------------------------

#: renameat2(2) flags (Linux): fail if the target exists / swap source and target in one step.
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
_RENAMEAT2: Any = None
_TAG = "bayes-cmo"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(target: Path, folder: bool) -> int:
    """The replaced output's mode (--force keeps it), else what the umask gives a new file or folder."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return (0o777 if folder else 0o666) & ~_umask()


def _rename2(src: Path | str, dst: Path | str, flags: int) -> bool:
    """renameat2(2) through ctypes; False where the OS or the file system lacks it (then the caller falls back)."""
    global _RENAMEAT2
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    if _RENAMEAT2 is None:
        try:
            func = ctypes.CDLL(None, use_errno=True).renameat2
            func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            func.restype = ctypes.c_int
            _RENAMEAT2 = func
        except (OSError, AttributeError):
            _RENAMEAT2 = False
    if not _RENAMEAT2:
        return False
    at_fdcwd = -100
    if _RENAMEAT2(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(dst))


def _prefix(target: Path) -> str:
    return f".{target.name}.{_TAG}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftovers(target: Path) -> list[Path]:
    """Temporary files and folders a killed run left beside ``target`` (its process is gone)."""
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    found = []
    try:
        candidates = list(parent.glob(f".{glob_escape(target.name)}.{_TAG}-*"))
    except OSError:
        return []
    for path in candidates:
        match = re.fullmatch(rf"\.{re.escape(target.name)}\.{_TAG}-(\d+)-.*\.(tmp|old)", path.name)
        if match and not _alive(int(match.group(1))):
            found.append(path)
    return found


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def recover(target: Path) -> None:
    """Clean what a killed run left beside ``target``: restore a displaced old copy if ``target`` is missing."""
    target = Path(target)
    for path in sorted(leftovers(target), key=lambda p: not p.name.endswith(".old")):
        try:
            if path.name.endswith(".old") and not os.path.lexists(target):
                os.rename(path, target)  # the run died between its two renames: put the old copy back
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
        except OSError:
            pass  # someone else's file, or already gone: leave it


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    return exc.strerror or str(exc)


def _exists_error(target: Path) -> BayesCMOError:
    return BayesCMOError(f"{target}: appeared while this ran; choose another name or pass --force to replace it")


def _place_file(tmp: str, target: Path, replace: bool) -> None:
    if replace:
        os.replace(tmp, target)
        return
    try:
        if _rename2(tmp, target, RENAME_NOREPLACE):
            return
    except FileExistsError:
        raise _exists_error(target) from None
    try:  # a hard link never replaces an existing name
        os.link(tmp, target)
    except FileExistsError:
        raise _exists_error(target) from None
    except OSError:  # no hard links on this file system
        if os.path.lexists(target):
            raise _exists_error(target) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def write_atomically(
    path: Path,
    write: Callable[[str], None],
    *,
    replace: bool = True,
    guard: Callable[[], None] | None = None,
) -> None:
    """``write(tmp)`` into a temporary file beside ``path``, then rename: a crash never leaves half a file.

    The file gets the umask's permissions (or, when it replaces one, that
    file's mode). ``guard()`` runs right before the rename and may refuse;
    with ``replace=False`` an existing ``path`` (even one made while this ran)
    is never replaced. Nothing is left behind on any failure.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    recover(path)
    tmp = None
    try:
        handle, tmp = tempfile.mkstemp(dir=parent, prefix=_prefix(path), suffix=".tmp")
        os.close(handle)
        write(tmp)
        os.chmod(tmp, _mode_for(path, folder=False))
        if guard is not None:
            guard()
        _place_file(tmp, path, replace)
        tmp = None
    except OSError as exc:
        raise BayesCMOError(f"{path}: cannot write it ({_reason(exc)})") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_text(path: Path, text: str, **options: Any) -> None:
    """``text`` as UTF-8 into ``path``, atomically (options as for :func:`write_atomically`)."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            out.write(text)

    write_atomically(path, write, **options)


#: A cell a spreadsheet would run as a formula starts with one of these (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_cell(value: Any) -> Any:
    """A text cell starting like a formula, prefixed with ' so a spreadsheet shows it as text; numbers untouched."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell and header made safe for a spreadsheet; numeric columns stay numeric."""
    safe = frame.copy()
    for column in safe.columns:
        if not (pd.api.types.is_numeric_dtype(safe[column]) or pd.api.types.is_bool_dtype(safe[column])):
            safe[column] = safe[column].astype(object).map(spreadsheet_cell)
    safe.columns = [spreadsheet_cell(c) for c in safe.columns]
    return safe


def csv_text(frame: pd.DataFrame, **kwargs: Any) -> str:
    """The CSV text of a table for people (and their spreadsheets): formula-like cells escaped, no index."""
    return spreadsheet_safe(frame).to_csv(index=False, **kwargs)


def write_csv(path: Path, frame: pd.DataFrame, **options: Any) -> None:
    """A table as a spreadsheet-safe CSV file, atomically (options as for :func:`write_atomically`)."""
    write_text(path, csv_text(frame), **options)


FIGURE_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


def save_figure(fig: Any, path: Path, *, dpi: int = 200, **options: Any) -> None:
    """A matplotlib figure into ``path`` (.png / .pdf / .svg), atomically: never a truncated figure."""
    path = Path(path)
    fmt = FIGURE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BayesCMOError(f"{path}: expected a .png, .pdf or .svg file name")
    write_atomically(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight"), **options)


@contextlib.contextmanager
def folder_atomically(
    out: Path, *, replace: bool = True, guard: Callable[[], None] | None = None
) -> Iterator[Path]:
    """Fill a temporary folder beside ``out``; on success it takes the place of ``out`` in one step.

    Where Linux has it, an existing ``out`` is swapped with the new folder by
    renameat2(RENAME_EXCHANGE), so there is no moment without ``out``;
    elsewhere the old copy is moved aside first and a killed run's copy is put
    back by the next run (:func:`recover`). ``guard()`` runs right before the
    swap and may refuse; with ``replace=False`` an existing ``out`` is never
    replaced. On any error nothing is left behind and ``out`` is untouched.
    """
    out = Path(out)
    parent = out.parent if str(out.parent) else Path(".")
    recover(out)
    try:
        tmp = Path(tempfile.mkdtemp(dir=parent, prefix=_prefix(out), suffix=".tmp"))
    except OSError as exc:
        raise BayesCMOError(f"{out}: cannot write it ({_reason(exc)})") from None
    old = None
    try:
        yield tmp
        os.chmod(tmp, _mode_for(out, folder=True))
        if guard is not None:
            guard()
        if os.path.lexists(out):
            if not replace:
                raise _exists_error(out)
            if _rename2(tmp, out, RENAME_EXCHANGE):
                old, tmp = tmp, None  # the old copy now sits in the temporary name
            else:
                old = parent / f"{_prefix(out)}{os.urandom(4).hex()}.old"
                os.rename(out, old)
                os.rename(tmp, out)
                tmp = None
        else:
            try:
                done = _rename2(tmp, out, RENAME_NOREPLACE)
            except FileExistsError:
                raise _exists_error(out) from None
            if not done:
                os.rename(tmp, out)
            tmp = None
    except OSError as exc:
        raise BayesCMOError(f"{out}: cannot write it ({_reason(exc)})") from None
    finally:
        for leftover in (tmp, old):
            if leftover is not None and os.path.lexists(leftover):
                shutil.rmtree(leftover, ignore_errors=True)
