// pare-test/vulnapp's command-line helper: parses its arguments with minimist
// (1.2.5, GHSA-xvch-5gv4-984h) and prints them as JSON.
const argv = require('minimist')(process.argv.slice(2));
console.log(JSON.stringify(argv));
