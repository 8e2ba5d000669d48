// SPDX-License-Identifier: MIT
// Calendar schedules against croner 11: every expression x zone x start below, the next runs by
// croner and by mockit (mockit_cron_runs, one process for all cases), compared as the text
// mockit-run --next prints; then a sample through mockit-run --next itself, which must print the
// same. Exits 1 listing the mismatches.
//
//   node tests/cron/compare.cjs MOCKIT_CRON_RUNS MOCKIT_RUN
//
// croner is asked for Vixie cron's semantics, which mockit follows (packaging/doc/reference.md,
// "Calendar schedules"): `sloppyRanges` for `a/n`, and `domAndDow` when a day field is a
// wildcard with a step (`*/2`): Vixie combines the day fields with AND when either starts with
// `*`, croner only when either is exactly `*`.
"use strict";
const { spawnSync } = require("child_process");
const path = require("path");

let Cron;
try {
    ({ Cron } = require(path.join(__dirname, "node_modules", "croner")));
} catch (error) {
    console.error("compare.cjs: croner is not installed in tests/cron/node_modules: run scripts/setup");
    process.exit(1);
}

const [runsTool, mockitRun] = process.argv.slice(2);
if (!runsTool || !mockitRun) {
    console.error("usage: node compare.cjs MOCKIT_CRON_RUNS MOCKIT_RUN");
    process.exit(2);
}

// A Date as mockit-run --next prints it: ISO 8601 in `zone` with the offset in force.
const formatters = new Map();  // one per zone: making one costs more than using it many times
function format(date, zone) {
    if (!formatters.has(zone)) {
        formatters.set(zone, new Intl.DateTimeFormat("en-US", {
            timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
            hour: "2-digit", minute: "2-digit", second: "2-digit",
        }));
    }
    const parts = {};
    for (const { type, value } of formatters.get(zone).formatToParts(date)) parts[type] = value;
    const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute,
                          +parts.second);
    const offset = Math.round((wall - Math.floor(date.getTime() / 1000) * 1000) / 60000);
    const sign = offset < 0 ? "-" : "+";
    const magnitude = Math.abs(offset);
    const pad = (n) => String(n).padStart(2, "0");
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:` +
        `${parts.second}${sign}${pad(Math.floor(magnitude / 60))}:${pad(magnitude % 60)}`;
}

const expressions = [
    // fixed times
    "0 0 * * *", "30 2 * * *", "15 2 * * *", "45 1 * * *", "0 3 * * *", "59 23 * * *",
    "0 12 * * *", "30 1 * * *", "0 2 * * *", "50 2 * * *", "0 1-1 * * *",
    // steps, ranges, lists
    "*/15 * * * *", "*/30 * * * *", "*/7 * * * *", "5/20 * * * *", "0 */2 * * *",
    "0 0-23/3 * * *", "10-20/5 8-17 * * *", "0,30 1,2,3 * * *", "15,45 * * * *",
    "* 2 * * *", "0 1-3 * * *", "* * * * *",
    // names and days of the week
    "0 9 * * MON-FRI", "0 18 * * sat,sun", "30 6 * JAN,jul *", "0 0 1 FEB-APR *",
    "0 8 * * 7", "0 8 * * 5-7", "0 0 * * 1/2", "0 4 * * SUN",
    // day-of-month and day-of-week together (Vixie: either, unless one starts with *)
    "0 0 13 * FRI", "0 12 1,15 * MON", "0 6 */2 * MON", "0 6 1 * */3", "0 0 ? * MON",
    "0 0 1-7 * SUN",
    // months' ends, leap days, never
    "0 0 31 * *", "0 12 30,31 * *", "0 0 29 2 *", "0 0 30 2 *", "0 0 28-31 * *",
    // nicknames
    "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
    // seconds
    "30 * * * * *", "*/20 0 * * * *", "0 30 2 * * *", "15 45 1 * * *", "0,30 */30 * * * *",
    "5 0 0 1 1 *",
];

// Each zone with the start times around its own DST changes in 2026 (UTC instants; some in the
// first or second pass through a repeated hour, some just before a gap), after ordinary ones
// for every zone: a new year, a leap year's February, a start with milliseconds. croner takes
// about a millisecond a run in a zone, so the sweep stays at the days that matter.
const ordinary = [
    "2025-01-01T00:00:00Z", "2028-02-28T12:00:00Z", "2031-12-31T23:59:59Z",
    "2026-06-15T10:20:30.250Z",
];
const zones = {
    "UTC": [],
    // 2026-03-29 01:00Z: 02:00 CET -> 03:00 CEST; 2026-10-25 01:00Z: 03:00 CEST -> 02:00 CET
    "Europe/Berlin": [
        "2026-03-28T23:59:59.500Z", "2026-03-29T00:30:00Z", "2026-10-25T00:00:00Z",
        "2026-10-25T00:40:00Z", "2026-10-25T01:10:00Z", "2027-03-28T00:59:59Z",
    ],
    // 2026-03-08 07:00Z: 02:00 EST -> 03:00 EDT; 2026-11-01 06:00Z: 02:00 EDT -> 01:00 EST
    "America/New_York": [
        "2026-03-08T04:00:00Z", "2026-03-08T06:30:00Z", "2026-11-01T04:00:00Z",
        "2026-11-01T05:30:00Z", "2026-11-01T06:10:00Z",
    ],
    // half an hour: 2026-04-04 15:00Z: 02:00 +11 -> 01:30 +10:30; 2026-10-03 15:30Z: 02:00
    // +10:30 -> 02:30 +11
    "Australia/Lord_Howe": [
        "2026-04-04T13:50:00Z", "2026-04-04T14:45:00Z", "2026-04-04T15:10:00Z",
        "2026-10-03T13:00:00Z", "2026-10-03T15:00:00Z",
    ],
    "Asia/Kolkata": ["2026-03-29T00:30:00Z"],
    // 2026-04-04 14:00Z: 03:45 +13:45 -> 02:45 +12:45; 2026-09-26 14:00Z: 02:45 +12:45 ->
    // 03:45 +13:45
    "Pacific/Chatham": [
        "2026-04-04T12:00:00Z", "2026-04-04T13:50:00Z", "2026-04-04T14:10:00Z",
        "2026-09-26T12:00:00Z", "2026-09-26T13:50:00Z",
    ],
};

// Past 2037, the last change Debian's zone files list, the rule at each file's end takes over
// (libmockit/src/posix_tz.hpp): each zone's changes in 2045, found here through Intl, give
// start times just before and just after them.
function offsetMinutes(ms, zone) {
    const text = format(new Date(ms), zone);
    const sign = text[19] === "-" ? -1 : 1;
    return sign * (+text.slice(20, 22) * 60 + +text.slice(23, 25));
}
function changes(zone, year) {
    const found = [];
    const day = 86400000;
    for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += day) {
        if (offsetMinutes(t, zone) === offsetMinutes(t + day, zone)) continue;
        let lo = t, hi = t + day;  // the offset changes in (lo, hi]
        while (hi - lo > 60000) {
            const mid = lo + Math.floor((hi - lo) / 120000) * 60000;
            if (offsetMinutes(mid, zone) === offsetMinutes(lo, zone)) lo = mid; else hi = mid;
        }
        found.push(hi);
    }
    return found;
}
for (const zone of Object.keys(zones)) {
    for (const change of changes(zone, 2045)) {
        zones[zone].push(new Date(change - 40 * 60000).toISOString(),
                         new Date(change + 10 * 60000).toISOString());
    }
}
ordinary.push("2050-06-15T10:00:00Z");

const count = 5;

// Vixie cron's day rule in croner's terms (see the top).
function cronerOptions(expr, zone) {
    const fields = expr.trim().split(/\s+/);
    const days = fields.length === 6 ? fields.slice(3, 6) : fields.slice(2, 5);
    const stepped = (f) => f !== undefined && /^[*?]./.test(f);
    return {
        timezone: zone, paused: true, sloppyRanges: true,
        domAndDow: stepped(days[0]) || stepped(days[2]),
    };
}

function cronerRuns(expr, zone, start) {
    try {
        const job = new Cron(expr, cronerOptions(expr, zone));
        return job.nextRuns(count, new Date(start)).map((d) => format(d, zone)).join(" ");
    } catch (error) {
        return "error: " + error.message;
    }
}

const cases = [];
for (const expr of expressions) {
    for (const [zone, own] of Object.entries(zones)) {
        for (const start of [...ordinary, ...own]) {
            cases.push({ expr, zone, start, ms: Date.parse(start) });
        }
    }
}

const input = cases.map((c) => `${c.expr}\t${c.zone}\t${c.ms}\t${count}\n`).join("");
const mockit = spawnSync(runsTool, [], { input, encoding: "utf8", maxBuffer: 1 << 28 });
if (mockit.status !== 0) {
    console.error(`compare.cjs: ${runsTool} failed (${mockit.status}): ${mockit.stderr}`);
    process.exit(1);
}
const mockitLines = mockit.stdout.split("\n");

let mismatches = 0;
cases.forEach((c, i) => {
    c.expected = cronerRuns(c.expr, c.zone, c.start);
    c.got = mockitLines[i];
    if (c.got !== c.expected) {
        if (++mismatches <= 40) {
            console.log(`MISMATCH '${c.expr}' ${c.zone} from ${c.start}\n` +
                        `  croner: ${c.expected}\n  mockit: ${c.got}`);
        }
    }
});

// What croner rejects, mockit rejects too (each with its own words).
const invalid = [
    "61 * * * *", "*/0 * * * *", "0 0 * * FOO", "* * *", "*/90 * * * *", "5-2 * * * *",
    "0 0 32 * *", "0 0 * 13 *", "0 0 * * 8", "0 24 * * *", "0 0 0 * *", "@reboot", "1,,2 * * * *",
];
const rejected = spawnSync(runsTool, [], {
    input: invalid.map((e) => `${e}\tUTC\t0\t1\n`).join(""), encoding: "utf8",
}).stdout.split("\n");
invalid.forEach((expr, i) => {
    const croner = cronerRuns(expr, "UTC", 0);
    if (!croner.startsWith("error:") || !(rejected[i] || "").startsWith("error:")) {
        ++mismatches;
        console.log(`INVALID '${expr}' not rejected by both\n  croner: ${croner}\n  mockit: ${rejected[i]}`);
    }
});

// The command line prints what the library computes: a sample of the cases through
// mockit-run --next --virtual-time=START, one process each.
let cliMismatches = 0;
const sample = cases.filter((_, i) => i % 53 === 0);
for (const c of sample) {
    const cli = spawnSync(mockitRun, ["--next", c.expr, "--tz", c.zone, `--virtual-time=${c.ms}`,
                                      "--count", String(count)], { encoding: "utf8" });
    const got = cli.stdout.trim().split("\n").join(" ");
    if (cli.status !== 0 || got !== c.expected) {
        ++cliMismatches;
        console.log(`CLI MISMATCH '${c.expr}' ${c.zone} from ${c.start} (exit ${cli.status})\n` +
                    `  croner:     ${c.expected}\n  mockit-run: ${got}\n${cli.stderr}`);
    }
}

console.log(`${cases.length} cases (${expressions.length} expressions x ` +
            `${Object.keys(zones).length} zones x their start times, ${count} runs each): ` +
            `${mismatches} mismatches (with ${invalid.length} invalid expressions both reject); ` +
            `${sample.length} through mockit-run --next: ${cliMismatches} mismatches`);
process.exit(mismatches === 0 && cliMismatches === 0 ? 0 : 1);
