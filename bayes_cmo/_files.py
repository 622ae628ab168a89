"""Reading the user's YAML and CSV files, with one-line errors that name the file."""

from __future__ import annotations

import csv
import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ._errors import BayesCMOError


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
            return yaml.load(text, Loader=_CLoader)
        except yaml.YAMLError:
            pass  # the pure-Python parser below words the error
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BayesCMOError(f"{path}{where}: malformed YAML ({problem})") from None


def read_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV as strings; anything pandas cannot parse is one line naming the file."""
    path = Path(path)
    if path.is_dir():
        raise BayesCMOError(f"{path}: is a folder; expected a CSV file")
    if not path.is_file():
        raise BayesCMOError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, **kwargs)
    except UnicodeDecodeError:
        raise BayesCMOError(f"{path}: not a CSV text file (it is not UTF-8)") from None
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
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle, skipinitialspace=True):
                return [name.strip() for name in row]
    except (UnicodeDecodeError, OSError, csv.Error):
        pass  # read_csv reports these
    return []


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_atomically(path: Path, write: Callable[[str], None]) -> None:
    """``write(tmp)`` into a temporary file beside ``path``, then rename: a crash never leaves half a file."""
    path = Path(path)
    tmp = None
    try:
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise BayesCMOError(f"{path}: cannot write it ({exc.strerror or exc})") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def folder_atomically(out: Path) -> Iterator[Path]:
    """Fill a temporary folder beside ``out``; on success it replaces ``out`` in one rename.

    The caller has already decided that ``out`` may be (re)placed. On any
    error nothing is left behind and an existing ``out`` is untouched.
    """
    out = Path(out)
    parent = out.parent if str(out.parent) else Path(".")
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out.name}.tmp-"))
    try:
        yield tmp
        if out.exists():
            trash = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out.name}.old-"))
            os.replace(out, trash / out.name)
            os.replace(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
