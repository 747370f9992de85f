#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# AUTOGRADER (default /autograder) lets the project's tests run it on a layout of their own.
set -euo pipefail
AUTOGRADER=${AUTOGRADER:-/autograder}
if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update && apt-get install -y python3 python3-pip
fi
# Newer Ubuntu images mark the system Python as externally managed.
pip_install() {
    python3 -m pip install "$@" || python3 -m pip install --break-system-packages "$@"
}
pip_install "$AUTOGRADER/source"
# Packages the instructor lets students import (scipy, say): requirements.txt in the zip.
if [ -f "$AUTOGRADER/source/requirements.txt" ]; then
    pip_install -r "$AUTOGRADER/source/requirements.txt"
fi
# Student code runs as another user: leave it nothing of the answer key to read, neither the
# bundle's source nor the copy pip just installed. From /, so that `-m grader` is the installed
# copy, never one that happens to sit in the folder this script was started from.
cd /
# Each submission runs in a fresh container from this image: compiled here, once, the grader and
# its worker start from bytecode on every run, and no run writes into the sealed folder.
python3 -m compileall -q "$AUTOGRADER/source/grader" "$AUTOGRADER/source/solutions" >/dev/null
python3 -m grader seal --also "$AUTOGRADER/source"
