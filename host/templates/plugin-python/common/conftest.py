"""pytest set-up: the Python SDK (`[tool.assay] sdk` in pyproject.toml) and
this project on the import path."""

import pathlib
import re
import sys

_here = pathlib.Path(__file__).resolve().parent
_sdk = re.search(r'^sdk\s*=\s*"(.*)"', (_here / "pyproject.toml").read_text(), re.MULTILINE).group(1)
sys.path[:0] = [str((_here / _sdk).resolve()), str(_here)]
