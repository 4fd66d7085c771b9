"""In a real kernel started by the real server: the kernel finds the server that runs it, and
widget updates sent from the Socket.IO thread carry the header of the cell that created the
widget, not of whichever cell runs when they arrive."""

from __future__ import annotations

import json
import queue
import time
from typing import Any

import requests
from jupyter_client.blocking import BlockingKernelClient

CELL_A = """
import pandas as pd, nbjobs
from nbjobs.client import connection
frame = pd.DataFrame({"Phone": ["(415) 555-2671"] * 3000})
job = nbjobs.normalize(frame, {"Phone": "phone"})
print(connection.current().server.source, job.status)
"""
CELL_B = "job.wait(60); print(job.status)"
CELL_C = "import time; time.sleep(30)"
CELL_D = "print(connection._current.state, connection._current.sio.connected)"


def run(client: BlockingKernelClient, code: str, status: str = "ok") -> str:
    msg_id = client.execute(code)
    reply = client.get_shell_msg(timeout=60)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == status, reply["content"]
    return msg_id


def stdout(messages: list[dict[str, Any]]) -> str:
    return "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")


def iopub_until_idle(client: BlockingKernelClient, msg_id: str) -> list[dict[str, Any]]:
    messages = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            message = client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        messages.append(message)
        if (
            message["msg_type"] == "status"
            and message["content"]["execution_state"] == "idle"
            and message["parent_header"].get("msg_id") == msg_id
        ):
            return messages
    raise AssertionError("the cell never finished")


def test_widget_updates_belong_to_the_cell_that_created_the_widget(server):
    session = requests.post(
        f"{server.url}{server.base_url}api/sessions",
        headers=server.headers,
        json={"path": "t.ipynb", "type": "notebook", "name": "t", "kernel": {"name": "python3"}},
        timeout=30,
    )
    assert session.status_code == 201, session.text
    kernel_id = session.json()["kernel"]["id"]
    client = BlockingKernelClient()
    client.load_connection_file(str(server.workdir / "runtime" / f"kernel-{kernel_id}.json"))
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        cell_a = run(client, CELL_A)
        first = iopub_until_idle(client, cell_a)
        assert stdout(first).split() == [
            "kernel",
            "queued",
        ]  # found the server that runs this kernel
        # The progress bar's model: the IntProgress opened in cell A.
        bars = {
            m["content"]["comm_id"]
            for m in first
            if m["msg_type"] == "comm_open"
            and m["content"]["data"]["state"].get("_model_name") == "IntProgressModel"
        }
        assert len(bars) == 1
        cell_b = run(client, CELL_B)
        second = iopub_until_idle(client, cell_b)
        assert any(
            m["msg_type"] == "stream" and "completed" in m["content"]["text"] for m in second
        )
        updates = [
            m
            for m in second
            if m["msg_type"] == "comm_msg"
            and m["content"]["comm_id"] in bars
            and "value" in m["content"]["data"].get("state", {})
        ]
        assert len(updates) >= 3, json.dumps([u["content"] for u in updates])
        assert {u["parent_header"]["msg_id"] for u in updates} == {cell_a}

        # A kernel interrupt (SIGINT) stops the cell, not the Socket.IO connection.
        cell_c = client.execute(CELL_C)
        time.sleep(1)
        interrupt = requests.post(
            f"{server.url}{server.base_url}api/kernels/{kernel_id}/interrupt",
            headers=server.headers,
            timeout=30,
        )
        assert interrupt.status_code == 204
        assert client.get_shell_msg(timeout=30)["content"]["status"] == "error"
        iopub_until_idle(client, cell_c)
        cell_d = run(client, CELL_D)
        assert stdout(iopub_until_idle(client, cell_d)).split() == ["live", "True"]
    finally:
        client.stop_channels()
        requests.delete(
            f"{server.url}{server.base_url}api/sessions/{session.json()['id']}",
            headers=server.headers,
            timeout=30,
        )
