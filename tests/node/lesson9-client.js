// What socket.io-client 4.8.4 (and, for stage 3, socket.io-client 2.5.0) reports in each failure
// of lesson 9, printed as one JSON object: the facts the tutor's simulated client must equal.
//
//   node tests/node/lesson9-client.js --stage N [--fixed] [--transport polling|websocket]
//       starts `lesson9.js --stage N [--fixed]` itself, runs the client against it, and prints
//       {"stage", "fixed", "transport", "client": {...}, "server": [lines lesson9.js printed]}
//   node tests/node/lesson9-client.js --stage N --url http://127.0.0.1:PORT [--transport ...]
//       runs only the client against a server already running (the tutor's, say): no "server".
//
// Without --transport the client uses its defaults (long-polling, then the upgrade to WebSocket);
// with it, `transports: [T]`. "client" holds, in order, what the application could see:
// {"at": ms since the start, "event": "open" (the Engine.IO handshake) | "connect" | "connect_error" |
// "disconnect" | "upgrade" |
// "upgradeError" | ..., with message, description, type, reason, transport}. Every wait is bounded:
// each scenario ends within a few seconds, whatever the server does. Exit status 0 when the run
// completed (whatever it observed), 2 on bad arguments, 1 when the fixture could not start.

const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');

function usage(message) {
  console.error(`${message}\nusage: node lesson9-client.js --stage N [--fixed] [--url URL]` +
    ' [--transport polling|websocket] [--cut]');
  process.exit(2);
}

const args = process.argv.slice(2);
const opts = { stage: null, fixed: false, url: null, transport: null, cut: false };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--stage') opts.stage = Number(args[++i]);
  else if (args[i] === '--fixed') opts.fixed = true;
  else if (args[i] === '--url') opts.url = args[++i];
  else if (args[i] === '--transport') opts.transport = args[++i];
  else if (args[i] === '--cut') opts.cut = true;
  else usage(`unknown argument ${args[i]}`);
}
if (!Number.isInteger(opts.stage) || opts.stage < 1 || opts.stage > 8) usage('--stage must be 1 to 8');
if (opts.cut && opts.stage !== 6) usage('--cut belongs to stage 6');
if (opts.transport !== null && !['polling', 'websocket'].includes(opts.transport)) {
  usage('--transport is polling or websocket');
}

// Times are counted from the moment the scenario starts (the server's start-up comes before: < 0).
let started = Date.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A bounded wait: resolves with `what`'s value, or with 'timeout' after `ms`. */
const within = (ms, what) => Promise.race([what, sleep(ms).then(() => 'timeout')]);

/** The part of an error's `description` that prints: a status code, or an error's message. */
function describe(description) {
  if (description === undefined || description === null) return description;
  if (typeof description !== 'object') return description;
  if (description.message !== undefined) return description.message;
  if (description.type !== undefined) return `${description.type} event`;
  return String(description);
}

/** Records what the application sees on `socket` (a v4 or a v2 client socket). */
function recorder(socket, v2 = false) {
  const events = [];
  let stopped = false;
  const record = (event, fields = {}) => stopped || events.push({ at: Date.now() - started, event, ...fields });
  const engine = () => socket.io.engine;
  const transport = () => engine()?.transport?.name;
  // The manager's 'open' comes as the Engine.IO handshake completes, before the upgrade probe starts.
  socket.io.on('open', () => {
    record('open', { transport: transport() });
    const e = engine();
    e.on('upgrade', (t) => record('upgrade', { transport: t.name }));
    e.on('upgradeError', (err) => record('upgradeError', { message: err.message, transport: err.transport }));
  });
  socket.on('connect', () => record('connect', { transport: transport() }));
  socket.on('connect_error', (err) => {
    const description = describe(err.description);
    record('connect_error', { message: err.message, description, type: err.type, data: err.data });
  });
  socket.on('disconnect', (reason, details) => {
    record('disconnect', { reason, description: describe(details?.description), message: details?.message });
  });
  if (v2) socket.on('error', (err) => record('error', { message: String(err) }));
  /** Resolves when the next of `names` is recorded after this call. */
  const next = (...names) =>
    new Promise((resolve) => {
      const from = events.length;
      const timer = setInterval(() => {
        const hit = events.slice(from).find((e) => names.includes(e.event));
        if (hit) {
          clearInterval(timer);
          resolve(hit);
        }
      }, 5);
    });
  const stop = () => (stopped = true);
  return { events, record, next, transport, stop };
}

/**
 * A TCP relay in front of `url`, standing for the network between client and server. `cut()` makes
 * it silent both ways (the connections stay open, nothing passes: a cable pulled, a laptop lid
 * closed); `drop()` closes every connection through it (a Wi-Fi change, a server restart) and keeps
 * taking new ones.
 */
async function relay(url) {
  const target = new URL(url);
  const sockets = new Set();
  let silent = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (d) => silent || upstream.write(d));
    upstream.on('data', (d) => silent || client.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut: () => (silent = true),
    drop: () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}

function v4client(url, extra = {}) {
  const { io } = require('socket.io-client');
  const options = { forceNew: true, ...extra };
  if (opts.transport) options.transports = [opts.transport];
  return io(url, options);
}

/** Each stage's scenario: what the application does, and what it waits for (bounded). */
const scenarios = {
  // Node applies no CORS: this only shows what a browser would be shown (the header the page needs).
  1: async (url, info) => {
    const socket = v4client(url);
    const r = recorder(socket);
    await within(3000, r.next('connect', 'connect_error'));
    r.stop();
    socket.disconnect();
    // Then one handshake as the page would send it, with its Origin: what the browser reads.
    const origin = `http://127.0.0.1:${info.page ?? 8080}`;
    const answer = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, {
      headers: { Origin: origin },
      signal: AbortSignal.timeout(2000),
    });
    await answer.text();
    return { origin, allow_origin: answer.headers.get('access-control-allow-origin'), events: r.events };
  },
  2: async (url) => {
    const socket = v4client(url, { path: '/realtime/' });
    const r = recorder(socket);
    await within(3000, r.next('connect', 'connect_error'));
    const active = socket.active;
    r.stop();
    socket.disconnect();
    return { active, events: r.events };
  },
  3: async (url) => {
    const io2 = require('socket.io-client-v2');
    const options = { forceNew: true };
    if (opts.transport) options.transports = [opts.transport];
    const socket = io2(url, options);
    const r = recorder(socket, true);
    await within(3000, r.next('connect', 'connect_error'));
    r.stop();
    socket.close();
    return { client_version: require('socket.io-client-v2/package.json').version, events: r.events };
  },
  // Connects, then watches for an upgrade for 2 s: the failure is that nothing happens.
  4: async (url) => {
    const socket = v4client(url);
    const r = recorder(socket);
    const first = await within(3000, r.next('connect', 'connect_error'));
    if (first !== 'timeout' && first.event === 'connect' && !opts.transport) {
      await within(2000, r.next('upgrade', 'upgradeError'));
      await sleep(300);
    }
    const final = r.transport();
    r.stop();
    socket.disconnect();
    return { final_transport: final, events: r.events };
  },
  // Sends 2 000 bytes where the server takes 1 000.
  5: async (url) => {
    const socket = v4client(url);
    const r = recorder(socket);
    let echoes = 0;
    socket.on('chat message', (msg) => {
      echoes++;
      r.record('echo', { bytes: msg.length });
    });
    const first = await within(3000, r.next('connect'));
    if (first === 'timeout') return { events: r.events };
    // A default client upgrades first (it may have by now), so that the message goes over WebSocket.
    if (!opts.transport && r.transport() !== 'websocket') await within(1000, r.next('upgrade', 'upgradeError'));
    const on = r.transport();
    r.record('emit', { bytes: 2000, transport: on });
    socket.emit('chat message', 'x'.repeat(2000));
    const end = await within(2000, r.next('disconnect', 'echo'));
    const ms = end === 'timeout' || end.event === 'echo' ? null : end.at - r.events.find((e) => e.event === 'emit').at;
    r.stop();
    socket.disconnect();
    return { sent_on: on, echoes, disconnect_after_ms: ms, events: r.events };
  },
  // Stops answering the server's pings once connected (as a frozen tab or a dead network would).
  // With --cut the network between them goes silent instead: nothing passes either way.
  6: async (url) => {
    const net = opts.cut ? await relay(url) : null;
    const socket = v4client(net ? net.url : url, { reconnection: false });
    const r = recorder(socket);
    const first = await within(3000, r.next('connect'));
    if (first === 'timeout') return { events: r.events };
    // A default client finishes its upgrade first: the failure is meant to meet a settled connection.
    if (!opts.transport && r.transport() !== 'websocket') await within(1000, r.next('upgrade', 'upgradeError'));
    if (opts.cut) {
      net.cut();
      r.record('the network goes silent both ways');
    } else if (!opts.fixed) {
      const engine = socket.io.engine;
      const send = engine._sendPacket.bind(engine);
      engine._sendPacket = (type, ...rest) => (type === 'pong' ? undefined : send(type, ...rest));
      r.record('stops answering pings');
    }
    const end = await within(2500, r.next('disconnect'));
    // Both clocks start at the Engine.IO handshake (the 'open' event), not at the Socket.IO connect.
    const ms = end === 'timeout' ? null : end.at - r.events.find((e) => e.event === 'open').at;
    r.stop();
    socket.disconnect();
    return { disconnect_after_open_ms: ms, events: r.events };
  },
  // Says 'hello' as soon as it is connected, and 'hello, again' 700 ms later (the server's await
  // takes 200); the server echoes each 'chat message' it has a listener for.
  7: async (url) => {
    const socket = v4client(url);
    const r = recorder(socket);
    const his = [];
    socket.on('chat message', (msg) => {
      his.push(msg);
      r.record('chat message', { msg });
    });
    socket.on('connect', () => socket.emit('chat message', 'hello'));
    const first = await within(3000, r.next('connect'));
    if (first !== 'timeout') {
      await sleep(700);
      socket.emit('chat message', 'hello, again');
      await within(1000, r.next('chat message'));
      await sleep(100);
    }
    r.stop();
    socket.disconnect();
    return { answered: his, events: r.events };
  },
  // Registers its chat handler inside on('connect') (the fix: once, outside), loses its connection
  // once, and counts how often its handler runs for one message before and one after.
  8: async (url) => {
    const net = await relay(url);
    const socket = v4client(net.url, { reconnectionDelay: 100, reconnectionDelayMax: 200 });
    const r = recorder(socket);
    const runs = {};
    const handler = (msg) => {
      runs[msg] = (runs[msg] ?? 0) + 1;
      r.record('handler', { msg });
    };
    if (opts.fixed) socket.on('chat message', handler);
    else socket.on('connect', () => socket.on('chat message', handler));
    const first = await within(3000, r.next('connect'));
    if (first === 'timeout') return { events: r.events };
    socket.emit('chat message', 'before');
    await within(1000, r.next('handler'));
    await sleep(200);
    r.record('the network drops every connection');
    net.drop();
    const back = await within(3000, r.next('connect'));
    if (back !== 'timeout') {
      socket.emit('chat message', 'after');
      await within(1000, r.next('handler'));
      await sleep(200);
    }
    r.stop();
    socket.disconnect();
    return { handler_runs: runs, events: r.events };
  },
};

/** Starts lesson9.js for this stage; resolves with its ports and the lines it prints from then on. */
function startFixture() {
  const argv = [path.join(__dirname, 'lesson9.js'), '--stage', String(opts.stage)];
  if (opts.fixed) argv.push('--fixed');
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  const ready = new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    let port = null;
    rl.on('line', (line) => {
      if (port === null) port = Number(line);
      else if (lines.length === 0 && line.startsWith('{"ready"')) {
        lines.push(null);
        resolve({ url: `http://127.0.0.1:${port}`, info: JSON.parse(line) });
      } else lines.push({ at: Date.now() - started, ...JSON.parse(line) });
    });
    child.on('exit', (code) => reject(new Error(`lesson9.js exited with ${code} before it was ready`)));
  });
  return { child, lines, ready: within(5000, ready) };
}

async function main() {
  const out = { stage: opts.stage, fixed: opts.fixed, transport: opts.transport ?? 'default' };
  if (opts.cut) out.cut = true;
  if (opts.url) {
    started = Date.now();
    out.client = await scenarios[opts.stage](opts.url.replace(/\/$/, ''), {});
  } else {
    const fixture = startFixture();
    const ready = await fixture.ready;
    if (ready === 'timeout') throw new Error('lesson9.js did not print its port within 5 s');
    started = Date.now();
    out.client = await scenarios[opts.stage](ready.url, ready.info);
    // The server's last lines (its disconnects) may still be on their way: wait (bounded) until
    // every connection it logged has its disconnect.
    const settled = () => {
      const lines = fixture.lines.filter((l) => l !== null);
      const count = (kind) => lines.filter((l) => l.server === kind).length;
      return count('connection') <= count('disconnect');
    };
    for (let waited = 0; waited < 1000 && !settled(); waited += 10) await sleep(10);
    fixture.child.kill();
    out.server = fixture.lines.filter((l) => l !== null);
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

main().catch((e) => {
  console.error(`lesson9-client.js: ${e.message}`);
  process.exit(1);
});
