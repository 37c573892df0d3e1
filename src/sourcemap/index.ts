export { SourceMapResolver, type OriginalPosition } from './resolver.js';
