// SPDX-License-Identifier: MIT
// Workload "destroy" for Node.js: the counterpart of destroy.lua; destroying is clearInterval().
// Usage: node destroy.js INTERVAL_MS TRIALS
'use strict';
const lib = require('./lib.js');
const [interval, trials] = lib.args([2000, 200]);

const phases = ['armed', 'mid', 'due-1ms', 'queued', 'own-callback', 'after-fire'];
const samples = Object.fromEntries(phases.map((p) => [p, []]));
let lateCalls = 0;

const timedDestroy = (phase, target) => {
    const t1 = lib.hrtime();
    clearInterval(target.timer);
    const t2 = lib.hrtime();
    target.destroyed = true;
    samples[phase].push(Number(t2 - t1));
};

const onTick = (target) => {
    if (target.destroyed) {
        lateCalls += 1;
        return;
    }
    if (target.phase === 'own-callback') timedDestroy('own-callback', target);
};

const setup = () => {
    for (const phase of phases) {
        const target = { phase };
        if (phase === 'queued') setTimeout(() => timedDestroy(phase, target), interval);
        target.timer = setInterval(onTick, interval, target);
        if (phase === 'armed') timedDestroy(phase, target);
        else if (phase === 'mid') setTimeout(() => timedDestroy(phase, target), Math.floor(interval / 2));
        else if (phase === 'due-1ms') setTimeout(() => timedDestroy(phase, target), interval - 1);
        else if (phase === 'after-fire') {
            setTimeout(() => timedDestroy(phase, target), interval + Math.floor(interval / 2));
        }
    }
};

for (let j = 1; j <= trials; j++) setTimeout(setup, j);

process.on('beforeExit', () => {
    const out = {};
    const errors = [];
    for (const p of phases) {
        out[p] = lib.summary(samples[p]);
        if (samples[p].length !== trials) errors.push(`${p}: ${samples[p].length} of ${trials} destroys ran`);
    }
    if (lateCalls > 0) errors.push(`${lateCalls} callbacks ran after destroy`);
    lib.emit({
        workload: 'destroy',
        interval_ms: interval,
        trials,
        destroy: out,
        late_calls: lateCalls,
        ok: errors.length === 0,
        errors,
    });
});
