// Parse and semantically check KQL with Microsoft's own Kusto language service (@kusto/language-service-next).
//
// Input (stdin, JSON): {"cases": [{"database": "rta", "scripts": [{"name", "text"}],
//                                  "queries": [{"name", "text", "parameters"}]}]}
//   Several cases share one process, so the language service loads once (it costs seconds).
//   scripts: database scripts in order; commands are separated by blank lines (as `.execute database script`
//            and the Kusto Script resource take them). Each command is analysed against the symbols the commands
//            before it created: tables, functions and materialized views (with the columns their query yields).
//   queries: analysed against the final database; `parameters` (e.g. "_startTime:datetime") are declared first.
// Output (stdout, JSON): one result per case, in order: {"diagnostics": [{"file", "line", "column", "severity", "code", "message"}],
//                         "tables": {name: [[column, type]]}, "functions": [names], "queries": {name: [[column, type]]}}
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
require("@kusto/language-service-next/bridge.min.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
const K = globalThis.Kusto.Language;

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => (data += c));
  process.stdin.on("end", () => resolve(data));
}));

function checkCase(input) {
  const diagnostics = [];
  const tables = {};
  const functions = [];
  let database = new K.Symbols.DatabaseSymbol.$ctor1(input.database, [], false);
  
  function globals() {
    return K.GlobalState.Default.WithDatabase(database);
  }
  
  function lineCol(text, offset) {
    const before = text.slice(0, offset);
    const lines = before.split("\n");
    return [lines.length, lines[lines.length - 1].length + 1];
  }
  
  function report(file, fullText, baseOffset, code, skipPrefix = 0) {
    const ds = code.GetDiagnostics();
    for (let i = 0; i < ds.Count; i++) {
      const d = ds.getItem(i);
      const [line, column] = lineCol(fullText, baseOffset + Math.max(0, d.Start - skipPrefix));
      diagnostics.push({ file, line, column, severity: String(d.Severity), code: d.Code, message: d.Message });
    }
  }
  
  function columnsOf(resultType) {
    const out = [];
    if (!resultType || !resultType.Columns) return out;
    const cols = resultType.Columns;
    for (let i = 0; i < cols.Count; i++) out.push([cols.getItem(i).Name, cols.getItem(i).Type.Name]);
    return out;
  }
  
  function schemaText(columns) {
    return "(" + columns.map(([n, t]) => `['${n}']:${t}`).join(", ") + ")";
  }
  
  // The body between the first "{" after `start` and its matching "}".
  function braceBody(text, start) {
    const open = text.indexOf("{", start);
    if (open < 0) return null;
    let depth = 0;
    for (let i = open; i < text.length; i++) {
      if (text[i] === "{") depth++;
      else if (text[i] === "}" && --depth === 0) return text.slice(open + 1, i);
    }
    return null;
  }
  
  // `with (...)` properties, whose quoted values may hold parentheses.
  const WITH = String.raw`(?:with\s*\((?:[^()"]|"[^"]*")*\)\s*)?`;
  
  function learn(command) {
    let m = command.match(/^\.create(?:-merge)?\s+table\s+(\w+)\s*(\([^)]*\))/s);
    if (m) {
      const table = new K.Symbols.TableSymbol.$ctor7(m[1], m[2], null);
      database = database.AddMembers([table]);
      tables[m[1]] = columnsOf(table);
      return;
    }
    m = command.match(new RegExp(String.raw`^\.create-or-alter\s+function\s+${WITH}(\w+)\s*(\([^)]*\))`, "s"));
    if (m) {
      const body = braceBody(command, m.index + m[0].length);
      database = database.AddMembers([new K.Symbols.FunctionSymbol.$ctor16(m[1], m[2], `{${body}}`, null)]);
      functions.push(m[1]);
      return;
    }
    m = command.match(
      new RegExp(String.raw`^\.create(?:-or-alter)?\s+materialized-view\s+${WITH}(\w+)\s+on\s+(?:table|materialized-view)\s+\w+`, "s"),
    );
    if (m) {
      const query = braceBody(command, m.index + m[0].length);
      const code = K.KustoCode.ParseAndAnalyze(query, globals());
      const columns = columnsOf(code.ResultType);
      database = database.AddMembers([
        new K.Symbols.MaterializedViewSymbol.$ctor3(m[1], schemaText(columns), query, null),
      ]);
      tables[m[1]] = columns;
    }
  }
  
  for (const script of input.scripts) {
    const text = script.text.replace(/\r\n/g, "\n");
    let offset = 0;
    for (const block of text.split(/\n[ \t]*\n/)) {
      const start = text.indexOf(block, offset);
      offset = start + block.length;
      const stripped = block.split("\n").filter((l) => !l.trim().startsWith("//")).join("\n").trim();
      if (!stripped) continue;
      if (!stripped.startsWith(".")) {
        const [line, column] = lineCol(text, start);
        diagnostics.push({ file: script.name, line, column, severity: "Error", code: "SCRIPT",
          message: "a database script holds control commands only (each block must start with '.')" });
        continue;
      }
      const code = K.KustoCode.ParseAndAnalyze(block, globals());
      report(script.name, text, start, code);
      learn(stripped);
    }
  }
  
  const queryColumns = {};
  for (const query of input.queries || []) {
    const prefix = (query.parameters || []).length
      ? `declare query_parameters(${query.parameters.join(", ")});\n` : "";
    const code = K.KustoCode.ParseAndAnalyze(prefix + query.text, globals());
    report(query.name, query.text, 0, code, prefix.length);
    queryColumns[query.name] = columnsOf(code.ResultType);
    if (String(code.Kind) !== "Query") {
      diagnostics.push({ file: query.name, line: 1, column: 1, severity: "Error", code: "QUERY",
        message: `expected a query, got a ${code.Kind}` });
    }
  }
  return { diagnostics, tables, functions, queries: queryColumns };
}

process.stdout.write(JSON.stringify(input.cases.map(checkCase)));
