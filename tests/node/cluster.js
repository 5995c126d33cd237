// One node of the scaling-out lesson in Node.js: socket.io with `@socket.io/redis-adapter` on
// npm's `redis` client. Start two, on two ports and the same Redis, and a broadcast on one
// reaches the clients of both.
//
// Usage: node cluster.js PORT REDIS
//   REDIS is a Unix socket path (the tutor's private Redis) or a redis://host:port URL.
// Prints the port it listens on (127.0.0.1) as its first line, once the adapter is subscribed.
//
// What it answers (the events the lesson's scenario uses):
//   ?room=NAME in the handshake query   socket.join(NAME)
//   'chat message' (msg)                io.emit('chat message', msg)         every node
//   'local message' (msg)               io.local.emit('chat message', msg)   this node only
//   'to room' (room, msg, ack)          socket.to(room).emit('chat message', msg), then ack()
//
// Note: this adapter and socketioxide's Redis adapter speak different protocols on Redis; a Node
// node and a Rust node cannot share broadcasts, so each side runs its own pair.

const express = require('express');
const { createServer } = require('node:http');
const { Server } = require('socket.io');
const { createClient } = require('redis');
const { createAdapter } = require('@socket.io/redis-adapter');

const HOST = '127.0.0.1';

async function main() {
  const [portText = '0', redis] = process.argv.slice(2);
  if (!redis) {
    console.error('usage: node cluster.js PORT REDIS (a Unix socket path or redis://host:port)');
    process.exit(2);
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
