#!/usr/bin/env node
'use strict'
// CommonJS body: top-level return, require, module.exports, `this`.
const path = require('node:path');
const out = [];
const fnName = function () {}.name;
out.push(['this is exports', this === module.exports], [typeof require, typeof __filename]);
module.exports = { made: () => [1], more: function () {} };
out.push(['names', module.exports.made(), module.exports.made.name, module.exports.more.name, fnName]);
exports.x = [path.basename('/a/b.js')];
var globalThisLike = [globalThis === global];
out.push(globalThisLike, [(function () { return this === undefined; })()]);
if (out.length > 0) {
  console.log(JSON.stringify(out));
  return;
}
console.log('unreachable');
