// common.js - the shared loop of the peer runners in bench/scan.
//
// Reads JSONL ({"text": ...} per line) from stdin, calls the library on each
// text, and writes one JSON line per input in the shape the scorer reads:
//   {"findings":[{"type","lib_type","start","end"}],"masked":"..."}
// start/end are UTF-8 byte offsets into the original text (the library gives
// UTF-16 offsets or only a redacted text; both are converted here).
// With --spans the findings are filled in (quality run); without it only the
// masked text is written, which is what the library itself produces
// (throughput run), so span recovery never counts against the library's speed.
import { createInterface } from "node:readline";

// UTF-16 code-unit offset -> UTF-8 byte offset within s.
export function byteOffset(s, i) {
  return Buffer.byteLength(s.slice(0, i), "utf8");
}

// Recover the replaced spans from a text and its redacted form, for libraries
// that return only the redacted text. tokenRe matches the library's
// placeholders (global flag); tokenType maps a placeholder to a library type.
// The literal pieces between placeholders are located in order in the
// original text (earliest occurrence); a placeholder covers the gap between
// them. This is exact unless two placeholders are separated by a literal that
// also occurs inside the first replaced value (then the first span is cut
// short at that occurrence).
export function alignRedacted(orig, red, tokenRe, tokenType) {
  const pieces = [];
  let last = 0;
  for (const m of red.matchAll(tokenRe)) {
    if (m.index > last) pieces.push({ lit: red.slice(last, m.index) });
    pieces.push({ tok: m[0] });
    last = m.index + m[0].length;
  }
  if (last < red.length) pieces.push({ lit: red.slice(last) });
  const spans = [];
  let p = 0;
  for (let k = 0; k < pieces.length; k++) {
    const pc = pieces[k];
    if (pc.lit !== undefined) {
      if (orig.startsWith(pc.lit, p)) { p += pc.lit.length; continue; }
      return null; // literal not where expected: the library changed other text
    }
    const next = pieces[k + 1];
    let end;
    if (next === undefined) end = orig.length;
    else if (next.tok !== undefined) end = p; // two placeholders touching: cannot split
    else {
      end = orig.indexOf(next.lit, p + 1);
      if (next === pieces[pieces.length - 1]) end = orig.length - next.lit.length;
      if (end < p) return null;
    }
    if (end > p) spans.push({ lib_type: tokenType(pc.tok), s: p, e: end });
    p = end;
  }
  return spans;
}

// run(detect): detect(text) -> {masked, spans:[{lib_type, s, e}] (UTF-16)} or
// a promise of it; mapType(lib_type) -> our type name or null.
//
// With --time the CPU time (user+system, process.cpuUsage) spent inside
// detect() alone is summed, without reading, JSON parsing or writing, and
// written to stderr as one JSON line {"lib_cpu_seconds", "bytes", "docs"}
// (bytes: UTF-8 bytes of the texts): the library's own cost per text, the
// figure bench/scan compares with sopgate's sg_scan_run.
export async function run(detect, mapType) {
  const spansWanted = process.argv.includes("--spans");
  const timed = process.argv.includes("--time");
  let libCpu = 0, bytes = 0, docs = 0;
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const out = [];
  let pending = 0;
  const flush = () => { process.stdout.write(out.join("")); out.length = 0; pending = 0; };
  for await (const line of rl) {
    if (line.length === 0) continue;
    let text;
    try { text = JSON.parse(line).text; } catch { text = undefined; }
    if (typeof text !== "string") { out.push('{"error":"no text field"}\n'); continue; }
    let r;
    if (timed) {
      const c0 = process.cpuUsage();
      r = await detect(text, spansWanted);
      const c1 = process.cpuUsage(c0);
      libCpu += (c1.user + c1.system) / 1e6;
      bytes += Buffer.byteLength(text, "utf8");
      docs++;
    } else {
      r = await detect(text, spansWanted);
    }
    const o = { masked: r.masked };
    if (spansWanted) {
      if (r.spans === null) o.align_failed = true;
      o.findings = (r.spans || []).map((f) => ({
        type: mapType(f.lib_type), lib_type: f.lib_type,
        start: byteOffset(text, f.s), end: byteOffset(text, f.e),
      }));
    }
    out.push(JSON.stringify(o) + "\n");
    if (++pending >= 256) flush();
  }
  flush();
  if (timed)
    process.stderr.write(JSON.stringify({ lib_cpu_seconds: libCpu, bytes, docs }) + "\n");
}
