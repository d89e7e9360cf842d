#!/usr/bin/env node
/** protoc-gen-tsgrpc: reads a CodeGeneratorRequest on stdin, writes a CodeGeneratorResponse on stdout. */
import { runPlugin } from '../protobuf/plugin.js';

const chunks: Buffer[] = [];
process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
process.stdin.on('end', () => {
  process.stdout.write(runPlugin(Buffer.concat(chunks)));
});
