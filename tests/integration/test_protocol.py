"""Protocol features a proxy can break, through the real ipykernel: stdin,
comms (ipywidgets), the debugger, subshells, output floods and big outputs."""

from __future__ import annotations

import hashlib


from kernelutil import (
    collect_until,
    collect_until_idle,
    flush_iopub,
    get_reply,
    run_ok,
)


def test_input_through_stdin(shared_kernel):
    _, kc = shared_kernel
    msg_id = kc.execute("name = input('who? ')\nprint('hello', name)", allow_stdin=True)
    req = kc.get_stdin_msg(timeout=60)
    assert req["msg_type"] == "input_request"
    assert req["parent_header"]["msg_id"] == msg_id
    assert req["content"]["prompt"] == "who? "
    kc.input("cloudline")
    msgs = collect_until_idle(kc, msg_id)
    assert get_reply(kc, msg_id)["content"]["status"] == "ok"
    out = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
    assert "hello cloudline" in out


def test_widget_comm_round_trip(shared_kernel):
    _, kc = shared_kernel
    cell = run_ok(kc, "import ipywidgets\nslider = ipywidgets.IntSlider(value=1)\nslider")
    opens = [
        m
        for m in cell.msgs
        if m["msg_type"] == "comm_open" and m["content"]["target_name"] == "jupyter.widget"
    ]
    slider = [o for o in opens if o["content"]["data"]["state"].get("_model_name") == "IntSliderModel"]
    assert len(slider) == 1, [o["content"]["data"]["state"].get("_model_name") for o in opens]
    comm_id = slider[0]["content"]["comm_id"]
    assert slider[0]["content"]["data"]["state"]["value"] == 1

    # The frontend moves the slider: a comm_msg on shell, as JupyterLab sends it.
    update = kc.session.msg(
        "comm_msg",
        {"comm_id": comm_id, "data": {"method": "update", "state": {"value": 42}, "buffer_paths": []}},
    )
    kc.shell_channel.send(update)
    # Shell requests are handled in order: the update lands before this cell.
    cell = run_ok(kc, "print('value', slider.value)")
    assert "value 42" in cell.stream()


def test_debugger_initialize(fresh_kernel):
    # Fresh kernel: initialising the debugger starts debugpy listening on a port.
    _, kc = fresh_kernel
    msg = kc.session.msg(
        "debug_request",
        {
            "type": "request",
            "seq": 1,
            "command": "initialize",
            "arguments": {
                "clientID": "cloudline-tests",
                "clientName": "cloudline-tests",
                "adapterID": "",
                "pathFormat": "path",
                "linesStartAt1": True,
                "columnsStartAt1": True,
                "supportsVariableType": True,
                "supportsVariablePaging": True,
                "supportsRunInTerminalRequest": True,
                "locale": "en",
            },
        },
    )
    kc.control_channel.send(msg)
    reply = get_reply(kc, msg["header"]["msg_id"], channel="control", timeout=60)
    assert reply["msg_type"] == "debug_reply"
    assert reply["content"]["success"] is True, reply["content"]
    assert reply["content"]["command"] == "initialize"


def test_subshell_runs_while_main_shell_is_busy(shared_kernel):
    _, kc = shared_kernel
    run_ok(kc, "import threading\ngate = threading.Event()")
    create = kc.session.msg("create_subshell_request", {})
    kc.control_channel.send(create)
    reply = get_reply(kc, create["header"]["msg_id"], channel="control", timeout=60)
    assert reply["msg_type"] == "create_subshell_reply"
    subshell_id = reply["content"]["subshell_id"]
    assert subshell_id

    # The main shell blocks until the subshell opens the gate: only a
    # subshell running concurrently (replies out of order) lets it finish.
    main_id = kc.execute("print('main saw gate', gate.wait(60))")
    collect_until(kc, main_id, lambda m: m["msg_type"] == "execute_input")
    sub = kc.session.msg(
        "execute_request",
        {"code": "gate.set()\nprint('sub in', threading.current_thread().name)", "silent": False,
         "store_history": False, "user_expressions": {}, "allow_stdin": False,
         "stop_on_error": True},
    )
    sub["header"]["subshell_id"] = subshell_id
    kc.shell_channel.send(sub)
    sub_id = sub["header"]["msg_id"]
    sub_reply = get_reply(kc, sub_id)
    assert sub_reply["content"]["status"] == "ok"
    main_msgs = collect_until_idle(kc, main_id)
    main_reply = get_reply(kc, main_id)
    assert main_reply["content"]["status"] == "ok"
    text = "".join(m["content"]["text"] for m in main_msgs if m["msg_type"] == "stream")
    assert "main saw gate True" in text

    delete = kc.session.msg("delete_subshell_request", {"subshell_id": subshell_id})
    kc.control_channel.send(delete)
    assert get_reply(kc, delete["header"]["msg_id"], channel="control")["content"]["status"] == "ok"


def test_display_flood_complete_and_in_order(shared_kernel):
    _, kc = shared_kernel
    n = 5000
    flush_iopub(kc)
    cell = run_ok(
        kc,
        "from IPython.display import display\n"
        f"for i in range({n}):\n"
        "    display({'text/plain': str(i)}, raw=True)\n",
    )
    got = [m["content"]["data"]["text/plain"] for m in cell.msgs if m["msg_type"] == "display_data"]
    assert len(got) == n
    assert got == [str(i) for i in range(n)]


def test_twenty_megabyte_output_arrives_whole(shared_kernel):
    _, kc = shared_kernel
    size = 20 << 20
    cell = run_ok(
        kc,
        "from IPython.display import display\n"
        f"big = ''.join(chr(97 + i % 26) for i in range(26)) * ({size} // 26 + 1)\n"
        f"big = big[:{size}]\n"
        "display({'text/plain': big}, raw=True)\n",
        timeout=180,
    )
    shown = [m["content"]["data"]["text/plain"] for m in cell.msgs if m["msg_type"] == "display_data"]
    assert len(shown) == 1
    want = ("abcdefghijklmnopqrstuvwxyz" * (size // 26 + 1))[:size]
    assert len(shown[0]) == size
    assert hashlib.sha256(shown[0].encode()).digest() == hashlib.sha256(want.encode()).digest()
