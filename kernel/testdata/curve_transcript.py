"""Regenerate curve_transcript.json: a CURVE handshake and one message each
way between two libzmq peers (pyzmq DEALER client, ROUTER server), as
recorded by a relay between them. The server's keypair is the one of the
zmq_curve(7) manual page, so the Go test can open what is addressed to it.

    .venv/bin/python kernel/testdata/curve_transcript.py > kernel/testdata/curve_transcript.json
"""

import json
import socket
import threading

import zmq

SERVER_PUBLIC = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
SERVER_SECRET = b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"


def pump(src, dst, log, done):
    while True:
        data = src.recv(65536)
        if not data:
            break
        log.extend(data)
        dst.sendall(data)
    done.set()


def main():
    ctx = zmq.Context()
    server = ctx.socket(zmq.ROUTER)
    server.curve_server = True
    server.curve_publickey, server.curve_secretkey = SERVER_PUBLIC, SERVER_SECRET
    port = server.bind_to_random_port("tcp://127.0.0.1")
    relay = socket.create_server(("127.0.0.1", 0))
    c2s, s2c = bytearray(), bytearray()

    def accept():
        a, _ = relay.accept()
        b = socket.create_connection(("127.0.0.1", port))
        for src, dst, log in ((a, b, c2s), (b, a, s2c)):
            threading.Thread(target=pump, args=(src, dst, log, threading.Event()), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    client = ctx.socket(zmq.DEALER)
    client.curve_publickey, client.curve_secretkey = zmq.curve_keypair()
    client.curve_serverkey = SERVER_PUBLIC
    client.connect(f"tcp://127.0.0.1:{relay.getsockname()[1]}")
    client.send_multipart([b"hello", b"x" * 300])
    ident, *frames = server.recv_multipart()
    server.send_multipart([ident, b"welcome back"])
    assert client.recv_multipart() == [b"welcome back"]
    ctx.destroy(linger=0)
    print(json.dumps({
        "server_public": SERVER_PUBLIC.decode(), "server_secret": SERVER_SECRET.decode(),
        "pyzmq": zmq.__version__, "libzmq": zmq.zmq_version(),
        "client_to_server": bytes(c2s).hex(), "server_to_client": bytes(s2c).hex(),
    }, indent=1))


main()
