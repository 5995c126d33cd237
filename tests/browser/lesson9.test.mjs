// Lesson 9.1's claim, checked in a real browser: a page on another origin cannot connect to a
// Socket.IO server without `cors` (socket.io-client reports "xhr poll error", and keeps trying),
// although the server served the handshake; with `cors: { origin }` for the page's origin, it can.

import assert from 'node:assert/strict';
import { test } from 'node:test';

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
