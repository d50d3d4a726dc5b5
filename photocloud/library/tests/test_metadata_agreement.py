"""Photocloud's metadata agrees with ExifTool's (`exiftool -n`) on date taken, make, model, GPS (1e-4°),
orientation and displayed size, over the corpus bench/metadata.py makes; the table is printed."""

import os
import shutil

import pytest

from bench import metadata

THRESHOLD = 0.99


def test_metadata_agrees_with_exiftool(tmp_path, capsys):
    if not shutil.which("exiftool"):
        if os.environ.get("CI") in ("true", "1"):
            pytest.fail("exiftool is missing: scripts/install.sh installs libimage-exiftool-perl")
        pytest.skip("exiftool is not installed (Debian: libimage-exiftool-perl)")
    shares, differences, cost = metadata.compare(tmp_path)
    with capsys.disabled():
        print(f"\nagreement with exiftool -n over {cost['files']} files:")
        for field, share in shares.items():
            print(f"  {field:16} {share:7.1%}")
    assert cost["files"] >= 25
    assert set(shares) == set(metadata.FIELDS)
    for field, share in shares.items():
        assert share >= THRESHOLD, (field, [d for d in differences if d[1] == field])
