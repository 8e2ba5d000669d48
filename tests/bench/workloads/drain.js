// SPDX-License-Identifier: MIT
// Workload "drain" for Node.js: the counterpart of drain.lua.
// Usage: node drain.js TOTAL BATCH DELAY_MS
'use strict';
const lib = require('./lib.js');
const [total, batch, delay] = lib.args([1000000, 10000, 1]);

let ran = 0;
let inBatch = 0;
let tEnd = null;
const fired = () => {
    ran += 1;
    inBatch += 1;
    if (inBatch === batch) {
        inBatch = 0;
        if (ran < total) armBatch();
        else tEnd = lib.hrtime();
    }
};
const armBatch = () => {
    for (let j = 0; j < batch; j++) setTimeout(fired, delay);
};

const t0 = lib.hrtime();
armBatch();

process.on('beforeExit', () => {
    const errors = [];
    if (ran !== total) errors.push(`ran ${ran} callbacks, expected ${total}`);
    const elapsedS = tEnd !== null ? Number(tEnd - t0) / 1e9 : null;
    lib.emit({
        workload: 'drain',
        total,
        batch,
        delay_ms: delay,
        ran,
        elapsed_ms: elapsedS !== null ? elapsedS * 1000 : null,
        callbacks_per_s: elapsedS !== null ? total / elapsedS : null,
        ok: errors.length === 0,
        errors,
    });
});
