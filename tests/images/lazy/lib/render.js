// pare-test/lazy: Markdown to HTML. Loaded lazily by GET /render; marked and
// the default page (content/hello.md) are loaded lazily here too.
"use strict";

const fs = require("fs");
const path = require("path");

function render(markdown) {
  const { marked } = require("marked");
  const source =
    markdown !== undefined
      ? markdown
      : fs.readFileSync(path.join(__dirname, "..", "content", "hello.md"), "utf8");
  return marked.parse(source);
}

module.exports = { render };
