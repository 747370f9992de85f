#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update && apt-get install -y python3 python3-pip
fi
# Newer Ubuntu images mark the system Python as externally managed.
python3 -m pip install /autograder/source || python3 -m pip install --break-system-packages /autograder/source
