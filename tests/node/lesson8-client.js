// Plays each stage of lesson 8 (namespaces and middleware) with the official socket.io-client
// against a running server, and prints what every person received as one JSON object.
//
//   node tests/node/lesson8-client.js <url> --stage <1-5> [--transports polling|websocket]
//        [--wait <ms>] [--parent-emit]
//
// Each simulated person has one Manager, that is one Engine.IO session, and opens one Socket
// per namespace on it (alice's "/" and "/admin" share her connection, as `io(url)` followed by
// `io(url + '/admin')` would). `--parent-emit` adds a last step to stage 5, Node only: carol
// emits 'all teams', which lesson8.js answers with the parent namespace's teams.emit.
//
// What was *not* received is decided by order, not by sleeping, the way the tutor's runner does
// against a server it did not write (src/runner/round_trip.rs). After each step the client
// sends a CONNECT for a namespace nobody serves (`/tutor-fence-N`) and waits for the server's
// CONNECT_ERROR. The answer travels on the same session as everything else the server sends
// that person, so whatever the server queued before it has arrived first. Node runs an event
// handler in a process.nextTick, which can come after a CONNECT read from the same HTTP body,
// so there are two rounds: one on the person who acted (once answered, the server has read the
// action), then one on everybody. Every wait is bounded by `--wait` (3000 ms by default): a
// CONNECT the server never answers is reported as such, not waited for forever.
//
// The output, per person and namespace: `events` as [step, event, ...args] in arrival order,
// `connect_error` as { message, data } (socket.io-client's err.message and err.data), or
// `no_answer`. `ids` says, per person, whether the namespace sockets got distinct ids and
// whether any of them is the Engine.IO session id. Exit status: 0 when every fence came back,
// 1 otherwise (`problems` says which), 2 for bad usage.

const path = require('node:path');

// The client the conformance test compares with: socket.io-client 4.8.4, pinned in this folder's
// package.json next to the server it talks to (socket.io 4.8.4). Loaded by path, so no other
// copy on the machine can stand in for it; anything but 4.x stops here, saying what to install.
function loadClient() {
  const place = path.join(__dirname, 'node_modules/socket.io-client');
  let version;
  try {
    version = require(`${place}/package.json`).version;
  } catch (e) {
    version = null;
  }
  if (!version || !version.startsWith('4.')) {
    console.error(`socket.io-client 4.x is missing (found ${version}): run \`npm ci\` in tests/node`);
    process.exit(2);
  }
  return { client: require(place), version };
}
const { client: ioClient, version: CLIENT_VERSION } = loadClient();
const { Manager } = ioClient;

const connect = (who, nsp, auth) => ({ kind: 'connect', who, nsp, auth });
const emit = (who, nsp, event, args) => ({ kind: 'emit', who, nsp, event, args });

// The steps of LESSON8's stages, in order.
const ADMIN_ROOM = [
  connect('alice', '/'),
  connect('alice', '/admin'),
  connect('carol', '/admin'),
  connect('bob', '/'),
];
const SCRIPTS = {
  1: [...ADMIN_ROOM, emit('bob', '/', 'announce', ['deploy at five'])],
  2: [...ADMIN_ROOM, emit('alice', '/', 'chat message', ['hi all'])],
  3: [
    connect('mallory', '/admin'),
    connect('alice', '/'),
    connect('alice', '/admin', { token: 'letmein' }),
    connect('bob', '/'),
    emit('bob', '/', 'announce', ['deploy at five']),
  ],
  4: [
    connect('alice', '/', { name: 'alice' }),
    connect('bob', '/', { name: 'bob' }),
    emit('alice', '/', 'chat message', ['hi']),
  ],
  5: [
    connect('alice', '/team-red'),
    connect('bob', '/team-red'),
    connect('carol', '/team-blue'),
    emit('alice', '/team-red', 'chat message', ['go red']),
    connect('dave', '/other'),
  ],
};
const PARENT_EMIT = emit('carol', '/team-blue', 'all teams', ['all hands']);

const USAGE =
  'usage: node lesson8-client.js <url> --stage <1-5> [--transports polling|websocket] ' +
  '[--wait <ms>] [--parent-emit]';

function parse(argv) {
  const opts = { url: argv[0], stage: null, transports: 'polling', wait: 3000, parentEmit: false };
  for (let i = 1; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--parent-emit') {
      opts.parentEmit = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) return null;
    if (flag === '--stage') opts.stage = value;
    else if (flag === '--transports') opts.transports = value;
    else if (flag === '--wait') opts.wait = Number(value);
    else return null;
  }
  const ok =
    /^https?:\/\//.test(opts.url || '') &&
    SCRIPTS[opts.stage] &&
    ['polling', 'websocket'].includes(opts.transports) &&
    Number.isInteger(opts.wait) &&
    opts.wait > 0 &&
    (!opts.parentEmit || opts.stage === '5');
  return ok ? opts : null;
}

// `promise`, or `undefined` after `ms` milliseconds.
function within(promise, ms) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function describe(step) {
  const auth = step.auth ? ` with auth ${JSON.stringify(step.auth)}` : '';
  return step.kind === 'connect'
    ? `${step.who} connects ${step.nsp}${auth}`
    : `${step.who} emits '${step.event}' ${JSON.stringify(step.args)} on ${step.nsp}`;
}

class Play {
  constructor(opts) {
    this.opts = opts;
    this.people = new Map(); // name -> { manager, sockets: Map(nsp -> socket), log: {} }
    this.step = 0;
    this.fences = 0;
    this.problems = [];
  }

  person(who) {
    if (!this.people.has(who)) {
      const manager = new Manager(this.opts.url, {
        transports: [this.opts.transports],
        reconnection: false,
        autoConnect: false,
        timeout: this.opts.wait,
      });
      this.people.set(who, { manager, sockets: new Map(), log: {}, engineIds: new Map() });
    }
    return this.people.get(who);
  }

  // A person whose session is open: a refused person with no other socket has none.
  alive(person) {
    return person.manager._readyState === 'open';
  }

  async connect({ who, nsp, auth }) {
    const person = this.person(who);
    const log = { events: [] };
    person.log[nsp] = log;
    const socket = person.manager.socket(nsp, auth ? { auth } : {});
    person.sockets.set(nsp, socket);
    socket.onAny((event, ...args) => log.events.push([this.step, event, ...args]));
    const answer = new Promise((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (err) => {
        const data = err.data === undefined ? null : err.data;
        log.connect_error = { message: err.message, data };
        resolve('refused');
      });
    });
    socket.connect();
    const got = await within(answer, this.opts.wait);
    if (got === 'connected') {
      log.connected = true;
      person.engineIds.set(nsp, { id: socket.id, engine: person.manager.engine.id });
    } else if (got === undefined) {
      log.no_answer = `no answer to CONNECT ${nsp} within ${this.opts.wait} ms`;
    }
  }

  async emit({ who, nsp, event, args }) {
    const socket = this.people.get(who).sockets.get(nsp);
    socket.emit(event, ...args);
  }

  // One round trip on `who`: a CONNECT to a namespace nobody serves, answered in order.
  async fence(who) {
    const person = this.people.get(who);
    const n = ++this.fences;
    const socket = person.manager.socket(`/tutor-fence-${n}`);
    const answer = new Promise((resolve) => {
      socket.once('connect_error', () => resolve(true));
      socket.once('connect', () => {
        socket.disconnect();
        resolve(true);
      });
    });
    socket.connect();
    if (!(await within(answer, this.opts.wait))) {
      const late = `fence #${n} to ${who} not answered within ${this.opts.wait} ms`;
      this.problems.push(`step ${this.step}: ${late}`);
    }
  }

  async settle(acting) {
    if (this.alive(this.people.get(acting))) {
      await this.fence(acting);
    }
    const everyone = [...this.people.keys()].filter((who) => this.alive(this.people.get(who)));
    await Promise.all(everyone.map((who) => this.fence(who)));
  }

  async run(steps) {
    for (const step of steps) {
      this.step += 1;
      await this[step.kind](step);
      await this.settle(step.who);
    }
  }

  report(steps) {
    const people = {};
    const ids = {};
    for (const [who, person] of this.people) {
      people[who] = person.log;
      const seen = [...person.engineIds.values()];
      if (seen.length > 0) {
        ids[who] = {
          namespaces: seen.length,
          distinct: new Set(seen.map((s) => s.id)).size === seen.length,
          engine_id: seen.some((s) => s.id === s.engine),
        };
      }
    }
    return {
      stage: Number(this.opts.stage),
      transports: this.opts.transports,
      client: `socket.io-client ${CLIENT_VERSION}`,
      steps: steps.map((s, i) => `${i + 1}. ${describe(s)}`),
      people,
      ids,
      problems: this.problems,
    };
  }

  close() {
    for (const person of this.people.values()) {
      for (const socket of person.sockets.values()) socket.disconnect();
      person.manager._close();
    }
  }
}

async function main() {
  const opts = parse(process.argv.slice(2));
  if (!opts) {
    console.error(USAGE);
    process.exit(2);
  }
  const steps = [...SCRIPTS[opts.stage]];
  if (opts.parentEmit) steps.push(PARENT_EMIT);
  const play = new Play(opts);
  await play.run(steps);
  console.log(JSON.stringify(play.report(steps)));
  play.close();
  process.exit(play.problems.length === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(`lesson8-client: ${error.stack || error}`);
  process.exit(1);
});
