"""A small client of Enterprise Gateway's REST and websocket API: start,
interrupt, restart and shut down kernels, and run cells over the
websocket, as JupyterLab (through jupyter_server's gateway client) does."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
import websocket


def message(msg_type: str, content: dict[str, Any], session: str, channel: str = "shell") -> dict[str, Any]:
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "username": "cloudline-test",
            "session": session,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": channel,
        "buffers": [],
    }


@dataclass
class Cell:
    """What a cell produced: its reply and its iopub messages."""

    msg_id: str = ""
    reply: dict[str, Any] = field(default_factory=dict)
    iopub: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.reply.get("content", {}).get("status", "")

    @property
    def stdout(self) -> str:
        return "".join(m["content"]["text"] for m in self.iopub
                       if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")

    def notes(self) -> list[dict[str, Any]]:
        return [m for m in self.iopub if m["msg_type"] in ("display_data", "update_display_data")
                and "cloudline" in m["content"].get("metadata", {})]

    def rules(self) -> set[str]:
        """Rule ids of cloudline's notes (one rule, or a merged note's list)."""
        found: set[str] = set()
        for m in self.notes():
            meta = m["content"]["metadata"]["cloudline"]
            if isinstance(meta.get("rule"), str):
                found.add(meta["rule"])
            for r in meta.get("rules") or []:
                found.add(r if isinstance(r, str) else r.get("rule", ""))
        return found

    def text(self) -> str:
        return "\n".join(m["content"]["data"].get("text/markdown", "") + m["content"]["data"].get("text/plain", "")
                         for m in self.notes())


class Gateway:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def start(self, name: str, env: dict[str, str], timeout: float = 120) -> "Kernel":
        r = self.http.post(f"{self.url}/api/kernels", json={"name": name, "env": env}, timeout=timeout)
        if r.status_code != 201:
            raise AssertionError(f"kernel {name} not started: {r.status_code} {r.text}")
        return Kernel(self, r.json()["id"])

    def has_kernel(self, kernel_id: str) -> bool:
        r = self.http.get(f"{self.url}/api/kernels/{kernel_id}", timeout=30)
        if r.status_code not in (200, 404):
            raise AssertionError(f"GET kernel {kernel_id}: {r.status_code} {r.text}")
        return r.status_code == 200


class Kernel:
    def __init__(self, gw: Gateway, kernel_id: str) -> None:
        self.gw = gw
        self.id = kernel_id
        self.session = uuid.uuid4().hex
        self.ws: websocket.WebSocket | None = None

    def connect(self) -> None:
        self.close_ws()
        ws_url = self.gw.url.replace("http://", "ws://") + f"/api/kernels/{self.id}/channels"
        self.ws = websocket.create_connection(ws_url, timeout=60)

    def close_ws(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def send(self, msg_type: str, content: dict[str, Any], channel: str = "shell") -> str:
        assert self.ws is not None
        msg = message(msg_type, content, self.session, channel)
        self.ws.send(json.dumps(msg))
        return msg["header"]["msg_id"]

    def recv(self, deadline: float) -> dict[str, Any]:
        assert self.ws is not None
        self.ws.settimeout(max(0.1, deadline - time.monotonic()))
        msg = json.loads(self.ws.recv())
        msg.setdefault("msg_type", msg["header"]["msg_type"])
        return msg

    def execute(self, code: str, timeout: float = 120, until=None) -> Cell:
        """Run code; return when its reply and its idle have arrived, or
        when until(cell) is true (then collect() takes the rest)."""
        msg_id = self.send("execute_request", {"code": code, "silent": False, "store_history": True,
                                               "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        cell = Cell(msg_id=msg_id)
        return self.collect(cell, timeout, until)

    def collect(self, cell: Cell, timeout: float = 120, until=None) -> Cell:
        msg_id = cell.msg_id
        idle = any(m["msg_type"] == "status" and m["content"]["execution_state"] == "idle" for m in cell.iopub)
        deadline = time.monotonic() + timeout
        while not (idle and cell.reply):
            if time.monotonic() > deadline:
                raise AssertionError(f"cell {msg_id} did not finish in {timeout}s: {cell.iopub}")
            m = self.recv(deadline)
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if m["channel"] == "shell":
                cell.reply = m
            elif m["channel"] == "iopub":
                cell.iopub.append(m)
                if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    idle = True
            if until is not None and until(cell):
                return cell
        return cell

    def wait_ready(self, timeout: float = 120) -> None:
        """kernel_info until it answers (the websocket may open before the
        kernel's sockets do, and the first request can be lost)."""
        deadline = time.monotonic() + timeout
        while True:
            msg_id = self.send("kernel_info_request", {})
            try:
                while True:
                    m = self.recv(min(deadline, time.monotonic() + 5))
                    if m["channel"] == "shell" and m["parent_header"].get("msg_id") == msg_id:
                        return
            except websocket.WebSocketTimeoutException:
                if time.monotonic() > deadline:
                    raise AssertionError(f"kernel {self.id} not ready in {timeout}s")

    def post(self, action: str) -> requests.Response:
        r = self.gw.http.post(f"{self.gw.url}/api/kernels/{self.id}/{action}", timeout=120)
        if r.status_code not in (200, 204):
            raise AssertionError(f"{action}: {r.status_code} {r.text}")
        return r

    def shutdown(self) -> None:
        self.close_ws()
        r = self.gw.http.delete(f"{self.gw.url}/api/kernels/{self.id}", timeout=120)
        if r.status_code != 204:
            raise AssertionError(f"shutdown: {r.status_code} {r.text}")
