"""The project's conftest turns every skipped test into a failure."""

from pathlib import Path

pytest_plugins = ["pytester"]

PROJECT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"


def test_skip_counts_as_failure(pytester):
    pytester.makeconftest(PROJECT_CONFTEST.read_text())
    pytester.makepyfile(
        """
        import pytest

        def test_needs_browser():
            pytest.skip("Chromium not found")

        def test_passes():
            assert True

        @pytest.mark.xfail(reason="known bug")
        def test_known_bug():
            assert False
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:odoo", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*skipped, which this project counts as a failure*Chromium*"])
