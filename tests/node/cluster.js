// One node of the scaling-out lesson in Node.js: socket.io with `@socket.io/redis-adapter` on
// npm's `redis` client. Start two, on two ports and the same Redis, and a broadcast on one
// reaches the clients of both.
//
// Usage: node cluster.js PORT REDIS [N.K]
//   REDIS is a Unix socket path (the tutor's private Redis), a redis://host:port URL, or `none`
//   for a node without an adapter (lesson 7.1: two servers that share nothing).
//   N.K runs lessons/NN-slug/stage-K.js itself, unchanged, with `io` in scope (as server.js does
//   for one server), so the JavaScript a stage teaches is the JavaScript the conformance test runs.
// Prints the port it listens on (127.0.0.1) as its first line, once the adapter is subscribed.
//
// Without N.K, what it answers (the events the parts' smoke tests use):
//   ?room=NAME in the handshake query   socket.join(NAME)
//   'chat message' (msg)                io.emit('chat message', msg)         every node
//   'local message' (msg)               io.local.emit('chat message', msg)   this node only
//   'to room' (room, msg, ack)          socket.to(room).emit('chat message', msg), then ack()
//
// Note: this adapter and socketioxide's Redis adapter speak different protocols on Redis; a Node
// node and a Rust node cannot share broadcasts, so each side runs its own pair.

const fs = require('node:fs');
const path = require('node:path');
const express = require('express');
const { createServer } = require('node:http');
const { Server } = require('socket.io');
const { createClient } = require('redis');
const { createAdapter } = require('@socket.io/redis-adapter');

const HOST = '127.0.0.1';

// The handlers of lessons/NN-slug/stage-K.js, as a function of `io`. `N.K-io-emit` is the
// stage with one mistake made: io.emit where it asks for io.local.emit. `N.K-late-io-emit`
// makes it 40 ms after the message came, as a handler that awaits something first would.
function fromLesson(variant) {
  if (variant.endsWith('-late-io-emit')) {
    const right = fromLesson(variant.slice(0, -'-late-io-emit'.length));
    const code = right && right.toString().match(/^[^{]*\{([\s\S]*)\}$/)[1];
    const late = code && code.replace(/io\.local\.emit\(([^;]*)\);/g, 'setTimeout(() => io.emit($1), 40);');
    return late && new Function('io', late);
  }
  if (variant.endsWith('-io-emit')) {
    const right = fromLesson(variant.slice(0, -'-io-emit'.length));
    const code = right && right.toString().match(/^[^{]*\{([\s\S]*)\}$/)[1];
    return code && new Function('io', code.replaceAll('io.local.emit', 'io.emit'));
  }
  const match = /^(\d+)\.(\d+)$/.exec(variant);
  if (!match) return undefined;
  const lessons = path.join(__dirname, '..', '..', 'lessons');
  const prefix = match[1].padStart(2, '0') + '-';
  const folder = fs.readdirSync(lessons).find((name) => name.startsWith(prefix));
  const file = folder && path.join(lessons, folder, `stage-${match[2]}.js`);
  if (!file || !fs.existsSync(file)) return undefined;
  return new Function('io', fs.readFileSync(file, 'utf8'));
}

async function main() {
  const [portText = '0', redis, variant] = process.argv.slice(2);
  const lesson = variant === undefined ? undefined : fromLesson(variant);
  if (!redis || (variant !== undefined && !lesson)) {
    console.error('usage: node cluster.js PORT REDIS [N.K] (REDIS: a Unix socket path, redis://host:port or none)');
    process.exit(2);
  }
  if (redis === 'none') {
    const app = express();
    const server = createServer(app);
    const io = new Server(server);
    (lesson || defaultHandlers)(io);
    listen(server, portText);
    return;
  }
  const options = redis.startsWith('redis://') ? { url: redis } : { socket: { path: redis } };
  // Two connections: a subscribed Redis connection can do nothing but receive.
  const pubClient = createClient(options);
  const subClient = pubClient.duplicate();
  for (const client of [pubClient, subClient]) {
    client.on('error', (error) => {
      console.error(`redis: ${error.message}`);
      process.exit(1);
    });
  }
  await Promise.all([pubClient.connect(), subClient.connect()]);

  const app = express();
  const server = createServer(app);
  const io = new Server(server, { adapter: createAdapter(pubClient, subClient) });
  // The adapter subscribes without handing out the promise. One connection's commands are
  // answered in order, so once a subscription of ours is confirmed, the adapter's are too, and
  // no broadcast from the other node can pass this one by.
  await subClient.subscribe('realtime-tutor#subscribed', () => {});
  (lesson || defaultHandlers)(io);
  listen(server, portText);
}

function defaultHandlers(io) {
  io.on('connection', (socket) => {
    const room = socket.handshake.query.room;
    if (typeof room === 'string' && room !== '') {
      socket.join(room);
    }
    socket.on('chat message', (msg) => {
      io.emit('chat message', msg);
    });
    socket.on('local message', (msg) => {
      io.local.emit('chat message', msg);
    });
    socket.on('to room', (room, msg, ack) => {
      socket.to(room).emit('chat message', msg);
      if (typeof ack === 'function') ack();
    });
  });
}

function listen(server, portText) {
  server.listen(Number(portText), HOST, () => {
    console.log(server.address().port);
  });
  server.on('error', (error) => {
    console.error(`cannot listen: ${error.message}`);
    process.exit(1);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
