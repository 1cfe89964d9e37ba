"""Checkpoint bundles: a run folder's chapters up to one, packed so that a workshop can start at the next.

An instructor runs the book once and packs one bundle per starting chapter::

    python -m galaxysd checkpoint pack --profile demo --upto 03_generate -o demo-upto-03.tar.gz

A participant unpacks it into an empty run folder and runs the chapter; every stage of chapters 01-03
is then loaded from the run folder, none recomputed::

    python -m galaxysd checkpoint unpack demo-upto-03.tar.gz
    python -m galaxysd run --profile demo --only 04_embedding

A bundle is a gzip-compressed tar file. Its first member, ``checkpoint.json``, is the manifest: the
bundle format, the galaxysd version and a fingerprint of its code (:func:`code_fingerprint`), the
profile, the chapters, and every file with its size and sha256. The other members are the chapters'
files, named relative to the run folder (stage outputs name each other relatively too, see
:func:`galaxysd.paths.portable_path`, so the run folder can move). Hidden files (the digest memo,
partial folders of interrupted stages) stay behind.

Unpacking refuses, with a :class:`~galaxysd.errors.CheckpointError` naming the bundle and what is
wrong: a bundle of another format, galaxysd version or code (cached stages carry no record of the
code that made them, so they would be loaded as if this code had made them); a damaged one (not a
gzip'd tar, truncated, a file missing, extra or with the wrong checksum); a member that is a link,
a device, or whose name leaves the run folder. Files are extracted into a temporary folder beside the
run folder, checked, and renamed into place, so a refused bundle leaves nothing behind.

Why not ``tarfile.extractall`` with its ``data`` filter? The filter refuses unsafe names and links,
but knows nothing of checksums, missing files or the manifest; the few lines here check all of it
while each file streams out of the archive once.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import time
import zlib
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

from galaxysd import __version__
from galaxysd.cache import atomic_path, sha256_file
from galaxysd.errors import CheckpointError
from galaxysd.paths import CHAPTER_NAME, PACKAGE_DIR

#: Version of the bundle layout; a bundle of another is refused.
FORMAT = 1
#: The manifest's member name (the bundle's first member).
MANIFEST_NAME = "checkpoint.json"
_CHUNK = 1 << 20


def code_fingerprint() -> str:
    """sha256 of the galaxysd package's files (code, profiles, style), line endings normalised.

    Two installs of the same release (or two checkouts of one commit, on Windows too) agree; any
    edit of the package changes it.

    Examples
    --------
    >>> len(code_fingerprint())
    64
    """
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        parts = path.relative_to(PACKAGE_DIR).parts
        if path.is_file() and "__pycache__" not in parts and not any(p.startswith(".") for p in parts) \
                and path.suffix != ".pyc":
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def _number(chapter: str) -> int:
    head = chapter.split("_", 1)[0]
    if not head.isdigit():
        raise CheckpointError(f"--upto {chapter!r} is not a chapter: name one as 03_generate or 03")
    return int(head)


def _visible_files(folder: Path) -> Iterator[Path]:
    """Files under ``folder`` with no hidden part (memo, partial folders, temporaries left out)."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def chapters_upto(run_dir: str | os.PathLike, upto: str) -> list[str]:
    """The chapter folders of ``run_dir`` numbered up to ``upto`` (``"03_generate"`` or ``"03"``), in order.

    Raises
    ------
    CheckpointError
        If ``upto`` names no chapter, or a chapter up to it has not run in ``run_dir``.

    Examples
    --------
    >>> chapters_upto(paths.run, "03_generate")  # doctest: +SKIP
    ['01_data', '02_finetune', '03_generate']
    """
    run = Path(run_dir)
    limit = _number(upto)
    found = {}
    if run.is_dir():
        for folder in run.iterdir():
            if folder.is_dir() and CHAPTER_NAME.fullmatch(folder.name) and _number(folder.name) <= limit:
                found[_number(folder.name)] = folder.name
    missing = [n for n in range(1, limit + 1) if n not in found]
    if "_" in upto and found.get(limit) not in (None, upto):
        raise CheckpointError(f"--upto {upto}: chapter {limit:02d} of run folder {run} is {found[limit]}")
    if missing:
        raise CheckpointError(f"run folder {run} holds no chapter {', '.join(f'{n:02d}' for n in missing)}; "
                              f"run the chapters up to {upto} first (python -m galaxysd run --only ...)")
    return [found[n] for n in sorted(found)]


def pack(run_dir: str | os.PathLike, upto: str, out: str | os.PathLike, profile: str) -> Path:
    """Bundle the chapters of ``run_dir`` up to ``upto`` into ``out`` (a ``.tar.gz`` file).

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    upto : str
        The last chapter packed (``"03_generate"`` or ``"03"``).
    out : str or path-like
        The bundle to write (replaced if it exists; written atomically).
    profile : str
        The profile the run folder belongs to (recorded, and checked on unpacking).

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    CheckpointError
        If a chapter up to ``upto`` has not run.

    Examples
    --------
    >>> pack(paths.run, "03_generate", "demo-upto-03.tar.gz", "demo")  # doctest: +SKIP
    """
    run = Path(run_dir)
    chapters = chapters_upto(run, upto)
    files = {}
    for chapter in chapters:
        for path in _visible_files(run / chapter):
            files[path.relative_to(run).as_posix()] = {"size": path.stat().st_size, "sha256": sha256_file(path)}
    manifest = {"format": FORMAT, "galaxysd": __version__, "code": code_fingerprint(), "profile": profile,
                "upto": chapters[-1], "chapters": chapters,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "files": files}
    data = json.dumps(manifest, indent=1).encode()
    out = Path(out)
    with atomic_path(out) as tmp:
        with tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
            for name in files:
                tar.add(run / name, arcname=name, recursive=False)
    return out


_DAMAGE = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError)


def read_manifest(bundle: str | os.PathLike) -> dict:
    """The manifest of a bundle (its first member), checked for form but not against this install.

    Raises
    ------
    CheckpointError
        If the file is missing, not a gzip'd tar, or does not start with a readable manifest.

    Examples
    --------
    >>> read_manifest("demo-upto-03.tar.gz")["chapters"]  # doctest: +SKIP
    ['01_data', '02_finetune', '03_generate']
    """
    bundle = Path(bundle)
    if not bundle.is_file():
        raise CheckpointError(f"checkpoint bundle {bundle} does not exist")
    try:
        with tarfile.open(bundle, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST_NAME or not first.isfile():
                raise CheckpointError(f"checkpoint bundle {bundle} does not start with {MANIFEST_NAME}: "
                                      "not a galaxysd bundle (make one with python -m galaxysd checkpoint pack)")
            manifest = json.loads(tar.extractfile(first).read())
    except CheckpointError:
        raise
    except (ValueError, *_DAMAGE) as err:
        raise CheckpointError(f"checkpoint bundle {bundle} is damaged: cannot read its manifest "
                              f"({type(err).__name__}: {err}); copy it again") from err
    keys = ("format", "galaxysd", "code", "profile", "chapters", "files")
    if not isinstance(manifest, dict) or any(k not in manifest for k in keys):
        raise CheckpointError(f"checkpoint bundle {bundle}: {MANIFEST_NAME} lacks one of {list(keys)}")
    return manifest


def check_manifest(manifest: dict, bundle: str | os.PathLike, allow_other_code: bool = False) -> None:
    """Refuse a bundle of another format, galaxysd version or (unless allowed) code.

    Raises
    ------
    CheckpointError
        Naming the bundle, what it was made with and what this install is.
    """
    if manifest["format"] != FORMAT:
        raise CheckpointError(f"checkpoint bundle {bundle} has format {manifest['format']}; this galaxysd "
                              f"reads format {FORMAT}: pack it again with this version")
    if manifest["galaxysd"] != __version__:
        raise CheckpointError(f"checkpoint bundle {bundle} was made by galaxysd {manifest['galaxysd']}, this is "
                              f"{__version__}: install galaxysd {manifest['galaxysd']}, or pack the bundle again "
                              "with this version")
    if manifest["code"] != code_fingerprint() and not allow_other_code:
        raise CheckpointError(f"checkpoint bundle {bundle} was made by other galaxysd code (fingerprint "
                              f"{manifest['code'][:12]}, this install's {code_fingerprint()[:12]}): its stages "
                              "would be loaded as if this code had made them. Check out the commit the bundle "
                              "was made with, pack it again, or pass --allow-other-code to load them anyway")


def _member_name(member: tarfile.TarInfo, bundle: Path, chapters: list[str]) -> str:
    """A member's name, refused unless it is a plain file or folder inside one of the bundle's chapters."""
    name = member.name
    parts = PurePosixPath(name).parts
    if (not parts or name.startswith(("/", "\\")) or "\\" in name or ":" in parts[0] or ".." in parts
            or parts[0] not in chapters):
        raise CheckpointError(f"checkpoint bundle {bundle}: member {name!r} would be written outside the "
                              f"chapters {chapters} of the run folder; refused")
    if not (member.isfile() or member.isdir()):
        raise CheckpointError(f"checkpoint bundle {bundle}: member {name!r} is not a plain file "
                              f"(a link or device); refused")
    return name


def _extract(bundle: Path, manifest: dict, place: Callable[[str], Path | None]) -> None:
    """Stream every file of the bundle, checking its checksum; write it where ``place(name)`` says (None: nowhere)."""
    expected = manifest["files"]
    seen = set()
    try:
        with tarfile.open(bundle, "r:gz") as tar:
            for index, member in enumerate(tar):
                if index == 0:  # the manifest
                    continue
                name = _member_name(member, bundle, manifest["chapters"])
                if member.isdir():
                    continue
                if name not in expected:
                    raise CheckpointError(f"checkpoint bundle {bundle}: file {name} is not in its manifest")
                target = place(name)
                if target is not None:
                    target.parent.mkdir(parents=True, exist_ok=True)
                digest, size, source = hashlib.sha256(), 0, tar.extractfile(member)
                with open(target, "wb") if target is not None else io.BytesIO() as sink:
                    for chunk in iter(lambda: source.read(_CHUNK), b""):
                        digest.update(chunk)
                        size += len(chunk)
                        if target is not None:
                            sink.write(chunk)
                if digest.hexdigest() != expected[name]["sha256"] or size != expected[name]["size"]:
                    raise CheckpointError(f"checkpoint bundle {bundle}: file {name} does not match its checksum "
                                          f"({size} bytes, manifest: {expected[name]['size']}); the bundle is "
                                          "damaged, copy it again")
                if target is not None:
                    os.utime(target, (member.mtime, member.mtime))
                seen.add(name)
    except CheckpointError:
        raise
    except _DAMAGE as err:
        raise CheckpointError(f"checkpoint bundle {bundle} is damaged ({type(err).__name__}: {err}); "
                              "copy it again") from err
    missing = sorted(set(expected) - seen)
    if missing:
        raise CheckpointError(f"checkpoint bundle {bundle} lacks {len(missing)} file(s) its manifest lists, "
                              f"e.g. {missing[0]}; the bundle is damaged, copy it again")


def unpack(bundle: str | os.PathLike, run_dir: str | os.PathLike, profile: str | None = None,
           replace: bool = False, allow_other_code: bool = False) -> dict:
    """Restore a bundle's chapters into ``run_dir``, checked, atomically.

    Parameters
    ----------
    bundle : str or path-like
        A bundle made by :func:`pack`.
    run_dir : str or path-like
        The run folder to restore into: absent or empty, unless ``replace``.
    profile : str, optional
        The profile the run folder is for; must be the bundle's.
    replace : bool, optional
        Unpack into a run folder that is not empty: the bundle's chapters replace the folder's own,
        later chapters stay (their stages recompute where what they read has changed).
    allow_other_code : bool, optional
        Accept a bundle made by other code of the same galaxysd version.

    Returns
    -------
    dict
        The bundle's manifest.

    Raises
    ------
    CheckpointError
        If the bundle is damaged, of another version or code, of another profile, or the run folder
        is not empty (without ``replace``).

    Examples
    --------
    >>> unpack("demo-upto-03.tar.gz", run_paths("demo").run)  # doctest: +SKIP
    """
    bundle, run = Path(bundle), Path(run_dir)
    manifest = read_manifest(bundle)
    check_manifest(manifest, bundle, allow_other_code)
    if profile is not None and profile != manifest["profile"]:
        raise CheckpointError(f"checkpoint bundle {bundle} holds a run of profile '{manifest['profile']}', "
                              f"not '{profile}'; unpack it with --profile {manifest['profile']}")
    chapters = list(manifest["chapters"])
    present = sorted(p.name for p in run.iterdir()) if run.is_dir() else []
    if present and not replace:
        raise CheckpointError(f"run folder {run} is not empty (it holds {', '.join(present[:5])}"
                              f"{', ...' if len(present) > 5 else ''}); unpack into an empty run folder "
                              f"(--run-dir), or pass --replace to replace its chapters {', '.join(chapters)}")
    if not present:
        with atomic_path(run) as tmp:
            tmp.mkdir()
            _extract(bundle, manifest, lambda name: tmp / name)
        return manifest
    _extract(bundle, manifest, lambda name: None)  # check it all before replacing any chapter
    for chapter in chapters:
        with atomic_path(run / chapter) as tmp:
            tmp.mkdir()
            _extract(bundle, manifest, lambda name: tmp / PurePosixPath(name).relative_to(chapter)
                     if PurePosixPath(name).parts[0] == chapter else None)
    return manifest
