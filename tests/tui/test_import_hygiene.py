"""Importing the app must stay light: litellm and scipy load only when they are used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("litellm", "scipy", "sqlite_utils", "ruamel", "numpy")


def test_importing_the_app_pulls_in_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "import studio.tui.app\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    leaked = [m for m in proc.stdout.strip().split(",") if m]
    assert leaked == []


def test_the_core_never_imports_textual() -> None:
    code = (
        "import sys\n"
        "import studio.library, studio.prompts, studio.store, studio.metrics\n"
        "print('textual' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert proc.stdout.strip() == "False"
