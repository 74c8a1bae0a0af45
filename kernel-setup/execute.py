"""Execute notebooks headless with the cnnviz kernel; write executed copies (and HTML) elsewhere.

Used by `npm run lecture` and by the notebook tests, so both run notebooks the same way.

  python3 kernel-setup/execute.py --out out/ [--html] [--timeout 600] [--report r.json]
                                  [--root notebooks] NB.ipynb ...

The sources are never modified. The report (JSON) lists, per notebook: seconds, per-cell
seconds, output MIME types per cell, and the error (with the cell's stderr, since tslab
reports a failing cell with an empty error value).
"""
import argparse
import json
import os
import sys
import time
from datetime import datetime

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def ts(s):
    # nbclient records ISO timestamps with a trailing Z.
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def cell_seconds(cell):
    meta = cell.get("metadata", {}).get("execution", {})
    # tslab sends no execute_input; busy -> idle brackets the cell's work.
    start = meta.get("iopub.status.busy") or meta.get("iopub.execute_input")
    end = meta.get("iopub.status.idle") or meta.get("shell.execute_reply")
    if start and end:
        return round(ts(end) - ts(start), 3)
    return None


def cell_text(cell):
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            out.append("%s: %s\n%s" % (o.get("ename", ""), o.get("evalue", ""), "\n".join(o.get("traceback", []))))
    return "".join(out)


def run_one(path, args):
    nb = nbformat.read(path, as_version=4)
    cwd = os.path.dirname(os.path.abspath(path))
    client = NotebookClient(
        nb,
        timeout=args.timeout,
        kernel_name=args.kernel,
        resources={"metadata": {"path": cwd}},
        record_timing=True,
        allow_errors=False,
    )
    started = time.time()
    error = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        # Find the failing cell: the last executed code cell with an error or stderr output.
        failing = None
        for i, c in enumerate(nb.cells):
            if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", [])):
                failing = i
        if failing is None:
            for i, c in enumerate(nb.cells):
                if c.cell_type == "code" and c.get("execution_count"):
                    failing = i
        detail = cell_text(nb.cells[failing]) if failing is not None else ""
        error = {
            "cell": failing,
            "kind": type(err).__name__,
            "message": (str(err).strip()[:2000] or "(empty error)"),
            "cell_output": detail[-4000:],
            "source": nb.cells[failing].source[:1000] if failing is not None else "",
        }
    seconds = round(time.time() - started, 3)
    cells = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code":
            continue
        mimes = []
        stderr = ""
        for o in c.get("outputs", []):
            if o.get("output_type") in ("display_data", "execute_result"):
                mimes.append(sorted(o.get("data", {}).keys()))
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                stderr += o.get("text", "")
            if o.get("output_type") == "error":
                mimes.append(["error"])
        cells.append({"index": i, "seconds": cell_seconds(c), "outputs": mimes, "stderr": stderr[-2000:]})
    return nb, {"notebook": path, "seconds": seconds, "cells": cells, "error": error}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--root", default=None, help="paths under --out mirror paths relative to this folder")
    ap.add_argument("--html", action="store_true")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    ap.add_argument("--kernel", default="cnnviz")
    ap.add_argument("--report", default=None)
    args = ap.parse_args()

    html_exporter = None
    if args.html:
        from nbconvert import HTMLExporter
        html_exporter = HTMLExporter()

    reports = []
    failed = 0
    for path in args.notebooks:
        rel = os.path.relpath(path, args.root) if args.root else os.path.basename(path)
        target = os.path.join(args.out, rel)
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        print("executing %s ..." % path, file=sys.stderr, flush=True)
        nb, report = run_one(path, args)
        nbformat.write(nb, target)
        report["executed"] = target
        if html_exporter is not None:
            body, _ = html_exporter.from_notebook_node(nb)
            html_path = os.path.splitext(target)[0] + ".html"
            with open(html_path, "w", encoding="utf-8") as f:
                f.write(body)
            report["html"] = html_path
        timed = [c for c in report["cells"] if c["seconds"] is not None]
        slowest = max(timed, key=lambda c: c["seconds"], default=None)
        status = "FAILED" if report["error"] else "ok"
        print(
            "%s %s in %.1f s (slowest cell %s: %s s)"
            % (
                status,
                path,
                report["seconds"],
                slowest["index"] if slowest else "-",
                slowest["seconds"] if slowest else "-",
            ),
            file=sys.stderr,
            flush=True,
        )
        if report["error"]:
            failed += 1
            error = report["error"]
            print("  cell %s: %s\n%s" % (error["cell"], error["message"], error["cell_output"]), file=sys.stderr)
        reports.append(report)
    if args.report:
        os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
        with open(args.report, "w") as f:
            json.dump(reports, f, indent=1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
