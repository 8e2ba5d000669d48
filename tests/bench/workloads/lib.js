// SPDX-License-Identifier: MIT
// Helpers shared by the Node.js workloads; the counterpart of lib.lua, with the same definitions.
'use strict';
const fs = require('fs');

exports.args = (defaults) =>
    defaults.map((d, i) => (process.argv[2 + i] !== undefined ? Number(process.argv[2 + i]) : d));

exports.hrtime = () => process.hrtime.bigint();

exports.statusKb = (field) => {
    const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(field + ':\\s*(\\d+)'));
    return m ? Number(m[1]) : null;
};

// Nearest-rank percentile of an ascending array.
const rank = (sorted, p) => {
    if (sorted.length === 0) return null;
    return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1];
};

// Summary of nanosecond durations (Numbers or BigInts), in microseconds.
exports.summary = (nsList) => {
    const us = nsList.map((v) => Number(v) / 1000);
    const sorted = us.slice().sort((a, b) => a - b);
    return {
        n: us.length,
        min: sorted.length ? sorted[0] : null,
        p50: rank(sorted, 0.5),
        p99: rank(sorted, 0.99),
        max: sorted.length ? sorted[sorted.length - 1] : null,
        samples: us.map((v) => Math.round(v * 10000) / 10000),
    };
};

exports.emit = (result) => {
    fs.writeSync(1, JSON.stringify(result) + '\n');
};
