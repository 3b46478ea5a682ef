'use strict';
// A pthread of the threaded tfjs-backend-wasm build under Node. The package ships its pthread
// worker script only as a string (made for a blob: URL, which Node's Worker cannot start), so this
// file runs that string. It reads the glue script by path (`importScripts`) and instantiates the
// module over the shared memory the main thread sends it.
const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');

// The string holds raw newlines inside its string literals (tfjs escapes them before it makes its
// blob, and so does this).
eval(wasmWorkerContents.replace(/\n/g, '\\n'));
