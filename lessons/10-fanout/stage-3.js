io.emit('tick', n);           // queued: a slow reader gets every tick, late
io.volatile.emit('flash', n); // dropped while the reader's connection is busy
