"""A byte pipe between a TCP port on 127.0.0.1 and a Unix socket, for a browser in a network
namespace of its own (only loopback) to reach the test server in the main one:

    python loopback_forward.py tcp-to-unix PORT PATH   # in the namespace: 127.0.0.1:PORT → PATH
    python loopback_forward.py unix-to-tcp PATH PORT   # outside: PATH → 127.0.0.1:PORT

It ends when its parent does (the browser it was started beside), or when killed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _serve(listener: socket.socket, connect) -> None:  # noqa: ANN001 - a factory of sockets
    while True:
        client, _address = listener.accept()
        try:
            upstream = connect()
        except OSError:
            client.close()
            continue
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def main(mode: str, first: str, second: str) -> None:
    if mode == "tcp-to-unix":
        listener = socket.create_server(("127.0.0.1", int(first)), reuse_port=False)
        path = second

        def connect() -> socket.socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)
            return sock

    else:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(first)
        listener.listen(64)
        port = int(second)

        def connect() -> socket.socket:
            return socket.create_connection(("127.0.0.1", port))

    threading.Thread(target=_serve, args=(listener, connect), daemon=True).start()
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)


if __name__ == "__main__":
    main(*sys.argv[1:4])
