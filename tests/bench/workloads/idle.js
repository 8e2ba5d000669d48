// SPDX-License-Identifier: MIT
// Workload "idle" for Node.js: the counterpart of idle.lua.
// Usage: node idle.js
'use strict';
const lib = require('./lib.js');

setTimeout(() => {}, 3600 * 1000);
lib.emit({ workload: 'idle', ready: true, ok: true, errors: [] });
