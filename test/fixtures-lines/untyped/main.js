'use strict';
// Keeps what lib.js allocates alive until the exit snapshot.
globalThis.kept = require('./lib.js').make(Number(process.argv[2]));
