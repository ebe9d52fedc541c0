// pare-test/lazy: a second command in the image (`node /app/cli.js WHAT`).
"use strict";

const what = process.argv[2] || "settings";
if (what === "settings") {
  process.stdout.write(require("./lib/settings").dump());
} else if (what === "render") {
  process.stdout.write(require("./lib/render").render(process.argv[3]));
} else {
  console.error(`cli.js: unknown command ${what}`);
  process.exit(2);
}
