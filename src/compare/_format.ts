// Formats the compare matrix as a terminal table, Markdown or JSON.
import type { Plan } from "../types.js";
import { BACKENDS } from "../backends/_registry.js";
import { compare } from "./_compare.js";

const MARK = { yes: "yes", external: "external", no: "NO", "n/a": "-" } as const;

/** renderCompare formats the behaviour matrix of a plan. */
export function renderCompare(plan: Plan, format: "table" | "json" | "markdown", paint: (t: string, kind?: string) => string): string {
  const rows = compare(plan);
  if (format === "json") return JSON.stringify(rows, null, 2) + "\n";
  const header = ["site", "feature", "plan", ...BACKENDS];
  const cells = rows.map((r) => [r.site, r.feature, r.plan, ...BACKENDS.map((b) => `${MARK[r.backends[b].support]}${r.backends[b].how ? `: ${r.backends[b].how}` : ""}`)]);
  const legend = "yes = the backend does it; external = needs something outside the config (certbot, a static server, the homeserver); NO = cannot; - = not used.\n";
  if (format === "markdown") {
    const esc = (s: string) => s.replace(/\|/g, "\\|");
    return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...cells.map((c) => `| ${c.map(esc).join(" | ")} |`)].join("\n") + "\n\n" + legend;
  }
  // Terminal: one block per feature, one line per backend, so long directives stay readable.
  const out: string[] = [];
  for (const [i, r] of rows.entries()) {
    out.push(`${r.site}  ${r.feature}: ${r.plan}`);
    for (const b of BACKENDS) {
      const c = r.backends[b];
      const mark = c.support === "no" ? paint(MARK.no, "error") : c.support === "external" ? paint(MARK.external, "warning") : MARK[c.support];
      out.push(`  ${b.padEnd(8)} ${mark}${c.how ? `  ${c.how}` : ""}`);
    }
    if (i < rows.length - 1) out.push("");
  }
  return out.join("\n") + "\n\n" + legend;
}
