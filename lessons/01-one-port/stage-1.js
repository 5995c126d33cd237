const express = require('express');

const app = express();

app.get('/', (req, res) => {
  res.sendFile(__dirname + '/index.html');
});

// No listen() yet: the app decides answers, but no port is open.
