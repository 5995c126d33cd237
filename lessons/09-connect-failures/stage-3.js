// The page still loads socket.io-client 2.x, which speaks Engine.IO 3 (EIO=3 in every URL):
//   <script src="https://cdn.example/socket.io-client@2/socket.io.js"></script>
//   const socket = io();  // connect_error: "xhr poll error", err.description 400

// Fails: socket.io 4 speaks Engine.IO 4 and refuses version 3 with error 5.
const io = new Server(server);
io.engine.on('connection_error', (err) => {
  console.log(err.code, err.message); // 5 Unsupported protocol version
});

// Fixes it, while old clients remain: accept Engine.IO 3 as well.
//   const io = new Server(server, { allowEIO3: true });
// Or, better, load socket.io-client 4 in the page.

io.on('connection', (socket) => {
  socket.emit('welcome', 'hello');
});
