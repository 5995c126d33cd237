// Lesson 9.1's claim, checked in a real browser: a page on another origin cannot connect to a
// Socket.IO server without `cors` (socket.io-client reports "xhr poll error", and keeps trying),
// although the server served the handshake; with `cors: { origin }` for the page's origin, it can.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { corsReport } from './lesson9-cors.mjs';

test('lesson 9.1: without cors the page gets "xhr poll error", though the server opened a session', async () => {
  const report = await corsReport(false);
  assert.deepEqual(report.client.connect_error, { message: 'xhr poll error', description: 0, type: 'TransportError' });
  assert.equal(report.client.active, true, 'socket.io-client keeps trying after a connect_error');
  assert.ok(
    report.console.some((line) => line.includes("No 'Access-Control-Allow-Origin' header")),
    `the browser names CORS in its console: ${JSON.stringify(report.console)}`,
  );
  assert.ok(report.server_log.some((line) => line.server === 'engine_open'), 'the server answered the handshake');
  assert.ok(!report.server_log.some((line) => line.server === 'connection'), 'no Socket.IO connection on the server');
});

test('lesson 9.1: with cors for the page\'s origin the page connects', async () => {
  const report = await corsReport(true);
  assert.equal(report.client.connected, true, JSON.stringify(report.client));
  assert.deepEqual(report.console, []);
  assert.ok(report.server_log.some((line) => line.server === 'connection'));
});

test('lesson 9.1: CORS does not apply to WebSocket: a websocket-only page connects without cors', async () => {
  const report = await corsReport(false, 'websocket');
  assert.equal(report.client.connected, true, JSON.stringify(report.client));
  assert.equal(report.client.transport, 'websocket');
});

// The other stages need no browser: socket.io-client 4.8.4 (2.5.0 for stage 3) in Node, against
// socket.io 4.8.4, through tests/node/lesson9-client.js. Each assertion is a sentence of the
// lesson's text (lessons/09-connect-failures/stage-K.md).

const CLIENT = fileURLToPath(new URL('../node/lesson9-client.js', import.meta.url));

/** Runs lesson9-client.js with `args`; resolves with its JSON report. */
function run(...args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLIENT, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`lesson9-client.js ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

const first = (report, event) => report.client.events.find((e) => e.event === event);
const serverSaw = (report, kind) => report.server.filter((l) => l.server === kind);

test('lesson 9.2: another path is a 404 for polling, a hang-up after a second for WebSocket', async () => {
  const [polling, websocket, fixed] = await Promise.all([
    run('--stage', '2'),
    run('--stage', '2', '--transport', 'websocket'),
    run('--stage', '2', '--fixed'),
  ]);
  assert.equal(first(polling, 'connect_error').message, 'xhr poll error');
  assert.equal(first(polling, 'connect_error').description, 404);
  assert.equal(polling.client.active, true);
  assert.deepEqual(serverSaw(polling, 'connection_error'), []);
  assert.equal(serverSaw(polling, 'http')[0].status, 404);
  const ws = first(websocket, 'connect_error');
  assert.equal(ws.message, 'websocket error');
  assert.equal(ws.description, 'socket hang up');
  assert.ok(ws.at >= 900, `engine.io ends the unclaimed upgrade after about a second (${ws.at} ms)`);
  assert.ok(first(fixed, 'connect'));
});

test('lesson 9.3: a Socket.IO 2 client gets 400 and code 5; allowEIO3 lets it in', async () => {
  const [polling, websocket, fixed] = await Promise.all([
    run('--stage', '3'),
    run('--stage', '3', '--transport', 'websocket'),
    run('--stage', '3', '--fixed'),
  ]);
  assert.equal(first(polling, 'connect_error').message, 'xhr poll error');
  assert.equal(first(polling, 'connect_error').description, 400);
  const [refused] = serverSaw(polling, 'connection_error');
  assert.deepEqual([refused.code, refused.message, refused.context], [5, 'Unsupported protocol version', { protocol: 3 }]);
  assert.equal(first(websocket, 'connect_error').message, 'websocket error');
  assert.equal(first(websocket, 'connect_error').description, 'Invalid WebSocket frame: RSV1 must be clear');
  assert.equal(serverSaw(websocket, 'connection_error')[0].code, 5);
  assert.ok(first(fixed, 'connect'));
  assert.equal(serverSaw(fixed, 'engine_open')[0].protocol, 3);
});

test('lesson 9.4: behind a proxy that drops Upgrade the client stays on polling, and says nothing', async () => {
  const [dropped, websocket, forwarded] = await Promise.all([
    run('--stage', '4'),
    run('--stage', '4', '--transport', 'websocket'),
    run('--stage', '4', '--fixed'),
  ]);
  assert.equal(dropped.client.final_transport, 'polling');
  assert.ok(first(dropped, 'connect'));
  assert.equal(first(dropped, 'connect_error'), undefined);
  assert.equal(first(dropped, 'disconnect'), undefined);
  assert.equal(first(dropped, 'upgradeError').message, 'probe error: Error: websocket error');
  const [refused] = serverSaw(dropped, 'connection_error');
  assert.deepEqual([refused.code, refused.message, refused.context.name], [3, 'Bad request', 'TRANSPORT_MISMATCH']);
  assert.equal(first(websocket, 'connect_error').description, 'Unexpected server response: 400');
  assert.equal(serverSaw(websocket, 'connection_error')[0].context.name, 'TRANSPORT_HANDSHAKE_ERROR');
  assert.equal(forwarded.client.final_transport, 'websocket');
});

test('lesson 9.5: over maxHttpBufferSize each side names the other transport failure', async () => {
  const [websocket, polling, fixed] = await Promise.all([
    run('--stage', '5', '--transport', 'websocket'),
    run('--stage', '5', '--transport', 'polling'),
    run('--stage', '5', '--fixed'),
  ]);
  assert.equal(first(websocket, 'disconnect').reason, 'transport close');
  assert.equal(serverSaw(websocket, 'disconnect')[0].reason, 'transport error');
  assert.equal(serverSaw(websocket, 'engine_close')[0].description, 'RangeError: Max payload size exceeded');
  const pollingEnd = first(polling, 'disconnect');
  assert.deepEqual([pollingEnd.reason, pollingEnd.message, pollingEnd.description], ['transport error', 'xhr post error', 413]);
  assert.equal(serverSaw(polling, 'disconnect')[0].reason, 'transport close');
  assert.equal(websocket.client.echoes + polling.client.echoes, 0, 'the message reaches no handler');
  assert.equal(fixed.client.echoes, 1);
});

test('lesson 9.6: lost pongs are "ping timeout" for the server only; a silent network, for both', async () => {
  const [pongsLost, cut, fixed] = await Promise.all([run('--stage', '6'), run('--stage', '6', '--cut'), run('--stage', '6', '--fixed')]);
  assert.equal(serverSaw(pongsLost, 'disconnect')[0].reason, 'ping timeout');
  assert.equal(first(pongsLost, 'disconnect').reason, 'transport close');
  assert.equal(serverSaw(cut, 'disconnect')[0].reason, 'ping timeout');
  assert.equal(first(cut, 'disconnect').reason, 'ping timeout');
  // pingInterval + pingTimeout = 500 ms after the handshake, each on its own clock. A timer never
  // fires early, but a loaded machine makes it late; and the server's clock starts at the
  // 'connection' event, which comes a little (on a busy machine, tens of ms) after the Engine.IO
  // socket set its ping timer.
  for (const report of [pongsLost, cut]) {
    const { ms } = serverSaw(report, 'disconnect')[0];
    assert.ok(ms >= 450 && ms < 2000, `the server gives up 500 ms after the handshake (${ms} ms)`);
  }
  const ms = cut.client.disconnect_after_open_ms;
  assert.ok(ms >= 495 && ms < 2000, `the client gives up 500 ms after the handshake (${ms} ms)`);
  assert.equal(fixed.client.disconnect_after_open_ms, null);
});

test('lesson 9.7: a handler registered after an await misses the first event, which did arrive', async () => {
  const [late, fixed] = await Promise.all([run('--stage', '7'), run('--stage', '7', '--fixed')]);
  assert.deepEqual(late.client.answered, ['hello, again']);
  assert.deepEqual(
    serverSaw(late, 'packet').map((p) => p.args[0]),
    ['hello', 'hello, again'],
  );
  assert.deepEqual(fixed.client.answered, ['hello', 'hello, again']);
});

test('lesson 9.8: handlers registered in on("connect") run twice after a reconnection', async () => {
  const [inside, polling, fixed] = await Promise.all([
    run('--stage', '8'),
    run('--stage', '8', '--transport', 'polling'),
    run('--stage', '8', '--fixed'),
  ]);
  assert.deepEqual(inside.client.handler_runs, { before: 1, after: 2 });
  assert.equal(first(inside, 'disconnect').reason, 'transport close');
  assert.equal(first(polling, 'disconnect').reason, 'transport error');
  assert.deepEqual(fixed.client.handler_runs, { before: 1, after: 1 });
  assert.equal(serverSaw(inside, 'packet').filter((p) => p.args[0] === 'after').length, 1, 'the server got it once');
});
