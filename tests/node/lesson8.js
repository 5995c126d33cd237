// Lesson 8's servers (namespaces and middleware), written with the real Express and socket.io
// 4.8.4, for the conformance tests and `check 8`.
//
//   node tests/node/lesson8.js --stage <1-5> [--wrong <mistake>] [--port <port>]
//
// Starts one server on 127.0.0.1 (port 0, the default, lets the system pick a free one) and
// prints the port it got as the first line of stdout, as server.js does. Each stage is
// `lessons/08-namespaces/stage-K.js` completed into a runnable program:
// express() -> createServer(app) -> new Server(server).
//
// `--wrong` needs `--stage 3` (the stage `check 8` plays) and makes one mistake a learner can
// make; the check must name it:
//
// - `io-emit`:    'announce' goes out with io.emit, to the sockets of "/", not of "/admin";
// - `no-next`:    the /admin middleware never calls next(), so no CONNECT to /admin is answered;
// - `no-admin`:   no /admin namespace is set up, so Node answers "Invalid namespace". The
//                 'announce' handler still calls io.of('/admin'), and io.of creates a namespace
//                 when it does not exist yet: from the first announce on, /admin exists, with
//                 no middleware. Play this variant once per process.
// - `refuse-all`: the middleware refuses everyone, the right token too.
// - `no-guard`:   /admin has its connection handler but no middleware: everyone gets in.
//
// Stage 5 has one handler beyond stage-5.js, 'all teams', which runs `teams.emit(...)` on the
// parent namespace: Node sends it to every child namespace the regex has created.
// socketioxide's dyn_ns has no parent namespace to emit through, so the tutor cannot run it;
// the conformance test shows what Node does.

const express = require('express');
const { createServer } = require('node:http');
const { Server } = require('socket.io');

const HOST = '127.0.0.1';

// lessons/08-namespaces/stage-1.js: io.of('/admin').emit reaches the sockets of /admin only.
function announce(io, socket) {
  socket.on('announce', (msg) => {
    io.of('/admin').emit('announcement', msg);
  });
}

// The /admin middleware of stage 3, and its wrong variants.
function guard(mistake) {
  if (mistake === 'no-next') {
    return (socket, next) => {
      // Checks nothing, and forgets to call next(): the CONNECT waits forever.
    };
  }
  if (mistake === 'refuse-all') {
    return (socket, next) => {
      const err = new Error('not authorized');
      err.data = { hint: 'send auth.token' };
      next(err);
    };
  }
  return (socket, next) => {
    if (socket.handshake.auth.token === 'letmein') {
      next();
    } else {
      const err = new Error('not authorized');
      err.data = { hint: 'send auth.token' };
      next(err);
    }
  };
}

const stages = {
  1: (io) => {
    io.on('connection', (socket) => {
      announce(io, socket);
    });
    io.of('/admin').on('connection', (socket) => {
      console.log('an admin connected');
    });
  },

  // stage-2.js: io.emit is io.of('/').emit, so it stays in "/".
  2: (io) => {
    io.on('connection', (socket) => {
      announce(io, socket);
      socket.on('chat message', (msg) => {
        io.emit('chat message', msg);
      });
    });
    io.of('/admin').on('connection', (socket) => {
      console.log('an admin connected');
    });
  },

  // stage-3.js: a middleware guards /admin.
  3: (io, mistake) => {
    io.on('connection', (socket) => {
      if (mistake === 'io-emit') {
        socket.on('announce', (msg) => {
          io.emit('announcement', msg);
        });
      } else {
        announce(io, socket);
      }
    });
    if (mistake === 'no-admin') {
      return;
    }
    const admin = io.of('/admin');
    if (mistake !== 'no-guard') {
      admin.use(guard(mistake));
    }
    admin.on('connection', (socket) => {
      socket.emit('welcome', 'admin');
    });
  },

  // stage-4.js: a middleware on "/" fills socket.data.
  4: (io) => {
    io.use((socket, next) => {
      const name = socket.handshake.auth.name;
      if (!name) {
        return next(new Error('name required'));
      }
      socket.data.name = name;
      next();
    });
    io.on('connection', (socket) => {
      socket.on('chat message', (msg) => {
        io.emit('chat message', `${socket.data.name}: ${msg}`);
      });
    });
  },

  // stage-5.js: dynamic namespaces from a regex.
  5: (io) => {
    const teams = io.of(/^\/team-\w+$/);
    teams.on('connection', (socket) => {
      socket.on('chat message', (msg) => {
        socket.nsp.emit('chat message', msg);
      });
      // Node only: the parent namespace emits to every child namespace.
      socket.on('all teams', (msg) => {
        teams.emit('chat message', msg);
      });
    });
  },
};

const MISTAKES = ['io-emit', 'no-next', 'no-admin', 'refuse-all', 'no-guard'];
const USAGE =
  'usage: node lesson8.js --stage <1-5> [--wrong <mistake>] [--port <port>]; ' +
  `mistakes (stage 3 only): ${MISTAKES.join(', ')}`;

function parse(argv) {
  const opts = { stage: null, wrong: null, port: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) return null;
    if (flag === '--stage') opts.stage = value;
    else if (flag === '--wrong') opts.wrong = value;
    else if (flag === '--port') opts.port = Number(value);
    else return null;
  }
  const portOk = Number.isInteger(opts.port) && opts.port >= 0 && opts.port <= 65535;
  const wrongOk = opts.wrong === null || (opts.stage === '3' && MISTAKES.includes(opts.wrong));
  if (!stages[opts.stage] || !portOk || !wrongOk) return null;
  return opts;
}

const opts = parse(process.argv.slice(2));
if (!opts) {
  console.error(USAGE);
  process.exit(2);
}

const app = express();
const server = createServer(app);
const io = new Server(server);
app.get('/', (req, res) => {
  res.sendFile(__dirname + '/index.html');
});
stages[opts.stage](io, opts.wrong);

server.listen(opts.port, HOST, () => {
  console.log(server.address().port);
});
server.on('error', (error) => {
  console.error(`cannot listen on ${HOST}:${opts.port}: ${error.message}`);
  process.exit(1);
});
