# Lesson 8's stage 3 (a middleware guards /admin) written with python-socketio (aiohttp), the
# right answer `check 8` must accept from a server that is not Node's.
#
#   tests/python/.venv/bin/python tests/python/lesson8.py <port> [no-admin]
#
# With `no-admin`, the learner's mistake of never setting up /admin: python-socketio then
# refuses a CONNECT to /admin with "Unable to connect", where Node says "Invalid namespace".
#
# Listens on 127.0.0.1 (port 0 lets the system pick one) and prints the port it got as the first
# line of stdout. python-socketio has no `use()`: the `connect` handler of a namespace is its
# middleware. Raising ConnectionRefusedError(message, data) there refuses the CONNECT with
# `44/admin,{"message":…,"data":…}`, as Node's next(err) with err.data does. The greeting is
# emitted in that same handler, which python-socketio runs before it answers the CONNECT, so
# `welcome` reaches the client ahead of `40/admin,{"sid":…}`; socket.io-client keeps it until
# the socket is connected, so the learner's code sees the same order as with Node.

import asyncio
import sys

import socketio
from aiohttp import web

sio = socketio.AsyncServer(async_mode="aiohttp")


# io.on('connection', (socket) => socket.on('announce', (msg) =>
#   io.of('/admin').emit('announcement', msg)));
@sio.on("announce")
async def announce(sid, msg):
    await sio.emit("announcement", msg, namespace="/admin")


# io.of('/admin').use(...) and io.of('/admin').on('connection', ...) in one handler.
async def admin_connect(sid, environ, auth):
    if not isinstance(auth, dict) or auth.get("token") != "letmein":
        raise socketio.exceptions.ConnectionRefusedError(
            "not authorized", {"hint": "send auth.token"}
        )
    await sio.emit("welcome", "admin", to=sid, namespace="/admin")


async def main(port, mistake):
    if mistake != "no-admin":
        sio.on("connect", admin_connect, namespace="/admin")
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    mistakes = ["no-admin"]
    if len(sys.argv) > 3 or (len(sys.argv) == 3 and sys.argv[2] not in mistakes):
        sys.exit(f"usage: lesson8.py <port> [{'|'.join(mistakes)}]")
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0, (sys.argv + [None, None])[2]))
