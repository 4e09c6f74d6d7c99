#!/usr/bin/env python3
"""Stand-in for vnicd, for the e2e harness self-test only.

Checks the harness's daemon plumbing (start, wait for the socket, direct API
call, SIGTERM, SIGKILL, restart on the same state dir) without the real
daemon.  Speaks the framing of docs/api.md: one JSON object per line.
Knows one command, query-version, which also returns how many times a
daemon was started on this --state-dir (a file there counts).  SIGTERM
removes the socket and exits 0; SIGKILL leaves the stale socket behind.
"""
import argparse
import json
import os
import selectors
import signal
import socket
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--state-dir", required=True)
ap.add_argument("--run-dir", required=True)
ap.add_argument("--socket", required=True)
args = ap.parse_args()

count_file = os.path.join(args.state_dir, "starts")
starts = int(open(count_file).read()) + 1 if os.path.exists(count_file) else 1
with open(count_file, "w") as f:
    f.write(str(starts))

try:
    os.unlink(args.socket)  # stale, from a killed predecessor
except FileNotFoundError:
    pass
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(args.socket)
server.listen(8)
print(f"fake-vnicd: pid {os.getpid()} listening on {args.socket} (start #{starts})", flush=True)


def stop(signum, frame):
    os.unlink(args.socket)
    print("fake-vnicd: SIGTERM, bye", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)

sel = selectors.DefaultSelector()
sel.register(server, selectors.EVENT_READ)
buffers = {}


def reply(conn, request):
    rid = request.get("id") if isinstance(request, dict) else None
    if isinstance(request, dict) and request.get("execute") == "query-version":
        msg = {"return": {"version": "fake", "starts": starts}}
    else:
        msg = {"error": {"class": "CommandNotFound", "desc": "fake-vnicd knows query-version only"}}
    if rid is not None:
        msg["id"] = rid
    conn.sendall(json.dumps(msg).encode() + b"\n")


while True:
    for key, _ in sel.select():
        if key.fileobj is server:
            conn, _ = server.accept()
            sel.register(conn, selectors.EVENT_READ)
            buffers[conn] = b""
            continue
        conn = key.fileobj
        data = conn.recv(65536)
        if not data:
            sel.unregister(conn)
            conn.close()
            del buffers[conn]
            continue
        buffers[conn] += data
        while b"\n" in buffers[conn]:
            line, buffers[conn] = buffers[conn].split(b"\n", 1)
            try:
                request = json.loads(line)
            except ValueError:
                request = None
            reply(conn, request)
