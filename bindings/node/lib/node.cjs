'use strict';
// CommonJS entry point: the same module instance as the ESM entry (require(esm), Node >= 20.19),
// so keys and errors are shared between `import` and `require` consumers.
module.exports = require('./node.mjs');
