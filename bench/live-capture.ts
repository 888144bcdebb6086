// Benchmark (issue 3): the highest `tcpreplay` rate into a veth that a live capture takes with zero
// kernel drops and every packet received — our sensor (`--live afpacket`, the same with a fanout
// group of two processes, `--live pcap`) vs `tcpdump -w /dev/null` on the same veth — plus what
// each one loses when tcpreplay runs at top speed.
//
// Setup (root): two network namespaces joined by a veth pair, with no IP address at all and IPv6
// off, so the only frames on the link are the replayed ones (the receiving side's stack sends
// nothing the capture would count). tcpreplay sends from the sender namespace; the capture tools
// listen on the peer in the receiving namespace. Both namespaces (and the veth with them) are
// removed on exit, including after an error or Ctrl-C.
//
// Method: top speed first (also gives tcpreplay's ceiling on this machine), then a coarse ramp of
// --pps rates shared by all tools, then a bisection per tool between its highest passing and lowest
// failing rate. Within every round the tools take turns (the order rotates each round) so drift of
// this noisy 2-core box hits them alike. A trial passes when the tool reports 0 kernel drops AND
// processed/captured at least as many packets as tcpreplay sent (for a fanout hash group: less
// the IPv4 fragments the kernel reassembles before the group, counted from the capture). Rates
// reported are what tcpreplay measured it achieved (its "Rated:" line), not what was asked for.
// On a 2-core box tcpreplay, the kernel's veth path and the tool share the CPUs: a tool that
// passes at top speed has shown a lower bound only, and its CPU use lowers that top speed.
//
// Usage: node dist/bench/live-capture.js [--packets 200000] [--pcap FILE] [--loop 2]
//          [--tools afpacket,afpacket-fanout2,pcap,tcpdump,tcpdump-B128M] [--start-pps 100000] [--tolerance 0.1]
//          [--max-steps 4] [--budget-s 270] [--keep-output]
//   --loop N        tcpreplay --loop: each trial sends the capture N times (longer than the rings)
//   --tools         tcpdump-B128M is tcpdump -B 131072: the ring size of our afpacket default, for a
//                   like-for-like comparison; also pcap-snap1600, afpacket-smallring (see TOOLS)
//   --budget-s      stop starting new bisection trials after this many seconds (the ramp and the
//                   top-speed trials always run)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { arg, benchCapture, machineLine, ROOT } from './harness.js';

const PID = process.pid;
const NS_S = `dfly-bench-${PID}-s`; // sender (tcpreplay)
const NS_R = `dfly-bench-${PID}-r`; // receiver (capture tools)
const IF_S = `dbs${PID % 1e7}`; // interface names: at most 15 characters
const IF_R = `dbr${PID % 1e7}`;
const CLI = join(ROOT, 'dist', 'bin', 'damselfly.js');
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const T0 = Date.now();

// ----------------------------------------------------------------------------------------------
// processes (every child is tracked so that exit/cleanup can end exactly these, by pid)
// ----------------------------------------------------------------------------------------------

interface Proc {
  name: string;
  child: ChildProcess;
  stderr: string;
  stdout: string;
  exit: Promise<number | null>;
}

const live = new Set<Proc>();

function startProc(name: string, ns: string, argv: string[], stdoutFd?: number): Proc {
  // `ip netns exec` execs the command: the child's pid is the tool's own pid (for /proc and signals).
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'] });
  const p: Proc = { name, child, stderr: '', stdout: '', exit: Promise.resolve(null) };
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (p.stderr += d));
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (p.stdout += d));
  live.add(p);
  p.exit = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      live.delete(p);
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  return p;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(p: Proc, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (pattern.test(p.stderr)) return;
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${p.name} exited before it was ready:\n${p.stderr.slice(-2000)}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`${p.name}: not ready after ${timeoutMs} ms:\n${p.stderr.slice(-2000)}`);
    await sleep(20);
  }
}

async function stopProc(p: Proc, timeoutMs = 60_000): Promise<number | null> {
  p.child.kill('SIGINT');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exit;
  clearTimeout(timer);
  return code;
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || String(r.error)).trim()}`);
  return r.stdout;
}

// ----------------------------------------------------------------------------------------------
// namespaces + veth
// ----------------------------------------------------------------------------------------------

let netnsUp = false;
let scratch = '';

function cleanup(): void {
  for (const p of live) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  if (netnsUp) {
    // Deleting a namespace destroys the veth end inside it, and with it the pair.
    spawnSync('ip', ['netns', 'del', NS_S]);
    spawnSync('ip', ['netns', 'del', NS_R]);
    netnsUp = false;
  }
  if (scratch && !process.argv.includes('--keep-output')) rmSync(scratch, { recursive: true, force: true });
}

process.on('exit', cleanup);
/** Kills and reaps the children (no zombies left to init), removes the namespaces, exits. */
let shuttingDown = false;
function shutdown(code: number): void {
  if (shuttingDown) return;
  shuttingDown = true;
  const exits = [...live].map((p) => p.exit);
  for (const p of live) p.child.kill('SIGKILL');
  void Promise.race([Promise.all(exits), sleep(3000)]).then(() => {
    cleanup();
    process.exit(code);
  });
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: stopping the tools and removing the namespaces\n`);
    shutdown(130);
  });
}

function netnsSetup(mtu: number): void {
  netnsUp = true; // from here on, cleanup() deletes whatever part of the setup exists
  sh('ip', ['netns', 'add', NS_S]);
  sh('ip', ['netns', 'add', NS_R]);
  sh('ip', ['link', 'add', IF_S, 'type', 'veth', 'peer', 'name', IF_R]);
  sh('ip', ['link', 'set', IF_S, 'netns', NS_S]);
  sh('ip', ['link', 'set', IF_R, 'netns', NS_R]);
  for (const [ns, ifc] of [[NS_S, IF_S], [NS_R, IF_R]] as const) {
    // No addresses and no IPv6 (no router solicitation, MLD, DAD): nothing but the replay is seen.
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    sh('ip', ['-n', ns, 'link', 'set', ifc, 'mtu', String(mtu), 'up']);
  }
}

interface PcapScan {
  packets: number;
  /** Largest frame: the veth MTU must carry it. */
  maxFrame: number;
  /** IPv4 fragments minus the datagrams they reassemble into (incomplete or overlapping sets
   *  count whole): what the kernel's defragmentation before a PACKET_FANOUT_FLAG_DEFRAG group
   *  takes out of the packet count on every pass. */
  defragAbsorbed: number;
}

/** Reads the record headers (and the first bytes of each frame) of a classic pcap; undefined for
 *  anything else (pcapng): then the MTU is 9000 and no fragment correction is made. */
function scanPcap(pcap: string): PcapScan | undefined {
  const fd = openSync(pcap, 'r');
  try {
    const gh = Buffer.alloc(24);
    if (readSync(fd, gh, 0, 24, 0) < 24) return undefined;
    const magic = gh.readUInt32LE(0);
    const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
    if (!le && gh.readUInt32BE(0) !== 0xa1b2c3d4 && gh.readUInt32BE(0) !== 0xa1b23c4d) return undefined;
    const ethernet = (le ? gh.readUInt32LE(20) : gh.readUInt32BE(20)) === 1;
    const rec = Buffer.alloc(16 + 64);
    const frags = new Map<string, Array<[number, number, boolean]>>();
    let pos = 24;
    let packets = 0;
    let maxFrame = 0;
    let fragments = 0;
    for (;;) {
      const got = readSync(fd, rec, 0, rec.length, pos);
      if (got < 16) break;
      const incl = le ? rec.readUInt32LE(8) : rec.readUInt32BE(8);
      const orig = le ? rec.readUInt32LE(12) : rec.readUInt32BE(12);
      packets++;
      maxFrame = Math.max(maxFrame, incl, orig);
      pos += 16 + incl;
      if (!ethernet) continue;
      const d = rec.subarray(16, Math.min(got, 16 + incl));
      let off = 12;
      let et = d.length >= 14 ? d.readUInt16BE(12) : 0;
      while ((et === 0x8100 || et === 0x88a8) && d.length >= off + 6) {
        et = d.readUInt16BE(off + 4);
        off += 4;
      }
      off += 2;
      if (et !== 0x0800 || d.length < off + 20) continue;
      const fo = d.readUInt16BE(off + 6);
      const mf = (fo & 0x2000) !== 0;
      const fragOff = (fo & 0x1fff) * 8;
      if (!mf && fragOff === 0) continue;
      fragments++;
      const key = `${d.subarray(off + 12, off + 20).toString('hex')}/${d.readUInt16BE(off + 4)}/${d[off + 9]}`;
      const len = d.readUInt16BE(off + 2) - (d[off]! & 15) * 4;
      const list = frags.get(key) ?? [];
      list.push([fragOff, len, mf]);
      frags.set(key, list);
    }
    let complete = 0;
    for (const list of frags.values()) {
      list.sort((a, b) => a[0] - b[0]);
      let end = 0;
      let ok = true;
      for (const [o, l] of list) {
        if (o !== end) ok = false; // a hole or an overlap (Linux drops an overlapping queue)
        end = Math.max(end, o + l);
      }
      if (ok && list.some(([, , mf]) => !mf)) complete++;
    }
    return { packets, maxFrame, defragAbsorbed: fragments - complete };
  } finally {
    closeSync(fd);
  }
}

// ----------------------------------------------------------------------------------------------
// kernel counters around a trial
// ----------------------------------------------------------------------------------------------

interface Counters { softnetDropped: number; softnetSqueezed: number; rxPackets: number; rxDropped: number; txDropped: number }

function counters(): Counters {
  // softnet_stat: per CPU, column 2 = packets dropped because a backlog queue was full (a veth
  // delivers through the receiving CPU's backlog, before any packet socket sees the frame),
  // column 3 = time_squeeze (softirq ran out of budget). Hex; global, not per namespace.
  let softnetDropped = 0;
  let softnetSqueezed = 0;
  for (const line of readFileSync('/proc/net/softnet_stat', 'utf8').trim().split('\n')) {
    const f = line.trim().split(/\s+/);
    softnetDropped += parseInt(f[1] ?? '0', 16);
    softnetSqueezed += parseInt(f[2] ?? '0', 16);
  }
  const link = (ns: string, ifc: string): { rx: { packets: number; dropped: number }; tx: { packets: number; dropped: number } } =>
    (JSON.parse(sh('ip', ['-n', ns, '-s', '-j', 'link', 'show', ifc])) as Array<{ stats64: { rx: { packets: number; dropped: number }; tx: { packets: number; dropped: number } } }>)[0]!.stats64;
  const r = link(NS_R, IF_R);
  const s = link(NS_S, IF_S);
  return { softnetDropped, softnetSqueezed, rxPackets: r.rx.packets, rxDropped: r.rx.dropped, txDropped: s.tx.dropped };
}

function diff(a: Counters, b: Counters): Counters {
  return {
    softnetDropped: b.softnetDropped - a.softnetDropped,
    softnetSqueezed: b.softnetSqueezed - a.softnetSqueezed,
    rxPackets: b.rxPackets - a.rxPackets,
    rxDropped: b.rxDropped - a.rxDropped,
    txDropped: b.txDropped - a.txDropped,
  };
}

// ----------------------------------------------------------------------------------------------
// CPU per thread (/proc): where the tool's time goes during the replay
// ----------------------------------------------------------------------------------------------

type ThreadTicks = Map<number, number>;

function threadTicks(pid: number | undefined): ThreadTicks {
  const m: ThreadTicks = new Map();
  if (!pid) return m;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        m.set(Number(tid), Number(f[11]) + Number(f[12])); // utime + stime (fields 14, 15)
      } catch { /* thread ended */ }
    }
  } catch { /* process ended */ }
  return m;
}

interface CpuSplit { total: number; main: number; busiest: number }

/** CPU seconds between two snapshots: all threads, the main (JS) thread, the busiest other one. */
function cpuSplit(pid: number | undefined, a: ThreadTicks, b: ThreadTicks): CpuSplit {
  let total = 0;
  let main = 0;
  let busiest = 0;
  for (const [tid, t] of b) {
    const d = (t - (a.get(tid) ?? 0)) / CLK_TCK;
    total += d;
    if (tid === pid) main = d;
    else if (d > busiest) busiest = d;
  }
  return { total, main, busiest };
}

function peakRssMiB(pid: number | undefined): number {
  try {
    return Number(/VmHWM:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

// ----------------------------------------------------------------------------------------------
// capture tools
// ----------------------------------------------------------------------------------------------

interface ToolRun {
  /** Packets the tool processed (our sensor) or wrote (tcpdump "captured"). */
  received: number;
  /** The capture socket's kernel counters: seen (drops included) and dropped. */
  kernelReceived: number;
  kernelDropped: number;
  /** Our sensor: flows in the summary line, and flow end records actually written. */
  flows?: number;
  flowLines?: number;
  exitCodes: Array<number | null>;
  problems: string[];
}

interface Tool {
  name: string;
  ours: boolean;
  /** How long to wait after tcpreplay ends before SIGINT (tcpdump reads a block only when it is
   *  full or after its 1 s timeout, and exits on SIGINT without reading what the ring holds). */
  settleMs: number;
  start(trialDir: string): Proc[];
  ready: RegExp;
  /** Packets the tool gets when it loses none of the `sent` ones. */
  expected(sent: number, s: Setup): number;
  finish(procs: Proc[], trialDir: string): Promise<ToolRun>;
}

const FANOUT_GROUP = 1 + (PID % 60000);

function sensorTool(name: string, liveArgs: string[], processes: number): Tool {
  const defrag = liveArgs.includes('--afp-fanout-mode') && liveArgs[liveArgs.indexOf('--afp-fanout-mode') + 1] === 'hash';
  return {
    name,
    ours: true,
    settleMs: 300,
    // Fanout hash sets PACKET_FANOUT_FLAG_DEFRAG: the kernel reassembles IPv4 fragments before
    // choosing a socket, so the group sees one packet per datagram instead of its fragments.
    expected: (sent, s) => (defrag ? sent - s.defragAbsorbed : sent),
    ready: /live capture on \S+ \((pcap|afpacket)\) started/,
    start(dir) {
      return Array.from({ length: processes }, (_, i) => {
        const fd = openSync(join(dir, `${name}-${i}.jsonl`), 'w');
        const p = startProc(`${name}#${i}`, NS_R, [process.execPath, CLI, 'sensor', '-i', IF_R, '--format', 'jsonl', '--stats', ...liveArgs], fd);
        closeSync(fd);
        return p;
      });
    },
    async finish(procs, dir) {
      const run: ToolRun = { received: 0, kernelReceived: 0, kernelDropped: 0, flows: 0, flowLines: 0, exitCodes: [], problems: [] };
      for (const [i, p] of procs.entries()) {
        run.exitCodes.push(p.child.exitCode);
        const m = /summary: packets=(\d+) .*flows=(\d+) .*kernel_received=(\d+) kernel_dropped=(\d+)/.exec(p.stderr);
        if (!m) {
          run.problems.push(`${p.name}: no summary line (exit ${p.child.exitCode}): ${p.stderr.trim().split('\n').slice(-3).join(' | ')}`);
          run.received = NaN;
          continue;
        }
        run.received += Number(m[1]);
        run.flows! += Number(m[2]);
        run.kernelReceived += Number(m[3]);
        run.kernelDropped += Number(m[4]);
        const out = join(dir, `${name}-${i}.jsonl`);
        const lines = await countFlowEnds(out);
        run.flowLines! += lines;
        if (lines !== Number(m[2])) run.problems.push(`${p.name}: summary says flows=${m[2]} but ${lines} flow end records were written`);
        if (/\berror\b/i.test(p.stderr)) run.problems.push(`${p.name}: ${p.stderr.split('\n').filter((l) => /error/i.test(l)).join(' | ')}`);
        if (p.child.exitCode !== 0) run.problems.push(`${p.name}: exit code ${p.child.exitCode}`);
        rmSync(out, { force: true });
      }
      return run;
    },
  };
}

function tcpdumpTool(name: string, extra: string[]): Tool {
  return {
    name,
    ours: false,
    settleMs: 1200,
    ready: /listening on/,
    expected: (sent) => sent,
    start() {
      return [startProc(name, NS_R, ['tcpdump', '-i', IF_R, '-n', '-w', '/dev/null', ...extra])];
    },
    async finish(procs) {
      const p = procs[0]!;
      const num = (re: RegExp): number => Number(re.exec(p.stderr)?.[1] ?? NaN);
      const run: ToolRun = {
        received: num(/(\d+) packets? captured/),
        kernelReceived: num(/(\d+) packets? received by filter/),
        kernelDropped: num(/(\d+) packets? dropped by kernel/),
        exitCodes: [p.child.exitCode],
        problems: [],
      };
      if (Number.isNaN(run.received) || Number.isNaN(run.kernelDropped)) run.problems.push(`${name}: no statistics on exit: ${p.stderr.trim().slice(-300)}`);
      return run;
    },
  };
}

const AFP = ['--live', 'afpacket']; // default ring: 64 blocks of 2 MiB
const TOOLS: Record<string, Tool> = {
  afpacket: sensorTool('afpacket', AFP, 1),
  'afpacket-fanout2': sensorTool('afpacket-fanout2', [...AFP, '--afp-fanout-group', String(FANOUT_GROUP), '--afp-fanout-mode', 'hash'], 2),
  pcap: sensorTool('pcap', ['--live', 'pcap'], 1),
  // Not in the default set. The pcap backend with a snaplen that fits the frames: libpcap's
  // immediate mode (TPACKET_V2) sizes every ring slot for the largest packet (64 KiB when the
  // interface has offloads, as a veth does), so its 64 MiB buffer holds ~1000 packets otherwise.
  'pcap-snap1600': sensorTool('pcap-snap1600', ['--live', 'pcap', '--snaplen', '1600'], 1),
  // A 512 KiB ring, to check that kernel drops are counted when they do happen.
  'afpacket-smallring': sensorTool('afpacket-smallring', [...AFP, '--afp-block-size', '131072', '--afp-block-count', '4'], 1),
  tcpdump: tcpdumpTool('tcpdump', []),
  'tcpdump-B128M': tcpdumpTool('tcpdump-B128M', ['-B', '131072']),
};

async function countFlowEnds(file: string): Promise<number> {
  let n = 0;
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of rl) if (line.startsWith('{"type":"flow"') && line.includes('"kind":"end"')) n++;
  return n;
}

// ----------------------------------------------------------------------------------------------
// one trial: start the tool, replay, stop the tool, read every counter
// ----------------------------------------------------------------------------------------------

type Rate = { top: true } | { top: false; pps: number };

interface Replay { sent: number; failed: number; bytes: number; seconds: number; mbps: number; pps: number }

interface Trial {
  tool: string;
  rate: Rate;
  replay: Replay;
  /** Packets the tool should get when nothing is lost (sent, less reassembled fragments). */
  expected: number;
  run: ToolRun;
  kernel: Counters;
  cpu: CpuSplit;
  rssMiB: number;
  pass: boolean;
}

function parseReplay(out: string): Replay {
  const actual = /Actual: (\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds/.exec(out);
  const rated = /Rated: [\d.]+ Bps, ([\d.]+) Mbps, ([\d.]+) pps/.exec(out);
  const failed = /Failed packets:\s+(\d+)/.exec(out);
  if (!actual || !rated) throw new Error(`tcpreplay: no statistics in its output:\n${out.slice(-1500)}`);
  return { sent: Number(actual[1]), bytes: Number(actual[2]), seconds: Number(actual[3]), mbps: Number(rated[1]), pps: Number(rated[2]), failed: Number(failed?.[1] ?? 0) };
}

interface Setup {
  pcap: string;
  loop: number;
  dir: string;
  /** Packets a fanout group with PACKET_FANOUT_FLAG_DEFRAG receives fewer than were sent. */
  defragAbsorbed: number;
}

async function trial(tool: Tool, rate: Rate, s: Setup): Promise<Trial> {
  const procs = tool.start(s.dir);
  try {
    await Promise.all(procs.map((p) => waitFor(p, tool.ready)));
  } catch (e) {
    for (const p of procs) p.child.kill('SIGKILL');
    throw e;
  }
  await sleep(200);
  const before = counters();
  const ticks0 = procs.map((p) => threadTicks(p.child.pid));
  const rateArg = rate.top ? '--topspeed' : `--pps=${Math.round(rate.pps)}`;
  const tr = startProc('tcpreplay', NS_S, ['tcpreplay', `--intf1=${IF_S}`, '--preload-pcap', `--loop=${s.loop}`, rateArg, s.pcap]);
  const trCode = await tr.exit;
  if (trCode !== 0) {
    for (const p of procs) p.child.kill('SIGKILL');
    throw new Error(`tcpreplay exited ${trCode}:\n${tr.stderr.slice(-1500)}${tr.stdout.slice(-1500)}`);
  }
  const replay = parseReplay(tr.stdout + tr.stderr);
  await sleep(tool.settleMs);
  const cpuParts = procs.map((p, i) => cpuSplit(p.child.pid, ticks0[i]!, threadTicks(p.child.pid)));
  const rssMiB = procs.reduce((a, p) => a + peakRssMiB(p.child.pid), 0);
  await Promise.all(procs.map((p) => stopProc(p)));
  const kernel = diff(before, counters());
  const run = await tool.finish(procs, s.dir);
  const cpu = cpuParts.reduce((a, c) => ({ total: a.total + c.total, main: a.main + c.main, busiest: a.busiest + c.busiest }), { total: 0, main: 0, busiest: 0 });
  const expected = tool.expected(replay.sent, s);
  const pass = run.kernelDropped === 0 && run.received >= expected && run.problems.length === 0;
  return { tool: tool.name, rate, replay, expected, run, kernel, cpu, rssMiB, pass };
}

function fmtK(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n));
}

function trialLine(t: Trial): string {
  const asked = t.rate.top ? 'top speed' : `${fmtK(t.rate.pps)} pps`;
  const lost = t.expected - t.run.received;
  const parts = [
    `[${((Date.now() - T0) / 1000).toFixed(0).padStart(4)}s]`,
    t.tool.padEnd(17),
    `asked ${asked.padEnd(10)}`,
    `got ${fmtK(t.replay.pps).padStart(6)} pps ${t.replay.mbps.toFixed(0).padStart(5)} Mbit/s`,
    `sent ${t.replay.sent}${t.replay.failed ? ` (+${t.replay.failed} failed)` : ''}`,
    `recv ${t.run.received}${t.expected !== t.replay.sent ? ` of ${t.expected} expected` : ''}${lost > 0 ? ` (-${lost})` : ''}`,
    `kdrop ${t.run.kernelDropped}`,
    `backlog-drop ${t.kernel.softnetDropped}`,
    ...(t.kernel.rxPackets !== t.replay.sent ? [`veth-rx ${t.kernel.rxPackets}`] : []),
    `cpu ${t.cpu.total.toFixed(2)}s`,
  ];
  if (t.run.flows !== undefined) parts.push(`flows ${t.run.flows}`);
  parts.push(t.pass ? 'PASS' : 'FAIL');
  return parts.join('  ') + (t.run.problems.length ? `\n        ! ${t.run.problems.join('\n        ! ')}` : '');
}

// ----------------------------------------------------------------------------------------------
// search: top speed, shared ramp, bisection per tool — tools alternate in every round
// ----------------------------------------------------------------------------------------------

interface ToolState {
  tool: Tool;
  trials: Trial[];
  top?: Trial;
  lo?: Trial; // highest passing paced trial
  hi?: Trial; // lowest failing paced trial
  rampDone: boolean;
  steps: number;
}

function asked(t: Trial): number {
  return t.rate.top ? Infinity : t.rate.pps;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('live-capture needs root (network namespaces, raw sockets)');
  for (const c of ['ip', 'tcpreplay', 'tcpdump']) if (spawnSync('which', [c]).status !== 0) throw new Error(`${c} is not installed`);
  const packets = Number(arg('packets', '200000'));
  const loop = Math.max(1, Number(arg('loop', '2')));
  const startPps = Number(arg('start-pps', '100000'));
  const tolerance = Number(arg('tolerance', '0.1'));
  const maxSteps = Number(arg('max-steps', '4'));
  const budgetS = Number(arg('budget-s', '270'));
  const names = arg('tools', 'afpacket,afpacket-fanout2,pcap,tcpdump,tcpdump-B128M').split(',').map((x) => x.trim()).filter(Boolean);
  for (const n of names) if (!TOOLS[n]) throw new Error(`--tools: unknown tool '${n}' (known: ${Object.keys(TOOLS).join(', ')})`);
  const pcap = await benchCapture(packets);
  const scan = scanPcap(pcap);
  const frame = scan?.maxFrame ?? 0;
  // The smallest MTU that carries the capture's largest frame (a physical NIC's 1500 when it
  // fits) rather than a jumbo one: libpcap may size its ring slots from the MTU.
  const mtu = frame > 0 ? Math.max(1500, frame - 14) : 9000;
  scratch = mkdtempSync(join(tmpdir(), 'dfly-live-bench-'));
  netnsSetup(mtu);
  const s: Setup = { pcap, loop, dir: scratch, defragAbsorbed: (scan?.defragAbsorbed ?? 0) * loop };
  const states: ToolState[] = names.map((n) => ({ tool: TOOLS[n]!, trials: [], rampDone: false, steps: 0 }));
  process.stdout.write(`machine: ${machineLine()}\n`);
  process.stdout.write(`input: ${pcap} × ${loop} (tcpreplay --loop=${loop} --preload-pcap), largest frame ${frame} B, veth MTU ${mtu}, ${scan?.defragAbsorbed ?? '?'} IPv4 fragments per pass that a defragmenting fanout group merges\n`);
  process.stdout.write(`tools: ${names.join(', ')}; ramp from ${fmtK(startPps)} pps ×2, bisection to ${(tolerance * 100).toFixed(0)}% (≤ ${maxSteps} steps), budget ${budgetS} s\n\n`);

  let round = 0;
  const runRound = async (picks: Array<[ToolState, Rate]>): Promise<void> => {
    // Rotate who goes first so no tool always runs right after the same neighbour.
    const k = round++ % Math.max(1, picks.length);
    for (const [st, rate] of [...picks.slice(k), ...picks.slice(0, k)]) {
      const t = await trial(st.tool, rate, s);
      st.trials.push(t);
      process.stdout.write(trialLine(t) + '\n');
      if (t.rate.top) st.top = t;
      else if (t.pass) { if (!st.lo || asked(t) > asked(st.lo)) st.lo = t; }
      else if (!st.hi || asked(t) < asked(st.hi)) st.hi = t;
    }
  };

  // 1. Top speed: drops at the fastest tcpreplay can send, and the sender's ceiling.
  await runRound(states.map((st) => [st, { top: true }]));
  const ceiling = Math.max(...states.map((st) => st.top!.replay.pps));

  // 2. Shared ramp: every tool at the same requested rate, until it fails or the sender cannot
  //    reach the rate any more (tcpreplay gets < 90% of what was asked).
  for (let pps = startPps; ; pps *= 2) {
    const picks = states.filter((st) => !st.rampDone).map((st): [ToolState, Rate] => [st, { top: false, pps }]);
    if (picks.length === 0) break;
    await runRound(picks);
    for (const st of states) {
      const last = st.trials[st.trials.length - 1]!;
      if (st.rampDone || last.rate.top) continue;
      if (!last.pass || last.replay.pps < 0.9 * pps || pps * 2 > ceiling * 1.05) st.rampDone = true;
    }
  }

  // 3. Bisection between the highest passing and lowest failing paced rate, per tool; a tool that
  //    failed at the ramp's first rate is bisected from 0.
  for (;;) {
    if ((Date.now() - T0) / 1000 > budgetS) {
      if (states.some((st) => st.hi && st.steps < maxSteps)) process.stdout.write(`(time budget of ${budgetS} s spent: bisection stopped, brackets below)\n`);
      break;
    }
    const picks: Array<[ToolState, Rate]> = [];
    for (const st of states) {
      if (!st.hi || st.steps >= maxSteps) continue;
      const lo = st.lo ? asked(st.lo) : 0;
      const hi = asked(st.hi);
      if (lo > 0 && hi / lo <= 1 + tolerance) continue;
      picks.push([st, { top: false, pps: Math.round(lo > 0 ? Math.sqrt(lo * hi) : hi / 2) }]);
      st.steps++;
    }
    if (picks.length === 0) break;
    await runRound(picks);
  }

  report(states, s, mtu);
}

// ----------------------------------------------------------------------------------------------
// report
// ----------------------------------------------------------------------------------------------

/**
 * The highest passing rate below every failing one (a pass above a failure — the box is noisy —
 * does not count), as tcpreplay achieved it. Sender-limited: it passed at top speed and never
 * failed, so the limit found is tcpreplay's on this machine, not the tool's.
 */
function best(st: ToolState): { t?: Trial; senderLimited: boolean } {
  const failing = st.trials.filter((t) => !t.pass).map((t) => t.replay.pps);
  const floor = failing.length ? Math.min(...failing) : Infinity;
  const passing = st.trials.filter((t) => t.pass && t.replay.pps < floor);
  if (passing.length === 0) return { senderLimited: false };
  const t = passing.reduce((a, b) => (b.replay.pps > a.replay.pps ? b : a));
  return { t, senderLimited: st.top?.pass === true && failing.length === 0 };
}

function report(states: ToolState[], s: Setup, mtu: number): void {
  const rows: string[][] = [];
  for (const st of states) {
    const b = best(st);
    const top = st.top!;
    const ge = b.senderLimited ? '≥ ' : '';
    const hi = st.hi ? `${fmtK(st.hi.replay.pps)} pps (${st.hi.run.kernelDropped} kdrop, ${st.hi.expected - st.hi.run.received} lost)` : '—';
    const perM = (x: number): string => ((x / top.replay.sent) * 1e6).toFixed(2);
    rows.push([
      st.tool.name,
      b.t ? `${ge}${b.t.replay.mbps.toFixed(0)}` : 'none passed',
      b.t ? `${ge}${fmtK(b.t.replay.pps)}` : '—',
      hi,
      `${fmtK(top.replay.pps)} pps / ${top.replay.mbps.toFixed(0)} Mbit/s`,
      `${top.run.kernelDropped} (${((top.run.kernelDropped / Math.max(1, top.run.kernelReceived)) * 100).toFixed(1)}%)`,
      `${top.run.received}/${top.expected}`,
      st.tool.ours
        ? `${perM(top.cpu.total)} s (JS ${perM(top.cpu.main)}, capture ${perM(top.cpu.busiest)}, rest ${perM(top.cpu.total - top.cpu.main - top.cpu.busiest)})`
        : `${perM(top.cpu.total)} s`,
      `${top.rssMiB.toFixed(0)} MiB`,
    ]);
  }
  const head = ['tool', 'zero-drop Mbit/s', 'zero-drop pps', 'lowest failing', 'top speed (achieved)', 'kdrop @top', 'recv/expected @top', 'CPU per 1M pkts @top', 'peak RSS'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |';
  const sent = states[0]!.top!.replay.sent;
  process.stdout.write(`\nresults: ${sent} packets per trial (${fmtK(sent)} = capture × ${s.loop}), veth MTU ${mtu}; a rate passes with 0 kernel drops and every sent packet received\n`);
  process.stdout.write([line(head), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...rows.map(line)].join('\n') + '\n');
  process.stdout.write('"≥": passed at top speed and at every rate tried, i.e. limited by how fast tcpreplay sends beside it on this machine, not by the tool\n' +
    'zero-drop rate: the highest passing rate below the lowest failing one (achieved rates); CPU: all threads of the tool during the replay; ' +
    'for ours, "capture" is its busiest non-JS thread (the capture thread), "rest" GC/libuv threads\n');

  for (const td of states.filter((x) => !x.tool.ours)) {
    const tb = best(td);
    for (const st of states.filter((x) => x.tool.ours)) {
      const ob = best(st);
      if (!ob.t || !tb.t) {
        process.stdout.write(`ratio ${st.tool.name}/${td.tool.name}: n/a (${!ob.t ? st.tool.name : td.tool.name} had no zero-drop rate)\n`);
        continue;
      }
      const r = ob.t.replay.pps / tb.t.replay.pps;
      if (ob.senderLimited && tb.senderLimited) {
        // Neither limit was reached: what differs is how much CPU each left to tcpreplay.
        process.stdout.write(`ratio ${st.tool.name}/${td.tool.name}: n/a, both passed at top speed (tcpreplay reached ${fmtK(ob.t.replay.pps)} vs ${fmtK(tb.t.replay.pps)} pps beside them)\n`);
        continue;
      }
      const qual = ob.senderLimited ? ' (ours passed at top speed: a lower bound)' : tb.senderLimited ? ` (${td.tool.name} passed at top speed: an upper bound)` : '';
      process.stdout.write(`ratio ${st.tool.name}/${td.tool.name} (zero-drop pps): ${r.toFixed(2)}x${qual}\n`);
    }
  }
  // Where packets went missing, and whether every flow made it out at stop.
  const backlog = states.flatMap((st) => st.trials).reduce((a, t) => a + t.kernel.softnetDropped, 0);
  process.stdout.write(`veth backlog drops (softnet_stat, before any capture socket) over all trials: ${backlog}\n`);
  for (const st of states.filter((x) => x.tool.ours)) {
    const clean = st.trials.filter((t) => t.run.received === t.expected && t.run.kernelDropped === 0);
    const flows = [...new Set(clean.map((t) => t.run.flows))];
    const mism = st.trials.filter((t) => t.run.flows !== t.run.flowLines).length;
    process.stdout.write(`${st.tool.name}: flows in zero-loss trials ${flows.join(', ') || '—'}; trials where written flow records ≠ summary: ${mism}\n`);
  }
  process.stdout.write(`total ${((Date.now() - T0) / 1000).toFixed(0)} s\n`);
}

main().then(
  () => shutdown(0),
  (e: unknown) => {
    if (shuttingDown) return; // a signal stopped the tools under the trial that failed here
    process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    shutdown(1);
  },
);
