# A Socket.IO server written with python-socketio (aiohttp), a second implementation besides
# Node's, for the simulated client's conformance tests.
#
#   tests/python/.venv/bin/python tests/python/server.py <port>
#
# Listens on 127.0.0.1 (port 0 lets the system pick one) and prints the port it got as the first
# line of stdout. python-socketio runs the `connect` handler before it answers the client's
# CONNECT, so the greeting emitted there reaches the client *before* `40{"sid":...}`: legal, and
# what socket.io-client handles by buffering the event until it is connected. It also does what
# lessons 1 to 3 teach (a page at /, `hi` to every other client on connection, `chat message`
# echoed to everyone), so `check` can be tried against a server that is not Node's.

import asyncio
import sys

import socketio
from aiohttp import web

sio = socketio.AsyncServer(async_mode="aiohttp")


PAGE = """<!doctype html><title>server.py</title>
<script src="https://cdn.socket.io/4.8.1/socket.io.min.js"></script>
<script>const socket = io();</script>"""


@sio.event
async def connect(sid, environ, auth):
    await sio.emit("welcome", "hello from python", to=sid)
    # Lesson 2's announcement to every other client, also sent before the CONNECT reply.
    await sio.emit("hi", skip_sid=sid)


async def index(request):
    return web.Response(text=PAGE, content_type="text/html")


@sio.on("chat message")
async def chat_message(sid, msg):
    await sio.emit("chat message", msg)


async def main(port):
    app = web.Application()
    app.router.add_get("/", index)
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
