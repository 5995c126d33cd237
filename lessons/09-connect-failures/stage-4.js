// The server needs nothing special: the problem is in front of it.
const io = new Server(server);
io.engine.on('connection_error', (err) => {
  console.log(err.code, err.message, err.context.name); // 3 Bad request TRANSPORT_MISMATCH
});
io.on('connection', (socket) => {
  console.log('connected over', socket.conn.transport.name); // polling
  socket.conn.on('upgrade', (transport) => {
    console.log('upgraded to', transport.name); // never printed behind this proxy
  });
});

// Fails: an nginx location that proxies without the upgrade headers
//   location /socket.io/ {
//     proxy_pass http://localhost:3000;
//   }
// Fixes it: HTTP/1.1 to the server, and the two hop-by-hop headers passed on
//   location /socket.io/ {
//     proxy_pass http://localhost:3000;
//     proxy_http_version 1.1;
//     proxy_set_header Upgrade $http_upgrade;
//     proxy_set_header Connection "upgrade";
//   }
