"""Project-wide pytest hooks.

A test skipped because something it needs is missing (Chromium for a tour,
a Python package, a server) would let the suite pass without checking
anything, so every skip is reported as a failure.
"""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, which this project counts as a failure: {reason}"
