// The delivery lesson's servers in Node.js, with the real socket.io and SQLite (`sqlite` over
// `sqlite3`, the packages the official tutorial uses), plus the mistakes `check 6` must name.
//
// Usage: node delivery.js VARIANT PORT DBFILE
// Prints the port it listens on (127.0.0.1) as its first line.
//
// Variants:
//   server-delivery  store each message, emit it with its row id (the server offset), and replay
//                    what a reconnecting client missed, from `socket.handshake.auth.serverOffset`
//   client-delivery  as server-delivery, and the client chooses a UNIQUE offset per message and
//                    gets an acknowledgement, so a retried message is stored once
//   forgets-offset   stores and replays, but emits the message without its server offset
//   replays-all      ignores the client's serverOffset and replays every row (duplicates)
//   stores-nothing   no database: io.emit only, nothing to replay
//
// `connectionStateRecovery` (an earlier chapter of the tutorial) stays off here: with it on,
// socket.io appends a recovery offset to every packet and may replay from memory instead of the
// database. socketioxide has no connection state recovery, so the lesson's traces compare the
// database replay alone.

const express = require('express');
const { createServer } = require('node:http');
const { Server } = require('socket.io');
const sqlite3 = require('sqlite3');
const { open } = require('sqlite');

const HOST = '127.0.0.1';
const SQLITE_CONSTRAINT = 19;

async function openDb(filename) {
  const db = await open({ filename, driver: sqlite3.Database });
  await db.exec(`
    CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        client_offset TEXT UNIQUE,
        content TEXT
    );
  `);
  return db;
}

// Sends `socket` every stored row after `offset`, in order, each with its id unless told not to.
async function replay(db, socket, offset, withOffset = true) {
  await db.each('SELECT id, content FROM messages WHERE id > ?', [offset], (_err, row) => {
    if (withOffset) {
      socket.emit('chat message', row.content, row.id);
    } else {
      socket.emit('chat message', row.content);
    }
  });
}

const variants = {
  'server-delivery': (io, db) => {
    io.on('connection', async (socket) => {
      socket.on('chat message', async (msg) => {
        let result;
        try {
          result = await db.run('INSERT INTO messages (content) VALUES (?)', msg);
        } catch (e) {
          return; // not stored: not sent either
        }
        io.emit('chat message', msg, result.lastID);
      });
      try {
        await replay(db, socket, socket.handshake.auth.serverOffset || 0);
      } catch (e) {
        // the replay failed; the client keeps its offset and gets it on the next reconnect
      }
    });
  },

  'client-delivery': (io, db) => {
    io.on('connection', async (socket) => {
      socket.on('chat message', async (msg, clientOffset, callback) => {
        let result;
        try {
          result = await db.run(
            'INSERT INTO messages (content, client_offset) VALUES (?, ?)',
            msg,
            clientOffset,
          );
        } catch (e) {
          if (e.errno === SQLITE_CONSTRAINT) {
            callback(); // stored before: a retry whose first ack was lost
          }
          return; // any other failure: no ack, so the client retries
        }
        io.emit('chat message', msg, result.lastID);
        callback();
      });
      try {
        await replay(db, socket, socket.handshake.auth.serverOffset || 0);
      } catch (e) {
        // as above
      }
    });
  },

  'forgets-offset': (io, db) => {
    io.on('connection', async (socket) => {
      socket.on('chat message', async (msg) => {
        await db.run('INSERT INTO messages (content) VALUES (?)', msg);
        io.emit('chat message', msg); // wrong: the client cannot tell what it has seen
      });
      await replay(db, socket, socket.handshake.auth.serverOffset || 0, false);
    });
  },

  'replays-all': (io, db) => {
    io.on('connection', async (socket) => {
      socket.on('chat message', async (msg) => {
        const result = await db.run('INSERT INTO messages (content) VALUES (?)', msg);
        io.emit('chat message', msg, result.lastID);
      });
      await replay(db, socket, 0); // wrong: ignores what the client has already seen
    });
  },

  'stores-nothing': (io) => {
    io.on('connection', (socket) => {
      socket.on('chat message', (msg) => {
        io.emit('chat message', msg);
      });
    });
  },
};

async function main() {
  const [variant, portText = '0', filename = ':memory:'] = process.argv.slice(2);
  const build = variants[variant];
  if (!build) {
    console.error(`unknown variant ${variant}; one of: ${Object.keys(variants).join(', ')}`);
    process.exit(2);
  }
  const db = variant === 'stores-nothing' ? null : await openDb(filename);
  const app = express();
  const server = createServer(app);
  const io = new Server(server);
  build(io, db);
  server.listen(Number(portText), HOST, () => {
    console.log(server.address().port);
  });
  server.on('error', (error) => {
    console.error(`cannot listen: ${error.message}`);
    process.exit(1);
  });
}

// server.js runs lesson 6's own stage files with this same database.
module.exports = { openDb };

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
