// The page comes from http://localhost:5173 (a dev server); Socket.IO is on http://localhost:3000.
// Fails: no `cors` option, so no answer names the page's origin and the browser hides them all.
const io = new Server(server);
// Fixes it: name the page's origin, exactly (scheme, host and port, no trailing slash).
//   const io = new Server(server, { cors: { origin: 'http://localhost:5173' } });

io.on('connection', (socket) => {
  socket.emit('welcome', 'hello');
});

// In the page at http://localhost:5173:
//   const socket = io('http://localhost:3000');
//   socket.on('connect_error', (err) => console.log(err.message, err.description));
//   // "xhr poll error" 0   (and the browser's console names CORS)
