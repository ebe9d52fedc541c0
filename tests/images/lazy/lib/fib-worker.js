// pare-test/lazy: run in a worker thread by GET /fib.
"use strict";

const { parentPort, workerData } = require("worker_threads");

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

parentPort.postMessage(fib(workerData));
