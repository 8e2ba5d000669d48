// SPDX-License-Identifier: MIT
// Workload "oneoff" for Node.js: the counterpart of oneoff.lua.
// Usage: node oneoff.js COUNT
'use strict';
const lib = require('./lib.js');
const [count] = lib.args([200]);

const lateness = [];
const ran = new Array(count + 1).fill(0);
const errors = [];
const delayOf = (i) => 1 + (((i - 1) * 17) % 50);

const fired = (i, due) => {
    const now = lib.hrtime();
    ran[i] += 1;
    if (ran[i] > 1) {
        errors.push(`one-off ${i} ran twice`);
        return;
    }
    lateness.push(Number(now - due));
    if (i < count) arm(i + 1);
};
const arm = (i) => {
    const d = delayOf(i);
    setTimeout(fired, d, i, lib.hrtime() + BigInt(d) * 1000000n);
};
arm(1);

process.on('beforeExit', () => {
    for (let i = 1; i <= count; i++) {
        if (ran[i] !== 1) errors.push(`one-off ${i} ran ${ran[i]} times`);
    }
    lib.emit({
        workload: 'oneoff',
        count,
        ran: lateness.length,
        lateness: lib.summary(lateness),
        ok: errors.length === 0,
        errors,
    });
});
