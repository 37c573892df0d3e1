export { SourceMapResolver, sourceMapOf, type OriginalPosition } from './resolver.js';
