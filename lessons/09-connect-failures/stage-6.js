// The server pings every 300 ms and waits 200 ms for each pong (taught small: the defaults are
// pingInterval 25000 and pingTimeout 20000, so the same failure takes 45 seconds).
const io = new Server(server, { pingInterval: 300, pingTimeout: 200 });
io.on('connection', (socket) => {
  socket.on('disconnect', (reason) => {
    console.log(reason); // "ping timeout", about 500 ms after the last ping was answered
  });
});

// The client's side. socket.io-client answers each ping by itself; it stops when the page is
// frozen, the laptop sleeps, or the network between them is gone:
//   socket.on('disconnect', (reason) => console.log(reason));
//   // "transport close" if the server's close still reaches it,
//   // "ping timeout" if nothing reaches it any more
// Fixes it: nothing in the configuration; keep the client's event loop free and let it reconnect
// (it does by itself). Raise pingTimeout only for clients on slow, lossy networks.
