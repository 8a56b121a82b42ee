"""Which of each peer project's own tests the runner takes: those that start
a real kernel from the `python3` kernelspec, each group with why. Left out:
tests of in-process kernels, of the projects' own test kernels (signaltest,
echo, problem and curve-test kernels: cloudline is not in their path; so
jupyter_client's test_client.py and test_transport_security.py are out), of pure helpers, and
slow repeats of what a kept test covers (nbclient's hooks and constructors
around the same kernel start, debugger inspection variants), so that both
runs together stay within a few minutes on two cores.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Project:
    name: str  # the distribution, pinned in requirements.txt
    selection: tuple[tuple[str, str], ...]  # (pytest node id or file, why it is kernel-facing)
    deselect: tuple[tuple[str, str], ...] = field(default=())  # (node id, why it is left out)


def _nodes(prefix: str, names: str) -> tuple[str, ...]:
    return tuple(f"{prefix}::{n}" for n in names.split())


NBCLIENT_EXECUTE = _nodes("tests/test_client.py::TestExecute", """
    test_disable_stdin test_widgets test_reset_kernel_client
    test_kernel_death_after_timeout test_kernel_death_during_execution""")
NBCLIENT_KERNELS = _nodes("tests/test_client.py", """
    test_run_all_notebooks test_parallel_notebooks test_async_parallel_notebooks
    test_execution_timing test_start_new_kernel_history_file_setting""")
IPYKERNEL_DEBUGGER = _nodes("tests/test_debugger.py", """
    test_debug_initialize test_attach_debug test_set_breakpoints test_stop_on_breakpoint
    test_debug_requests_sequential""")

PROJECTS = (
    Project("nbclient", (
        *((n, "executes notebooks on the python3 kernel: every output type, widgets, "
           "stdin, interrupts, errors") for n in NBCLIENT_KERNELS),
        *((n, "NotebookClient and the kernel: stdin refused, comms, restart, death")
          for n in NBCLIENT_EXECUTE),
        ("tests/test_cli.py::test_cli_simple", "`jupyter execute` on the python3 kernel"),
    )),
    Project("ipykernel", (
        ("tests/test_kernel.py", "a kernel process from the python3 kernelspec: execution, "
         "interrupts, stdin, shutdown, subprocess output"),
        ("tests/test_message_spec.py", "every message type's schema, on a real kernel"),
        ("tests/test_subshells.py", "subshells (protocol 5.5): replies out of order, per-subshell idle"),
        *((n, "debug_request on control, through debugpy: attach, breakpoints, stop")
          for n in IPYKERNEL_DEBUGGER),
        ("tests/test_start_kernel.py", "connection info seen from inside the kernel"),
    ), (
        ("tests/test_subshells.py::test_run_concurrently_sequence",
         "asserts two cells overlap in time; fails on the plain kernel too when the machine is busy"),
        ("tests/test_message_spec.py::test_complete",
         "13 s of completing every name; completion is covered by jupyter_client's tests"),
        ("tests/test_kernel.py::test_help_output", "runs `python -m ipykernel --help`, no kernelspec"),
    )),
    Project("jupyter_client", (
        ("tests/test_multikernelmanager.py", "python3 kernels started, restarted, interrupted "
         "and shut down by (Async)MultiKernelManager, tcp and ipc"),
        *((n, "KernelManager lifecycle of the python3 kernel") for n in _nodes(
            "tests/test_kernelmanager.py",
            "TestKernelManager::test_lifecycle TestKernelManager::test_cleanup_context "
            "TestKernelManager::test_subclass_callables TestAsyncKernelManager::test_lifecycle "
            "TestAsyncKernelManager::test_subclass_callables")),
        ("tests/test_consoleapp.py", "JupyterConsoleApp connecting to an existing python3 kernel"),
        ("tests/test_runapp.py", "`jupyter run` on the python3 kernel"),
    ), (
        *((n, "the same lifecycle as test_tcp_lifecycle, 2-4 kernels in a row or in threads "
            "or processes: time, not coverage")
        for n in _nodes("tests/test_multikernelmanager.py", " ".join(
            f"{c}::{t}" for c in ("TestKernelManager", "TestAsyncKernelManager")
            for t in ("test_start_sequence_tcp_kernels", "test_start_sequence_ipc_kernels",
                      "test_start_parallel_thread_kernels",
                      "test_start_parallel_process_kernels")))),
    )),
)
