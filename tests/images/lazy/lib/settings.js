// pare-test/lazy: the shop's settings, read from content/settings.yaml with
// Debian's js-yaml (node-js-yaml, /usr/share/nodejs/js-yaml). Loaded lazily by
// GET /settings and by cli.js.
"use strict";

const fs = require("fs");
const path = require("path");
const yaml = require("js-yaml");

const FILE = path.join(__dirname, "..", "content", "settings.yaml");

function load() {
  return yaml.load(fs.readFileSync(FILE, "utf8"));
}

function dump() {
  return yaml.dump(load(), { sortKeys: true });
}

module.exports = { load, dump };
