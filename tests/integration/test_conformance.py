"""The jupyter_kernel_test conformance suite, run against the plain python3
kernel and against the kernel under test (cloudline by default): a proxy
that changes what a client sees fails here."""

from __future__ import annotations

import jupyter_kernel_test as jkt
import pytest

from conftest import KERNEL_UNDER_TEST, PLAIN


class PythonSamples:
    """Python samples for the suite, as in ipykernel's own use of it."""

    language_name = "python"
    file_extension = ".py"
    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"
    completion_samples = [{"text": "zi", "matches": {"zip"}}]
    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2"]
    invalid_code_samples = ["import = 7q"]
    code_page_something = "zip?"
    code_generate_error = "raise"
    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(1, 4)]", "result": "[1, 4, 9]"},
    ]
    code_display_data = [
        {
            "code": "from IPython.display import HTML, display; display(HTML('<b>test</b>'))",
            "mime": "text/html",
        },
        {
            "code": "from IPython.display import Math, display; display(Math('\\\\frac{1}{2}'))",
            "mime": "text/latex",
        },
    ]
    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "search")
    code_inspect_sample = "zip"
    code_clear_output = "from IPython.display import clear_output; clear_output()"


@pytest.mark.usefixtures("jupyter_env")
class TestPlainPython(PythonSamples, jkt.KernelTests):
    kernel_name = "python3"


@pytest.mark.usefixtures("jupyter_env")
class TestPlainPythonWelcome(jkt.IopubWelcomeTests):
    kernel_name = "python3"
    support_iopub_welcome = True  # ipykernel 7: iopub is XPUB


@pytest.mark.skipif(PLAIN, reason="kernel under test is the plain kernel (tested above)")
@pytest.mark.usefixtures("kernel_name")
class TestKernelUnderTest(PythonSamples, jkt.KernelTests):
    kernel_name = KERNEL_UNDER_TEST


@pytest.mark.skipif(PLAIN, reason="kernel under test is the plain kernel (tested above)")
@pytest.mark.usefixtures("kernel_name")
class TestKernelUnderTestWelcome(jkt.IopubWelcomeTests):
    kernel_name = KERNEL_UNDER_TEST
    support_iopub_welcome = True
