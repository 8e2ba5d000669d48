// SPDX-License-Identifier: MIT
// Workload "scale" for Node.js: the counterpart of scale.lua.
// Usage: node scale.js N SPREAD_MS
'use strict';
const lib = require('./lib.js');
const [n, spread] = lib.args([1000000, 2000]);

const ran = new Uint8Array(n + 1);
let done = 0;
let dups = 0;
let tDone = null;
const fired = (i) => {
    if (ran[i]) {
        dups += 1;
        return;
    }
    ran[i] = 1;
    done += 1;
    if (done === n) tDone = lib.hrtime();
};

const t0 = lib.hrtime();
for (let i = 1; i <= n; i++) setTimeout(fired, 1 + ((i * 7919) % spread), i);
const tArmed = lib.hrtime();

process.on('beforeExit', () => {
    const errors = [];
    if (dups > 0) errors.push(`${dups} callbacks ran more than once`);
    if (done !== n) errors.push(`${n - done} one-offs never ran`);
    lib.emit({
        workload: 'scale',
        n,
        spread_ms: spread,
        arm_ms: Number(tArmed - t0) / 1e6,
        done_ms: tDone !== null ? Number(tDone - t0) / 1e6 : null,
        ran: done,
        duplicates: dups,
        peak_rss_kb: lib.statusKb('VmHWM'),
        ok: errors.length === 0,
        errors,
    });
});
