// pare-test/lazy: an express app on port 8083 whose GET / needs nothing
// beyond express, and whose GET /render loads ./lib/render (and through it
// the npm package marked and content/hello.md) only when first called. A
// tracer that probes only GET / never sees those files.
"use strict";

const path = require("path");
const express = require("express");

const app = express();

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

const port = Number(process.env.PORT || 8083);
const server = app.listen(port, "0.0.0.0", () => {
  console.log(`pare-test/lazy listening on ${port}`);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
