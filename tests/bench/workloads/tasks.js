// SPDX-License-Identifier: MIT
// Workload "tasks" for Node.js: the counterpart of tasks.lua, an async function per task that
// awaits setTimeout from timers/promises.
// Usage: node tasks.js N SPREAD_MS
'use strict';
const { setTimeout: sleep } = require('timers/promises');
const lib = require('./lib.js');
const [n, spread] = lib.args([1000000, 2000]);

const ran = new Uint8Array(n + 1);
let done = 0;
let dups = 0;
let tDone = null;
async function task(i, ms) {
    await sleep(ms);
    if (ran[i]) {
        dups += 1;
        return;
    }
    ran[i] = 1;
    done += 1;
    if (done === n) tDone = lib.hrtime();
}

const t0 = lib.hrtime();
for (let i = 1; i <= n; i++) task(i, 1 + ((i * 7919) % spread));
const tArmed = lib.hrtime();

process.on('beforeExit', () => {
    const errors = [];
    if (dups > 0) errors.push(`${dups} tasks finished more than once`);
    if (done !== n) errors.push(`${n - done} tasks never finished`);
    lib.emit({
        workload: 'tasks',
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
