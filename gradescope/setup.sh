#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update && apt-get install -y python3 python3-pip
fi
# Newer Ubuntu images mark the system Python as externally managed.
pip_install() {
    python3 -m pip install "$@" || python3 -m pip install --break-system-packages "$@"
}
pip_install /autograder/source
# Packages the instructor lets students import (scipy, say): requirements.txt in the zip.
if [ -f /autograder/source/requirements.txt ]; then
    pip_install -r /autograder/source/requirements.txt
fi
