"""Writing an export so that nothing partial is ever left: every file goes into a
temporary sibling (a folder, or a file) that is renamed into place only when complete;
a failure (a read-only folder, a full disk) removes it and raises ``ExportError`` with
words for the user. An existing target is replaced only after the new one is complete.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.export.source import ExportError


def _words(error: OSError, target: Path) -> str:
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write to {target.parent}: the folder is read-only or not yours"
    if error.errno == errno.ENOSPC:
        return f"cannot write {target.name}: the disk is full"
    return f"cannot write {target}: {error.strerror or error}"


def write_staged(target: Path, fill: Callable[[Path], list[Path]], folder: bool) -> list[Path]:
    """Make ``target`` (a folder when ``folder``, else a file) by calling ``fill`` with a
    temporary path of the same kind beside it; ``fill`` writes there and returns the files
    it wrote. Returns those files as they are after the rename into ``target``."""
    target = Path(target)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if folder:
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
        else:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=parent)
            os.close(fd)
            staging = Path(name)
    except OSError as e:
        raise ExportError(_words(e, target)) from None
    try:
        written = fill(staging)
        # mkdtemp/mkstemp make private files; an export is for sharing, like any saved file.
        staging.chmod(0o755 if folder else 0o644)
        if folder:
            for f in staging.iterdir():
                f.chmod(0o644)
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            if target.exists():
                old = parent / f".{target.name}.old"
                shutil.rmtree(old, ignore_errors=True)
                os.replace(target, old)
                os.replace(staging, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(staging, target)
            return [target / Path(p).relative_to(staging) for p in written]
        with open(staging, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(staging, target)
        return [target]
    except OSError as e:
        raise ExportError(_words(e, target)) from None
    finally:
        if staging.exists():
            if staging.is_dir():
                shutil.rmtree(staging, ignore_errors=True)
            else:
                staging.unlink(missing_ok=True)
