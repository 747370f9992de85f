"""Run at the start of a `grade` command a test started (this folder is on its PYTHONPATH only
in tests not marked `sandbox`): its worker starts are recorded. See worker_record.py."""

import worker_record

worker_record.install()
