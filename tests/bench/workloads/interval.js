// SPDX-License-Identifier: MIT
// Workload "interval" for Node.js: the counterpart of interval.lua.
// Usage: node interval.js INTERVAL_MS DURATION_MS
'use strict';
const lib = require('./lib.js');
const [intervalMs, durationMs] = lib.args([1, 5000]);

const intervalNs = BigInt(intervalMs) * 1000000n;
const lateness = [];
let fires = 0;
const t0 = lib.hrtime();
const timer = setInterval(() => {
    const now = lib.hrtime();
    fires += 1;
    lateness.push(Number(now - (t0 + BigInt(fires) * intervalNs)));
}, intervalMs);
setTimeout(() => clearInterval(timer), durationMs);

process.on('beforeExit', () => {
    const expected = Math.floor(durationMs / intervalMs);
    lib.emit({
        workload: 'interval',
        interval_ms: intervalMs,
        duration_ms: durationMs,
        expected,
        fires,
        drift_us: fires > 0 ? (lateness[fires - 1] - lateness[0]) / 1000 : null,
        lateness: lib.summary(lateness),
        rss_kb: lib.statusKb('VmHWM'),
        ok: fires <= expected,
        errors: fires > expected ? ['more fires than the schedule allows'] : [],
    });
});
