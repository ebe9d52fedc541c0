// pare-test/node: a small express JSON API on port 8080.
"use strict";

const express = require("express");

const app = express();
app.use(express.json());

const users = [
  { id: 1, name: "ada" },
  { id: 2, name: "linus" },
];

app.get("/", (_req, res) => {
  res.json({ message: "hello from pare-test/node", node: process.versions.node });
});

app.get("/health", (_req, res) => res.json({ status: "ok" }));

app.get("/api/users", (_req, res) => res.json({ users }));

app.get("/api/users/:id", (req, res) => {
  const user = users.find((u) => u.id === Number(req.params.id));
  if (!user) return res.status(404).json({ error: "not found" });
  return res.json(user);
});

app.post("/api/echo", (req, res) => res.status(201).json({ echo: req.body }));

const port = Number(process.env.PORT || 8080);
const server = app.listen(port, "0.0.0.0", () => {
  console.log(`pare-test/node listening on ${port}`);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
