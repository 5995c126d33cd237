# python-socketio (aiohttp) with two namespaces, the twin of tests/node/namespaces.js, for the
# simulated client's multiplexing tests.
#
#   tests/python/.venv/bin/python tests/python/namespaces.py <port>
#
# Listens on 127.0.0.1 (port 0 lets the system pick one) and prints the port it got as the first
# line of stdout. What differs from Node is legal and worth seeing on the wire: the /admin
# greeting is emitted in the `connect` handler, which python-socketio runs before it answers
# the CONNECT, so it arrives ahead of `40/admin,{"sid":…}`; a refusal is raised as
# ConnectionRefusedError(message, data); and a namespace nobody serves is answered with a bare
# string, `44/nobody,"Unable to connect"`.

import asyncio
import sys

import socketio
from aiohttp import web

sio = socketio.AsyncServer(async_mode="aiohttp")
admins = set()


@sio.on("shout")
async def shout(sid, msg):
    await sio.emit("report", msg, namespace="/admin")


@sio.on("admins")
async def count_admins(sid):
    return len(admins)


@sio.on("connect", namespace="/admin")
async def admin_connect(sid, environ, auth):
    if not auth or auth.get("token") != "s3cret":
        raise socketio.exceptions.ConnectionRefusedError("not authorized", {"reason": "no token"})
    admins.add(sid)
    await sio.emit("welcome admin", sid, to=sid, namespace="/admin")


@sio.on("disconnect", namespace="/admin")
async def admin_disconnect(sid, *reason):
    admins.discard(sid)


@sio.on("whoami", namespace="/admin")
async def whoami(sid):
    return {"id": sid, "nsp": "/admin"}


@sio.on("announce", namespace="/admin")
async def announce(sid, msg):
    await sio.emit("news", msg)


async def main(port):
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
