// The lessons' servers, written with the real Express and socket.io, for the test suite.
//
//   node tests/node/server.js <variant> <port>
//
// Starts one server on 127.0.0.1 (port 0 lets the system pick a free one) and prints the port it
// got as the first line of stdout. The Rust tests read that line, play a lesson against the server
// (`realtime-tutor check`, and the conformance test that compares traces), then kill the process.
//
// Each correct variant is the lesson's `lessons/NN-slug/stage-K.js`, completed into a runnable
// program the way lesson 1 builds one: express() -> createServer(app) -> new Server(server).
// The wrong variants each make one mistake a learner can make; `check` must name it.

const fs = require('node:fs');
const path = require('node:path');
const express = require('express');
const { createServer } = require('node:http');
const { Server } = require('socket.io');

const HOST = '127.0.0.1';

function page(req, res) {
  res.sendFile(__dirname + '/index.html');
}

const variants = {
  // lessons/01-one-port/stage-3.js
  '1.3': () => {
    const app = express();
    const server = createServer(app);
    const io = new Server(server);
    app.get('/', page);
    io.on('connection', (socket) => {
      console.log('a user connected');
    });
    return server;
  },

  // lessons/02-emit-vs-broadcast/stage-1.js
  '2.1': () => {
    const app = express();
    const server = createServer(app);
    const io = new Server(server);
    app.get('/', page);
    io.on('connection', (socket) => {
      io.emit('hello', 'world');
    });
    return server;
  },

  // lessons/02-emit-vs-broadcast/stage-2.js
  '2.2': () => {
    const app = express();
    const server = createServer(app);
    const io = new Server(server);
    app.get('/', page);
    io.on('connection', (socket) => {
      socket.broadcast.emit('hi');
    });
    return server;
  },

  // lessons/03-chat/stage-1.js
  '3.1': () => {
    const app = express();
    const server = createServer(app);
    const io = new Server(server);
    app.get('/', page);
    io.on('connection', (socket) => {
      socket.on('chat message', (msg) => {
        io.emit('chat message', msg);
      });
    });
    return server;
  },

  // lessons/03-chat/stage-2.js (also the wrong answer to lesson 3's exercise)
  '3.2': () => {
    const app = express();
    const server = createServer(app);
    const io = new Server(server);
    app.get('/', page);
    io.on('connection', (socket) => {
      socket.on('chat message', (msg) => {
        socket.broadcast.emit('chat message', msg);
      });
    });
    return server;
  },

  // The complete server of the source material: lessons 2 and 3 at once. It passes both checks,
  // because each check judges only its own lesson's event.
  complete: () => {
    const app = express();
    const server = createServer(app);
    const io = new Server(server);
    app.get('/', page);
    io.on('connection', (socket) => {
      socket.broadcast.emit('hi');
      socket.on('chat message', (msg) => {
        io.emit('chat message', msg);
      });
    });
    return server;
  },

  // Wrong for lesson 2: io.emit where the lesson asks for socket.broadcast.emit, so the
  // newcomer hears the 'hi' their own connection triggered.
  'io-emit-hi': () => {
    const app = express();
    const server = createServer(app);
    const io = new Server(server);
    app.get('/', page);
    io.on('connection', (socket) => {
      io.emit('hi');
    });
    return server;
  },

  // Wrong for lesson 1: Socket.IO is attached to `server`, but app.listen() starts a second HTTP
  // server (without Socket.IO) and only that one listens.
  'app-listen': () => {
    const app = express();
    const server = createServer(app);
    const io = new Server(server);
    app.get('/', page);
    io.on('connection', (socket) => {
      console.log('a user connected');
    });
    return app;
  },

  // An HTTP server with no Socket.IO at all.
  'express-only': () => {
    const app = express();
    app.get('/', page);
    return app;
  },

  // The complete server with Socket.IO under a custom path: clients must be told the path.
  // Its page loads the client script from there, as a page for such a server must.
  'custom-path': () => {
    const app = express();
    const server = createServer(app);
    const io = new Server(server, { path: '/chat/' });
    app.get('/', (req, res) => {
      res.send('<!doctype html><title>custom path</title><script src="/chat/socket.io.js"></script>');
    });
    io.on('connection', (socket) => {
      socket.broadcast.emit('hi');
      socket.on('chat message', (msg) => {
        io.emit('chat message', msg);
      });
    });
    return server;
  },
};

// Lessons 4 and later: variant 'N.K' runs lessons/NN-slug/stage-K.js itself, unchanged, with
// `io` in scope, so the JavaScript a stage teaches and the JavaScript this fixture runs cannot
// drift apart.
const LESSONS = path.join(__dirname, '..', '..', 'lessons');

function fromLesson(variant) {
  const match = /^(\d+)\.(\d+)$/.exec(variant || '');
  if (!match || Number(match[1]) < 4) return undefined;
  const prefix = match[1].padStart(2, '0') + '-';
  const folder = fs.readdirSync(LESSONS).find((name) => name.startsWith(prefix));
  const file = folder && path.join(LESSONS, folder, `stage-${match[2]}.js`);
  if (!file || !fs.existsSync(file)) return undefined;
  const code = fs.readFileSync(file, 'utf8');
  if (Number(match[1]) === 6) {
    // Lesson 6's stages use `db` too: the tutorial's SQLite database (`sqlite` over `sqlite3`),
    // opened as delivery.js opens it, in a fresh file per process (argv[4], or memory).
    return async () => {
      const { openDb } = require('./delivery.js');
      const db = await openDb(process.argv[4] || ':memory:');
      return withIo((io) => new Function('io', 'db', code)(io, db));
    };
  }
  return () => withIo(new Function('io', code));
}

// express() -> createServer(app) -> new Server(server), then the handlers.
function withIo(handlers) {
  const app = express();
  const server = createServer(app);
  const io = new Server(server);
  app.get('/', page);
  handlers(io);
  return server;
}

// Wrong for lesson 4: the join handler forgets socket.join, so nobody is ever in a room.
variants['forgot-join'] = () =>
  withIo((io) => {
    io.on('connection', (socket) => {
      socket.on('join', (room) => {});
      socket.on('room message', (room, msg) => {
        socket.to(room).emit('room message', msg);
      });
    });
  });

// Wrong for lesson 5: the handler never calls the client's callback.
variants['ack-never-called'] = () =>
  withIo((io) => {
    io.on('connection', (socket) => {
      socket.on('question', (q, callback) => {});
    });
  });

// Wrong for lesson 5: the handler calls back with no value, `callback()`.
variants['ack-no-value'] = () =>
  withIo((io) => {
    io.on('connection', (socket) => {
      socket.on('question', (q, callback) => {
        callback();
      });
    });
  });

// Wrong for lesson 5: the handler emits an event back instead of calling the callback.
variants['ack-as-emit'] = () =>
  withIo((io) => {
    io.on('connection', (socket) => {
      socket.on('question', (q, callback) => {
        socket.emit('answer', { got: q });
      });
    });
  });

// Wrong for lesson 4: socket.broadcast.emit, which forgets the room, where the lesson asks for
// socket.to(room).emit.
variants['broadcast-no-room'] = () =>
  withIo((io) => {
    io.on('connection', (socket) => {
      socket.on('join', (room) => {
        socket.join(room);
      });
      socket.on('room message', (room, msg) => {
        socket.broadcast.emit('room message', msg);
      });
    });
  });

// Wrong for lesson 3: io.emit('chat message') forgets the message, so every delivery comes
// without arguments.
variants['chat-no-args'] = () =>
  withIo((io) => {
    io.on('connection', (socket) => {
      socket.on('chat message', (msg) => {
        io.emit('chat message');
      });
    });
  });

// The complete server with another parser: socket.io-msgpack-parser sends every packet as a
// binary MessagePack frame, which a client with the default JSON parser cannot read.
variants.msgpack = () => {
  const app = express();
  const server = createServer(app);
  const io = new Server(server, { parser: require('socket.io-msgpack-parser') });
  app.get('/', page);
  io.on('connection', (socket) => {
    socket.broadcast.emit('hi');
    socket.on('chat message', (msg) => {
      io.emit('chat message', msg);
    });
  });
  return server;
};

// The complete server on socket.io 2.x (Engine.IO 3, Socket.IO protocol 4), installed under the
// alias socket.io-v2: an older protocol, which socket.io-client 3 and 4 (and the tutor) do not
// speak.
variants.v2 = () => {
  const app = express();
  const server = createServer(app);
  const io = require('socket.io-v2')(server);
  app.get('/', page);
  io.on('connection', (socket) => {
    socket.broadcast.emit('hi');
    socket.on('chat message', (msg) => {
      io.emit('chat message', msg);
    });
  });
  return server;
};

const [variant, portText = '0'] = process.argv.slice(2);
const build = variants[variant] || fromLesson(variant);
const port = Number(portText);
if (!build || !Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`usage: node server.js <variant> <port>; variants: ${Object.keys(variants).join(', ')}`);
  process.exit(2);
}

// `server.listen(...)` for most variants, `app.listen(...)` for the app-listen mistake: both
// return the http.Server that owns the port.
Promise.resolve(build()).then((server) => {
  const listening = server.listen(port, HOST, () => {
    console.log(listening.address().port);
  });
  listening.on('error', (error) => {
    console.error(`cannot listen on ${HOST}:${port}: ${error.message}`);
    process.exit(1);
  });
}, (error) => {
  console.error(`cannot start ${variant}: ${error.message}`);
  process.exit(1);
});
