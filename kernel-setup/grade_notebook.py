"""Execute one prepared submission for `cnnviz grade`: a fresh kernel, a time budget, and no stalls.

  python3 kernel-setup/grade_notebook.py SPEC.json

SPEC: {"notebook", "executed", "report", "cwd", "kernel", "budget", "cell_timeout"}.

Every cell runs with allow_errors (a failing cell does not stop the notebook). A cell that runs
past its time (min(cell_timeout, what is left of the budget)) or kills the kernel is marked, the
kernel is killed, and a fresh kernel replays the earlier student cells (not the hidden checks,
whose results are already written) and goes on after the bad cell. So one endless loop costs one
cell and its timeout, never the run. Like nbgrader, limits are per cell; like otter, the whole
notebook has a budget. The report lists each code cell's status: ok, error, timeout, crash,
aborted, or skipped (budget spent).
"""
import json
import os
import signal
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError


def text_of(cell):
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            out.append("%s: %s" % (o.get("ename", ""), o.get("evalue", "")))
    return "".join(out)


def kernel_end(client):
    """How the kernel process ended, in words ('' when unknown): a signal names the limit that stopped it."""
    try:
        code = client.km.provisioner.process.poll()
    except Exception:
        return ""
    if code is None or code >= 0:
        return ""
    name = signal.Signals(-code).name
    why = {"SIGXCPU": "its CPU time limit", "SIGKILL": "killed", "SIGXFSZ": "its file size limit"}.get(name, "")
    return " (the kernel process ended by %s%s)" % (name, ": " + why if why else "")


def leftover():
    """In the sandbox (its own PID namespace): the processes still running besides this one and the box's init."""
    if os.environ.get("CNNVIZ_SANDBOX") != "1":
        return []
    time.sleep(0.5)  # the kernel just shut down: let it go
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit() and int(p) not in (1, os.getpid()):
            try:
                stat = open("/proc/%s/stat" % p).read()
                if stat[stat.rindex(")") + 2] != "Z":
                    out.append(open("/proc/%s/comm" % p).read().strip())
            except (OSError, ValueError, IndexError):
                pass
    return out


def main():
    spec = json.load(open(sys.argv[1]))
    nb = nbformat.read(spec["notebook"], as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
            c.execution_count = None
    started = time.time()
    deadline = started + float(spec["budget"])
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    status = {}
    restarts = 0
    kernel_error = None
    while True:
        bad_at = None
        replies = {}
        client = NotebookClient(
            nb,
            kernel_name=spec.get("kernel", "cnnviz"),
            resources={"metadata": {"path": spec["cwd"]}},
            allow_errors=True,
            timeout=60,
            startup_timeout=120,
            shutdown_kernel="immediate",
            on_cell_executed=lambda cell, cell_index, execute_reply: replies.__setitem__(cell_index, execute_reply),
        )
        try:
            with client.setup_kernel():
                for i in code:
                    cell = nb.cells[i]
                    role = cell.metadata.get("cnnviz", {}).get("role", "student")
                    done = status.get(i)
                    if done is not None:
                        # After a restart: replay earlier student cells to rebuild the state; never a hang or a
                        # hidden check again.
                        if done["status"] in ("timeout", "crash") or role == "hidden":
                            continue
                    left = deadline - time.time()
                    if left <= 1:
                        status[i] = {
                            "status": "skipped",
                            "seconds": 0,
                            "detail": "the notebook's time limit of %s s was spent" % spec["budget"],
                        }
                        continue
                    client.timeout = int(max(1, min(float(spec["cell_timeout"]), left)))
                    t0 = time.time()
                    try:
                        replies.pop(i, None)
                        client.execute_cell(cell, i)
                        st = (replies.get(i) or {}).get("content", {}).get("status", "ok")
                        st = {"abort": "aborted"}.get(st, st)
                        status[i] = {
                            "status": st if st in ("ok", "error", "aborted") else "error",
                            "seconds": round(time.time() - t0, 3),
                            "detail": text_of(cell)[-3000:],
                        }
                        if st == "error":
                            # tslab drops requests that arrive within 200 ms of an error (its queue reset).
                            time.sleep(0.3)
                    except CellTimeoutError:
                        status[i] = {
                            "status": "timeout",
                            "seconds": round(time.time() - t0, 3),
                            "detail": "still running after %d s; the kernel was stopped" % client.timeout,
                        }
                        bad_at = i
                        break
                    except DeadKernelError as err:
                        status[i] = {
                            "status": "crash",
                            "seconds": round(time.time() - t0, 3),
                            "detail": ("the kernel died: %s%s" % (err, kernel_end(client)))[:2000],
                        }
                        bad_at = i
                        break
                if bad_at is not None:
                    try:
                        client.km.shutdown_kernel(now=True)
                    except Exception:
                        pass
        except Exception as err:  # the kernel did not start, or died between cells
            if bad_at is None:
                kernel_error = "%s: %s" % (type(err).__name__, str(err)[:2000])
                if restarts == 0 or time.time() >= deadline:
                    break
        if bad_at is None or time.time() >= deadline - 1:
            break
        restarts += 1
    for i in code:
        status.setdefault(
            i, {"status": "skipped", "seconds": 0, "detail": kernel_error or "the notebook's time limit was spent"}
        )
    nbformat.write(nb, spec["executed"])
    report = {
        "seconds": round(time.time() - started, 3),
        "restarts": restarts,
        "kernel_error": kernel_error,
        "leftover": leftover(),
        "cells": [
            dict(index=i, role=nb.cells[i].metadata.get("cnnviz", {}).get("role", "student"), **status[i]) for i in code
        ],
    }
    with open(spec["report"], "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
