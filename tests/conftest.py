import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))  # tests/torch_reference.py

# CI runs a fixed, larger set of examples (reproducible); a local run explores anew.
settings.register_profile("ci", max_examples=300, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A long local exploration: SYMCOUNT_HYPOTHESIS=big pytest tests/test_torch_crosscheck.py
settings.register_profile("big", max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("SYMCOUNT_HYPOTHESIS", "ci" if os.environ.get("CI") else "dev"))
