// Fast paths of the front of the pipeline (load → validate → plan → document limits), each held
// to the plain computation it skips: asciiHost to domainToASCII, documentLimits to quoting every
// document, jsonString to its character loop, the plan hash to SHA-256 of the plan's JSON.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { domainToASCII } from "node:url";
import fc from "fast-check";
import { asciiHost } from "../src/input/_values.js";
import { plugins } from "../src/backends/_registry.js";
import { nginxString } from "../src/backends/nginx/_escape.js";
import { apacheString } from "../src/backends/apache/_escape.js";
import { jsonString } from "../src/plan/_json.js";
import { sha256Stream } from "../src/plan/_sha256.js";
import { loadSite } from "../src/input/_load.js";
import { validateSite } from "../src/input/_validate.js";
import { planSite } from "../src/plan/_plan.js";
import { formatDiagnostic } from "../src/input/_diagnostics.js";
import type { Plan } from "../src/types.js";
import { fixtures } from "./_fixtures.js";

test("asciiHost is domainToASCII of the lower-cased name", () => {
  const names = ["example.com", "Example.COM", "a..b", "-a.com", "a-.com", "1.2.3.4", "foo.123", "foo.0x1f", "0x1f", "a.0xg", "123", "1a", "a.09", "example.com.", "xn--mnchen-3ya.de", "xn--a.com", "a.xn--", "münchen.de", "ＥＸＡＭＰＬＥ.com", "\u2474.com", "a_b.com", "a".repeat(300), "", "."];
  for (const n of names) assert.equal(asciiHost(n), domainToASCII(n.toLowerCase()), JSON.stringify(n));
  const label = fc.stringMatching(/^[a-zA-Z0-9xn-]{0,8}$/);
  fc.assert(
    fc.property(fc.array(label, { minLength: 1, maxLength: 4 }), (labels) => {
      const n = labels.join(".");
      assert.equal(asciiHost(n), domainToASCII(n.toLowerCase()), JSON.stringify(n));
    }),
    { numRuns: 20000 },
  );
});

test("jsonString writes what its character loop writes", () => {
  const reference = (s: string) => {
    let out = '"';
    for (const ch of s.split("")) {
      const c = ch.charCodeAt(0);
      if (ch === "\\") out += "\\\\";
      else if (c >= 0x20 && c <= 0x7e && !'"${}'.includes(ch)) out += ch;
      else out += ({ "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" } as Record<string, string>)[ch] ?? "\\u" + c.toString(16).padStart(4, "0");
    }
    return out + '"';
  };
  for (let c = 0; c < 0x300; c++) assert.equal(jsonString(`a${String.fromCharCode(c)}b`), reference(`a${String.fromCharCode(c)}b`), `U+${c.toString(16)}`);
  fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => assert.equal(jsonString(s), reference(s))), { numRuns: 5000 });
});

test("sha256Stream is node:crypto's SHA-256 of the parts' concatenation, small or large", () => {
  const part = fc.oneof(fc.string({ unit: "grapheme", maxLength: 40 }), fc.integer({ min: 1, max: 300_000 }).map((n) => "é".repeat(n)));
  fc.assert(
    fc.property(fc.array(part, { maxLength: 5 }), (parts) => {
      const hash = sha256Stream();
      for (const p of parts) hash.update(p);
      assert.equal(hash.hex(), createHash("sha256").update(parts.join("")).digest("hex"));
    }),
    { numRuns: 60 },
  );
});

function front(text: string): { plan?: Plan; loaded: ReturnType<typeof loadSite>; errors: string[] } {
  const loaded = loadSite("site.yaml", text);
  const { input, diagnostics } = validateSite(loaded);
  return { loaded, errors: diagnostics.map(formatDiagnostic), plan: input ? planSite(input, "site.yaml") : undefined };
}

test("the plan hash is SHA-256 of the JSON of its sites and backends", () => {
  for (const fx of fixtures()) {
    const { plan } = front(fx.text);
    if (!plan) continue;
    const full = createHash("sha256").update(JSON.stringify({ sites: plan.sites, backends: plan.backends })).digest("hex");
    assert.equal(plan.hash, full.slice(0, 16), fx.name);
  }
  // Enough sites to be hashed in batches by node:crypto; non-ASCII and astral text in the plan.
  for (const n of [255, 256, 257, 700]) {
    const sites = Array.from({ length: n }, (_, i) => `  - server_name: s${i}.example.com\n    homeserver:\n      host: m.s${i}.example.com\n      upstream: http://127.0.0.1:6167\n    tls:\n      cert: /etc/ssl/ü${i}😀.pem\n      key: /etc/ssl/k${i}.pem\n`);
    const { plan, errors } = front(`version: 1\nsites:\n${sites.join("")}`);
    assert.deepEqual(errors, []);
    const full = createHash("sha256").update(JSON.stringify({ sites: plan!.sites, backends: plan!.backends })).digest("hex");
    assert.equal(plan!.hash, full.slice(0, 16), `${n} sites`);
  }
});

test("the backends' document limits report what quoting every document reports", () => {
  const NGINX = 4094;
  const APACHE = 8192 - "        ErrorDocument 200 ".length - 2;
  // Bodies around both limits, made of the characters each quoting lengthens most.
  let over = 0;
  const note = fc.tuple(fc.integer({ min: 900, max: 8500 }), fc.constantFrom("a", "\\", "'", '"', "%", "\\'", "a\\", "é")).map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n));
  fc.assert(
    fc.property(note, fc.subarray(["nginx", "apache", "caddy", "traefik"] as const), (note, backends) => {
      const { loaded, plan, errors } = front(`version: 1\nsites:\n  - server_name: example.com\n    homeserver:\n      host: matrix.example.com\n      upstream: http://127.0.0.1:6167\n    well_known:\n      client:\n        org.example.note: ${JSON.stringify(note)}\n`);
      assert.deepEqual(errors, []);
      const expected: string[] = [];
      for (const doc of plan!.sites[0]!.wellKnown) {
        const nginx = backends.includes("nginx") ? nginxString(doc.body).length : 0;
        const apache = backends.includes("apache") ? apacheString(doc.body, { expr: true }).length : 0;
        if (nginx > NGINX) expected.push(`${doc.name} nginx ${nginx}`);
        if (apache > APACHE) expected.push(`${doc.name} apache ${apache}`);
      }
      const got = plugins([...backends]).flatMap((b) => b.checkPlan?.(loaded, plan!) ?? []).map((d) => `${/the (\w+) document (\d+) bytes once quoted for (\w+)/.exec(d.message)!.slice(1).join(" ")}`.replace(/^(\w+) (\d+) (\w+)$/, (_, n, b, s) => `${n} ${s.toLowerCase()} ${b}`));
      assert.deepEqual(got.sort(), expected.sort());
      if (expected.length > 0) over++;
    }),
    { numRuns: 300 },
  );
  assert.ok(over > 30, `only ${over} of 300 documents were too large`);
});
