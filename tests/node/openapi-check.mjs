// Checks docs/openapi.yaml, and the answers mailproof gave, against it.
//
//   node openapi-check.mjs validate docs/openapi.yaml
//     The document against the OpenAPI 3.1 schema (@seriousme/openapi-
//     schema-validator, which also checks that every $ref resolves); then
//     every schema in it compiled by ajv (JSON Schema 2020-12), every
//     example checked against its schema, and every response declaring
//     X-Request-Id.  Prints each problem; exit 1 on any.
//
//   node openapi-check.mjs answers docs/openapi.yaml ANSWERS.jsonl
//     ANSWERS.jsonl holds one recorded answer a line (tests/integration/
//     harness.py, record_answer): {method, path, status, contentType,
//     headers, body}.  Each is matched to its operation (a literal path
//     before a templated one, as mailproof's router does: the first path
//     that matches and has the method), then to the response of its status
//     (or its "4XX" / "default"), then to the media type of its
//     Content-Type.  A JSON body is validated by ajv against that schema;
//     headers the response declares required must be present.  A path no
//     route matches must be the document's x-unrouted.unknownPath answer,
//     a method a path lacks one of x-unrouted.unknownMethod (each a map of
//     responses by status, like an operation's).  An answer
//     of a route, status or media type the document does not declare fails.
//     Prints one line per failure and "N answers checked, N failed"; exit 1
//     on any failure, or when there is no answer at all.
//
//   node openapi-check.mjs webhooks docs/openapi.yaml WEBHOOKS.jsonl
//     One webhook delivery a line, {headers, body} (harness.py,
//     record_webhook; the stack's webhook catcher writes the same): each
//     body against the requestBody of webhooks[its type], and its
//     webhook-* headers against their parameters.  "N webhooks checked,
//     N failed"; exit 1 on any failure, or when there is none.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";

const DOC_ID = "urn:mailproof:openapi";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

function usage() {
  console.error("usage: node openapi-check.mjs validate OPENAPI.yaml\n" +
                "       node openapi-check.mjs answers OPENAPI.yaml ANSWERS.jsonl\n" +
                "       node openapi-check.mjs webhooks OPENAPI.yaml WEBHOOKS.jsonl");
  process.exit(2);
}

function loadDoc(file) {
  return parse(readFileSync(file, "utf-8"));
}

// The object a local reference ("#/a/b") names.
function pointer(doc, ref) {
  if (!ref.startsWith("#/")) throw new Error("not a local $ref: " + ref);
  let o = doc;
  for (const raw of ref.slice(2).split("/")) {
    const part = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (o === undefined || o === null) break;
    o = o[part];
  }
  if (o === undefined) throw new Error("unresolved $ref: " + ref);
  return o;
}

// A Reference Object followed to what it names (responses, headers, parameters).
function deref(doc, o) {
  for (let i = 0; o && typeof o === "object" && typeof o.$ref === "string" && i < 20; i++)
    o = pointer(doc, o.$ref);
  return o;
}

// A copy of v with every local "$ref" made absolute under DOC_ID, so that a
// schema compiled on its own resolves its references in the document.
function absoluteRefs(v) {
  if (Array.isArray(v)) return v.map(absoluteRefs);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v))
      out[k] = k === "$ref" && typeof x === "string" && x.startsWith("#") ? DOC_ID + x
                                                                            : absoluteRefs(x);
    return out;
  }
  return v;
}

function makeAjv(doc) {
  // strict off: OpenAPI's own keywords (example, discriminator, xml) are not JSON Schema's
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(absoluteRefs(doc), DOC_ID);
  const cache = new Map();
  return (key, schema) => {
    if (!cache.has(key)) cache.set(key, ajv.compile(absoluteRefs(structuredClone(schema))));
    return cache.get(key);
  };
}

function ajvErrors(errors) {
  return (errors || []).slice(0, 6).map(e => {
    let extra = "";
    if (e.keyword === "additionalProperties" || e.keyword === "unevaluatedProperties")
      extra = " '" + (e.params.additionalProperty || e.params.unevaluatedProperty) + "'";
    else if (e.keyword === "required") extra = " '" + e.params.missingProperty + "'";
    else if (e.keyword === "enum" || e.keyword === "const")
      extra = " " + JSON.stringify(e.params.allowedValues ?? e.params.allowedValue);
    return (e.instancePath || "/") + " " + e.message + extra;
  }).join("; ") + ((errors || []).length > 6 ? "; ..." : "");
}

// Every (name, schema, examples) of the document: media types, parameters, headers, components.
function* schemasOf(doc) {
  function* media(where, content) {
    for (const [type, m] of Object.entries(content || {})) {
      if (!m || !m.schema) continue;
      const ex = [];
      if ("example" in m) ex.push(["example", m.example]);
      for (const [n, e] of Object.entries(m.examples || {})) {
        const x = deref(doc, e);
        if (x && "value" in x) ex.push([n, x.value]);
      }
      yield [where + " " + type, m.schema, ex, type];
    }
  }
  function* response(where, r) {
    r = deref(doc, r);
    yield* media(where, r.content);
    for (const [h, hv] of Object.entries(r.headers || {})) {
      const x = deref(doc, hv);
      if (x.schema) yield [where + " header " + h, x.schema, [], null];
    }
  }
  function* operation(where, op) {
    for (const p of op.parameters || []) {
      const x = deref(doc, p);
      if (x.schema) yield [where + " parameter " + x.name, x.schema,
                           "example" in x ? [["example", x.example]] : [], null];
    }
    if (op.requestBody) yield* media(where + " request", deref(doc, op.requestBody).content);
    for (const [st, r] of Object.entries(op.responses || {})) yield* response(where + " " + st, r);
  }
  for (const [group, items] of [["path", doc.paths], ["webhook", doc.webhooks]])
    for (const [p, item] of Object.entries(items || {})) {
      const it = deref(doc, item);
      for (const pm of it.parameters || []) {
        const x = deref(doc, pm);
        if (x.schema) yield [group + " " + p + " parameter " + x.name, x.schema, [], null];
      }
      for (const m of METHODS)
        if (it[m]) yield* operation(group + " " + m.toUpperCase() + " " + p, it[m]);
    }
  for (const [n, s] of Object.entries(doc.components?.schemas || {}))
    yield ["components.schemas." + n, s, (s.examples || []).map((e, i) => ["examples[" + i + "]", e]),
           null];
}

async function validate(file) {
  const problems = [];
  const v = new Validator();
  const res = await v.validate(file);
  if (!res.valid) {
    console.log("the document is not valid OpenAPI " + (v.version || "") + ":");
    console.log(typeof res.errors === "string" ? res.errors : JSON.stringify(res.errors, null, 2));
    return 1;
  }
  const doc = loadDoc(file);
  if (!/^3\.1\./.test(doc.openapi)) problems.push("openapi is " + doc.openapi + ", not 3.1.x");
  const compile = makeAjv(doc);
  let n = 0;
  for (const [where, schema, examples, type] of schemasOf(doc)) {
    let fn;
    try {
      fn = compile(where, schema);
    } catch (e) {
      problems.push(where + ": the schema does not compile: " + e.message);
      continue;
    }
    n++;
    for (const [name, value] of examples) {
      let x = value;
      if (type && /json/.test(type) && typeof x === "string") {
        try { x = JSON.parse(x); } catch { /* a string example of a JSON string */ }
      }
      if (!fn(x)) problems.push(where + " example " + name + ": " + ajvErrors(fn.errors));
    }
  }
  // every answer carries X-Request-Id, so every response says so
  for (const [p, item] of Object.entries(doc.paths || {}))
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      if (!op.responses || !Object.keys(op.responses).length)
        problems.push(m.toUpperCase() + " " + p + ": no responses");
      for (const [st, r] of Object.entries(op.responses || {})) {
        const hs = Object.keys(deref(doc, r).headers || {}).map(h => h.toLowerCase());
        if (!hs.includes("x-request-id"))
          problems.push(m.toUpperCase() + " " + p + " " + st + ": no X-Request-Id header");
      }
    }
  for (const k of ["unknownPath", "unknownMethod"])
    if (!doc["x-unrouted"]?.[k]) problems.push("x-unrouted." + k + " is missing");
  for (const p of problems) console.log(p);
  console.log("OpenAPI " + doc.openapi + " document valid by " +
              "@seriousme/openapi-schema-validator; " + n + " schemas compiled by ajv; " +
              problems.length + " problems");
  return problems.length ? 1 : 0;
}

// The path templates of the document, literal ones first, as regular
// expressions; a parameter is one path segment of at most
// x-unrouted.paramMaxBytes bytes (as sent, percent-encoded), as in
// mailproof's router.
function routes(doc) {
  const max = Number(doc["x-unrouted"]?.paramMaxBytes) || 1024;
  const list = Object.entries(doc.paths || {}).map(([tpl, item]) => {
    const params = (tpl.match(/\{[^}]+\}/g) || []).length;
    const literal = tpl.split(/\{[^}]+\}/).map(s => s.replace(/[.*+?^$()|[\]\\]/g, "\\$&"));
    const re = new RegExp("^" + literal.join("[^/]{1," + max + "}") + "$");
    return { tpl, item: deref(doc, item), params, re };
  });
  return list.sort((a, b) => a.params - b.params);
}

function answers(docFile, answersFile) {
  const doc = loadDoc(docFile);
  const compile = makeAjv(doc);
  const table = routes(doc);
  const lines = readFileSync(answersFile, "utf-8").split("\n").filter(l => l.trim());
  let failed = 0;

  const fail = (a, why) => {
    failed++;
    const body = String(a.body ?? "").replace(/\s+/g, " ").slice(0, 240);
    console.log("FAIL " + a.method + " " + a.path + " " + a.status + ": " + why +
                (body ? "\n     body: " + body : ""));
  };

  for (const [i, line] of lines.entries()) {
    let a;
    try {
      a = JSON.parse(line);
    } catch (e) {
      fail({ method: "?", path: "line " + (i + 1), status: "?", body: line }, "not JSON: " + e.message);
      continue;
    }
    const path = String(a.path || "").split(/[?#]/)[0];
    const method = String(a.method || "GET").toLowerCase();
    const matching = table.filter(r => r.re.test(path));
    // the operation (or x-unrouted's responses) that answers this request
    let label, responses;
    if (!matching.length) {
      label = "x-unrouted.unknownPath";
      responses = doc["x-unrouted"]?.unknownPath;
    } else {
      const r = matching.find(r => r.item[method] || (method === "head" && r.item.get));
      if (!r) {
        label = "x-unrouted.unknownMethod (" + matching[0].tpl + ")";
        responses = doc["x-unrouted"]?.unknownMethod;
      } else {
        label = (r.item[method] ? method : "get").toUpperCase() + " " + r.tpl;
        responses = (r.item[method] || r.item.get).responses;
      }
    }
    if (!responses) {
      fail(a, "no route of the document matches, and it declares no " + label);
      continue;
    }
    const st = String(a.status);
    const key = [st, st[0] + "XX", "default"].find(k => responses[k]);
    if (!key) {
      fail(a, "status " + st + " is not a response of " + label + " (it declares " +
              Object.keys(responses).join(", ") + ")");
      continue;
    }
    const where = label + " " + key;
    const response = deref(doc, responses[key]);
    // headers the response requires
    const names = (a.headers || []).map(h => String(h).toLowerCase());
    const missing = Object.entries(response.headers || {})
      .filter(([, h]) => deref(doc, h).required)
      .map(([n]) => n).filter(n => !names.includes(n.toLowerCase()));
    if (missing.length) {
      fail(a, where + ": required header(s) missing: " + missing.join(", "));
      continue;
    }
    const content = response.content || {};
    const ctype = String(a.contentType || "").split(";")[0].trim().toLowerCase();
    const isHead = method === "head";
    if (!Object.keys(content).length) {
      if (String(a.body || "") !== "" && !isHead) fail(a, where + " declares no content, got " + ctype);
      continue;
    }
    const mkey = Object.keys(content).find(k => k.split(";")[0].trim().toLowerCase() === ctype);
    if (mkey === undefined) {
      fail(a, where + ": content type '" + a.contentType + "' is not declared (" +
              Object.keys(content).join(", ") + ")");
      continue;
    }
    const schema = content[mkey].schema;
    if (!schema || isHead) continue;
    let value = a.body ?? "";
    if (/json/.test(ctype)) {
      try {
        value = JSON.parse(value);
      } catch (e) {
        fail(a, where + ": the body is not JSON: " + e.message);
        continue;
      }
    }
    const fn = compile(where + " " + mkey, schema);
    if (!fn(value)) fail(a, where + " " + mkey + ": " + ajvErrors(fn.errors));
  }
  console.log(lines.length + " answers checked, " + failed + " failed");
  return failed || !lines.length ? 1 : 0;
}

// Webhook deliveries, one a line {headers, body}: each body against the
// requestBody of webhooks[its type], each header parameter present and valid.
function webhooks(docFile, file) {
  const doc = loadDoc(docFile);
  const compile = makeAjv(doc);
  const lines = readFileSync(file, "utf-8").split("\n").filter(l => l.trim());
  let failed = 0;
  const fail = (w, why) => {
    failed++;
    console.log("FAIL webhook " + (w.headers?.["webhook-id"] || "?") + ": " + why +
                "\n     body: " + String(w.body ?? "").slice(0, 240));
  };
  for (const line of lines) {
    const w = JSON.parse(line);
    let ev;
    try {
      ev = JSON.parse(w.body);
    } catch (e) {
      fail(w, "the body is not JSON: " + e.message);
      continue;
    }
    const op = doc.webhooks?.[ev?.type]?.post;
    if (!op) {
      fail(w, "event type " + JSON.stringify(ev?.type) + " is not among the document's webhooks");
      continue;
    }
    const bad = [];
    for (const p of op.parameters || []) {
      const x = deref(doc, p);
      if (x.in !== "header") continue;
      const v = (w.headers || {})[x.name.toLowerCase()];
      if (v === undefined) {
        if (x.required) bad.push("header " + x.name + " missing");
      } else if (x.schema) {
        const fn = compile("webhook " + ev.type + " header " + x.name, x.schema);
        if (!fn(v)) bad.push("header " + x.name + ": " + ajvErrors(fn.errors));
      }
    }
    const schema = deref(doc, op.requestBody).content["application/json"].schema;
    const fn = compile("webhook " + ev.type, schema);
    if (!fn(ev)) bad.push(ajvErrors(fn.errors));
    if (bad.length) fail(w, ev.type + ": " + bad.join("; "));
  }
  console.log(lines.length + " webhooks checked, " + failed + " failed");
  return failed || !lines.length ? 1 : 0;
}

const [mode, docFile, answersFile] = process.argv.slice(2);
if (mode === "validate" && docFile) process.exit(await validate(docFile));
else if (mode === "answers" && docFile && answersFile) process.exit(answers(docFile, answersFile));
else if (mode === "webhooks" && docFile && answersFile) process.exit(webhooks(docFile, answersFile));
else usage();
