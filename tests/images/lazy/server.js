// pare-test/lazy: an express app on port 8083 whose GET / needs nothing
// beyond express, and whose other routes load code and files only when first
// called: GET /render loads ./lib/render (and through it the npm package
// marked and content/hello.md); GET /settings loads ./lib/settings and
// Debian's js-yaml (/usr/share/nodejs); every page rendered from views/ makes
// express require Debian's ejs by the name in "view engine" (a name no
// require() in the app spells out); GET /fib starts a worker thread from
// lib/fib-worker.js; the notes form writes under /tmp/notes. A tracer that
// probes only GET / sees none of it.
"use strict";

const path = require("path");
const express = require("express");

const app = express();
app.set("views", path.join(__dirname, "views"));
app.set("view engine", "ejs");

app.use("/static", express.static(path.join(__dirname, "public")));

app.get("/", (_req, res) => {
  res.json({ message: "hello from pare-test/lazy", node: process.versions.node });
});

app.get("/health", (_req, res) => res.json({ status: "ok" }));

// Which of the app's own modules and packages are loaded so far (so tests
// can tell that GET / left lib/render.js and marked unloaded).
app.get("/loaded", (_req, res) => {
  const loaded = Object.keys(require.cache)
    .filter((f) => f.startsWith(__dirname + path.sep))
    .map((f) => path.relative(__dirname, f))
    .filter((f) => !f.startsWith("node_modules" + path.sep) || /^node_modules\/marked\//.test(f));
  res.json({ loaded: loaded.sort() });
});

app.get("/render", (req, res) => {
  // Lazy on purpose: loaded on the first GET /render, not at start.
  const { render } = require("./lib/render");
  res.type("html").send(render(typeof req.query.md === "string" ? req.query.md : undefined));
});

const ITEMS = [
  { id: 1, name: "Teapot", price: 24.5 },
  { id: 2, name: "Kettle", price: 39 },
  { id: 3, name: "Cup", price: 4.25 },
];

app.get("/about", (_req, res) => res.render("about", { title: "About" }));
app.get("/items", (_req, res) => res.render("items", { title: "Items", items: ITEMS }));
app.get("/items/:id", (req, res, next) => {
  const item = ITEMS.find((i) => String(i.id) === req.params.id);
  if (!item) return next();
  res.render("item", { title: item.name, item });
});

// YAML through Debian's node-js-yaml, required on the first call only.
app.get("/settings", (_req, res) => res.json(require("./lib/settings").load()));
app.get("/settings.yaml", (_req, res) =>
  res.type("text/yaml").send(require("./lib/settings").dump()),
);

// Money and dates in the caller's locale (ICU).
app.get("/price", (req, res) => {
  const locale = String(req.query.locale || "en-US");
  const amount = Number(req.query.amount || 1234.5);
  const when = new Date(Date.UTC(2024, 6, 1, 12, 0, 0));
  res.json({
    price: new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" }).format(amount),
    date: new Intl.DateTimeFormat(locale, {
      dateStyle: "full",
      timeStyle: "long",
      timeZone: String(req.query.zone || "UTC"),
    }).format(when),
  });
});

app.get("/hash", (req, res) => {
  const crypto = require("crypto");
  const text = String(req.query.text || "");
  res.json({
    sha256: crypto.createHash("sha256").update(text).digest("hex"),
    sha1: crypto.createHash("sha1").update(text).digest("hex"),
    hmac: crypto.createHmac("sha512", "pare").update(text).digest("base64"),
  });
});

app.get("/export.gz", (_req, res) => {
  const zlib = require("zlib");
  res.type("application/gzip").send(zlib.gzipSync(JSON.stringify(ITEMS)));
});

// A worker thread, started from a file no require() names.
app.get("/fib", (req, res, next) => {
  const { Worker } = require("worker_threads");
  const worker = new Worker(path.join(__dirname, "lib", "fib-worker.js"), {
    workerData: Math.min(Number(req.query.n) || 20, 30),
  });
  worker.once("message", (value) => res.json({ fib: value }));
  worker.once("error", next);
});

// The notes form: a urlencoded POST, a JSON API, a 405 for other methods.
const NOTES = "/tmp/notes";
function readNotes() {
  const fs = require("fs");
  try {
    return fs.readFileSync(path.join(NOTES, "notes.txt"), "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}
function addNote(text) {
  const fs = require("fs");
  fs.mkdirSync(NOTES, { recursive: true });
  fs.appendFileSync(path.join(NOTES, "notes.txt"), text.replace(/\s+/g, " ") + "\n");
}
app.get("/notes", (_req, res) => res.render("notes", { title: "Notes", notes: readNotes(), error: null }));
app.post("/notes", express.urlencoded({ extended: true }), (req, res) => {
  const text = req.body && typeof req.body.text === "string" ? req.body.text.trim() : "";
  if (!text) {
    return res.status(400).render("notes", { title: "Notes", notes: readNotes(), error: "A note needs text." });
  }
  addNote(text);
  res.redirect(303, "/notes");
});
app.all("/notes", (_req, res) => res.set("Allow", "GET, POST").status(405).render("error", {
  title: "Method not allowed", status: 405, message: "Use GET or POST.",
}));
app.post("/api/notes", express.json(), (req, res) => {
  if (!req.body || typeof req.body.text !== "string") {
    return res.status(400).json({ error: "text must be a string" });
  }
  addNote(req.body.text);
  res.status(201).json({ notes: readNotes().length });
});

app.get("/boom", () => {
  throw new Error("boom on purpose");
});

app.use((_req, res) => res.status(404).render("404", { title: "Not found" }));

// eslint-disable-next-line no-unused-vars
app.use((err, req, res, _next) => {
  const status = err.status || err.statusCode || 500;
  if (req.path.startsWith("/api/")) {
    return res.status(status).json({ error: err.type || "error", status });
  }
  res.status(status).render("error", {
    title: "Error",
    status,
    message: status === 500 ? "Something broke." : err.message,
  });
});

const port = Number(process.env.PORT || 8083);
const server = app.listen(port, "0.0.0.0", () => {
  console.log(`pare-test/lazy listening on ${port}`);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
