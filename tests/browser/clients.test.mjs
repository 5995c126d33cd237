// The official Node `socket.io-client` against `realtime-tutor serve`: three clients, and who
// received what, for lessons 2 and 3.
//
// "Did not receive" is decided by ordering, never by waiting. Once the tutor's trace reports
// that the server's handler has finished, the packets it emitted are queued on every selected
// connection. Each client then asks, over its own connection, to join a namespace that does not
// exist; the server answers at once with CONNECT_ERROR "Invalid namespace", queued behind
// anything already queued for that connection. When the refusal arrives, everything sent
// before it has arrived too. This is plain Socket.IO, no tutor plumbing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';

import { bounded, startServe } from './serve.mjs';

/** Connects one client, as a learner's code would, introducing itself by name. */
async function connect(serve, name) {
  const socket = io(serve.url, { query: { name }, forceNew: true, reconnection: false });
  const received = [];
  socket.onAny((event, ...args) => received.push([event, ...args]));
  await bounded(
    new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    }),
    `${name} to connect`,
  );
  // The server reports when its io.on('connection') handler has run.
  const line = await serve.waitFor(`${name}'s connection in the trace`, (l) => l.kind === 'connect' && l.client === name);
  return { name, socket, received, line };
}

let fences = 0;

/** Resolves when everything the server queued for this client before now has arrived. */
function fence(client) {
  fences += 1;
  const probe = client.socket.io.socket(`/tutor-fence-${fences}`);
  return bounded(
    new Promise((resolve) => {
      probe.once('connect_error', (err) => {
        probe.disconnect();
        resolve(err.message);
      });
    }),
    `the fence for ${client.name}`,
  );
}

async function fenceAll(clients) {
  for (const client of clients) {
    assert.equal(await fence(client), 'Invalid namespace');
  }
}

test('lesson 2: socket.broadcast.emit("hi") reaches everyone but the newcomer', { timeout: 60_000 }, async () => {
  const serve = await startServe(['2']);
  const clients = [];
  try {
    for (const name of ['alice', 'bob', 'carol']) {
      const client = await connect(serve, name);
      const others = clients.map((c) => c.name).sort();
      assert.equal(client.line.action, "socket.broadcast.emit('hi')");
      assert.deepEqual(client.line.sent_to, others, `the server's own account of ${name}'s connection`);
      assert.deepEqual(client.line.not_sent_to, [name]);
      clients.push(client);
    }
    await fenceAll(clients);
    const got = Object.fromEntries(clients.map((c) => [c.name, c.received]));
    assert.deepEqual(got, {
      alice: [['hi'], ['hi']], // bob's and carol's arrivals
      bob: [['hi']], //           carol's arrival
      carol: [], //               the newcomer never hears its own 'hi'
    });
  } finally {
    clients.forEach((c) => c.socket.disconnect());
    const stopped = await serve.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});

for (const [flag, action, echo] of [
  [[], "io.emit('chat message', msg)", true],
  [['--broadcast'], "socket.broadcast.emit('chat message', msg)", false],
]) {
  test(`lesson 3 ${flag.join(' ') || '(io.emit)'}: who receives each chat message`, { timeout: 60_000 }, async () => {
    const serve = await startServe(['3', ...flag]);
    const clients = [];
    try {
      for (const name of ['alice', 'bob', 'carol']) clients.push(await connect(serve, name));
      const sent = [];
      for (const sender of clients) {
        const text = `${sender.name} says hi`;
        sender.socket.emit('chat message', text);
        const line = await serve.waitFor(`${sender.name}'s message in the trace`, (l) => l.kind === 'emit' && l.args[0] === text);
        assert.equal(line.action, action);
        const everyone = clients.map((c) => c.name).sort();
        assert.deepEqual(line.sent_to, echo ? everyone : everyone.filter((n) => n !== sender.name));
        sent.push([sender.name, text]);
      }
      await fenceAll(clients);
      for (const client of clients) {
        const expected = sent
          .filter(([from]) => echo || from !== client.name)
          .map(([, text]) => ['chat message', text]);
        assert.deepEqual(client.received, expected, `what ${client.name} received`);
      }
    } finally {
      clients.forEach((c) => c.socket.disconnect());
      const stopped = await serve.stop();
      assert.equal(stopped.code, 0, stopped.stderr);
    }
  });
}

test('the page gets the official client script, byte for byte', { timeout: 30_000 }, async () => {
  const serve = await startServe(['1']);
  try {
    const reply = await bounded(fetch(new URL('/socket.io/socket.io.js', serve.url)), 'GET /socket.io/socket.io.js');
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type'), /^application\/javascript/);
    const dist = new URL('./node_modules/socket.io-client/dist/socket.io.min.js', import.meta.url);
    const official = readFileSync(fileURLToPath(dist), 'utf8');
    assert.equal(await reply.text(), official);
  } finally {
    await serve.stop();
  }
});
