// SPDX-License-Identifier: MIT
// Workload "dispatch" for Node.js: the counterpart of dispatch.lua.
// Usage: node dispatch.js N INTERVAL_MS DURATION_MS
'use strict';
const lib = require('./lib.js');
const [n, intervalMs, durationMs] = lib.args([10000, 1, 3000]);

const counts = new Array(n + 1).fill(0);
const timers = [];
const tick = (i) => {
    counts[i] += 1;
};

const t0 = lib.hrtime();
for (let i = 1; i <= n; i++) timers.push(setInterval(tick, intervalMs, i));
let tStop = null;
setTimeout(() => {
    tStop = lib.hrtime();
    for (const t of timers) clearInterval(t);
}, durationMs);

process.on('beforeExit', () => {
    let total = 0;
    let lo = Infinity;
    let hi = 0;
    for (let i = 1; i <= n; i++) {
        total += counts[i];
        lo = Math.min(lo, counts[i]);
        hi = Math.max(hi, counts[i]);
    }
    const elapsedMs = Number(tStop - t0) / 1e6;
    const ideal = durationMs / intervalMs;
    const errors = [];
    if (hi > Math.floor(elapsedMs / intervalMs) + 1) errors.push('a timer ran more often than its schedule');
    lib.emit({
        workload: 'dispatch',
        n,
        interval_ms: intervalMs,
        duration_ms: durationMs,
        elapsed_ms: elapsedMs,
        stop_late_ms: elapsedMs - durationMs,
        callbacks: total,
        callbacks_per_s: total / (elapsedMs / 1000),
        ideal_per_s: (n / intervalMs) * 1000,
        share_min: lo / ideal,
        share_max: hi / ideal,
        ok: errors.length === 0,
        errors,
    });
});
