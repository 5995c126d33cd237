// Server A and server B, joined through Redis as in stage 2. On the client side:
//   const socket = io();                                // polling first: needs sticky sessions
//   const socket = io({ transports: ['websocket'] });   // one connection: no sticky sessions needed
io.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    io.emit('chat message', msg);
  });
});
