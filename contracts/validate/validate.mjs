// Validates an AsyncAPI document with the AsyncAPI initiative's own parser and prints every
// diagnostic as one JSON line; exits 1 on any error or warning.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const path = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(path, "utf8"));
const severities = ["error", "warning", "information", "hint"];
const counts = { error: 0, warning: 0, information: 0, hint: 0 };
for (const diagnostic of diagnostics) {
  const severity = severities[diagnostic.severity] ?? String(diagnostic.severity);
  counts[severity] = (counts[severity] ?? 0) + 1;
  console.log(JSON.stringify({ severity, code: diagnostic.code, message: diagnostic.message, path: diagnostic.path.join(".") }));
}
console.log(JSON.stringify({ summary: counts, parsed: document !== undefined }));
process.exit(counts.error + counts.warning > 0 || document === undefined ? 1 : 0);
