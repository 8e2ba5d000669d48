// SPDX-License-Identifier: MIT
// Workload "virtual" for Node.js with @sinonjs/fake-timers: the counterpart of virtual.lua, on the
// same schedules. The interval runs through clock.tick() in both modes, as nothing else ends it;
// the one-offs run through clock.runAll() in mode "run" (to the end, as mockit.run()) and through
// clock.tick() over a day in mode "advance" (as mockit.clock.advance()). Like virtual.lua it
// prints {"mark":"start"} before the simulated run, so the driver times both peers alike;
// script_wall_ms, from process.hrtime, is the same span timed from inside.
// Usage: node virtual.js interval|oneoffs SIZE run|advance
'use strict';
const FakeTimers = require('@sinonjs/fake-timers');
const lib = require('./lib.js');

const schedule = process.argv[2] || 'interval';
const mode = process.argv[4] || 'run';
const dayMs = 86400 * 1000;
const errors = [];
let ran = 0;
let delaySum = null;
let clock;
let t0;
let c0;

if (schedule === 'interval') {
    const runs = Number(process.argv[3] || 2592000);
    clock = FakeTimers.createClock(0);
    lib.emit({ mark: 'start' });
    c0 = process.cpuUsage();
    t0 = lib.hrtime();
    clock.setInterval(() => {
        ran += 1;
    }, 1000);
    clock.tick(runs * 1000);
    if (ran !== runs) errors.push(`ran ${ran} callbacks, expected ${runs}`);
    if (clock.now !== runs * 1000) {
        errors.push(`simulated time ended at ${clock.now} ms, not ${runs * 1000}`);
    }
} else {
    const n = Number(process.argv[3] || 100000);
    // The LCG of Numerical Recipes, seeded as in virtual.lua; every product stays below 2^53, so
    // doubles compute it exactly.
    const delays = new Array(n + 1);
    let x = 17;
    delaySum = 0;
    for (let i = 1; i <= n; i++) {
        x = (1664525 * x + 1013904223) % 4294967296;
        delays[i] = 1 + (x % dayMs);
        delaySum += delays[i];
    }
    const marked = new Uint8Array(n + 1);
    let dups = 0;
    let offTime = 0;
    const fired = (i) => {
        if (marked[i]) {
            dups += 1;
            return;
        }
        marked[i] = 1;
        ran += 1;
        if (clock.now !== delays[i]) offTime += 1;
    };
    // runAll() stops after loopLimit timers, taking more for an endless loop of timers.
    clock = FakeTimers.createClock(0, n + 1);
    lib.emit({ mark: 'start' });
    c0 = process.cpuUsage();
    t0 = lib.hrtime();
    for (let i = 1; i <= n; i++) clock.setTimeout(fired, delays[i], i);
    if (mode === 'run') clock.runAll();
    else clock.tick(dayMs);
    if (dups > 0) errors.push(`${dups} callbacks ran more than once`);
    if (ran !== n) errors.push(`${n - ran} one-offs never ran`);
    if (offTime > 0) errors.push(`${offTime} one-offs ran off their due time`);
}

const wallNs = lib.hrtime() - t0;
const cpu = process.cpuUsage(c0);
lib.emit({
    workload: 'virtual',
    schedule,
    mode,
    ran,
    cpu_ms: (cpu.user + cpu.system) / 1000,
    script_wall_ms: Number(wallNs) / 1e6,
    simulated_ms: clock.now,
    delay_sum: delaySum,
    peak_rss_kb: lib.statusKb('VmHWM'),
    ok: errors.length === 0,
    errors,
});
