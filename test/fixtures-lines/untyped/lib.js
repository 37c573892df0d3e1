'use strict';
// A .js file in a package.json without "type", loaded by require().
exports.make = function make(n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push({ i }); // @untyped
  return out;
};
