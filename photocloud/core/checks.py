"""System checks for the long-running commands that run no model (the supervisor, the import-folder watcher).

Every check but the URL one: it imports every view, and with them the model runtimes (ONNX Runtime, OpenCV, numpy's
BLAS; torch before issue 19), which would cost such a process memory for nothing (bench/footprint.py).
`photocloud serve`'s web server imports the URLs anyway.
"""

from django.core import checks

WITHOUT_URLS = [tag for name, tag in vars(checks.Tags).items() if not name.startswith("_") and tag != checks.Tags.urls]
