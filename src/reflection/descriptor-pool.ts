import type protobuf from 'protobufjs';
import { encodeFileDescriptor } from './descriptor-proto.js';
import { buildFiles } from './file-descriptors.js';

interface PoolFile {
  dependencies: string[];
  descriptor: Record<string, unknown>;
  bytes?: Uint8Array;
}

/**
 * Every file behind a set of Roots, indexed the ways reflection asks:
 * by file name, by symbol, and by extension. The first Root to declare a
 * file name or symbol wins, so a file loaded twice is served once.
 */
export class DescriptorPool {
  private readonly files = new Map<string, PoolFile>();
  private readonly symbols = new Map<string, string>();
  private readonly messages = new Set<string>();
  private readonly extensions = new Map<string, Map<number, string>>();

  constructor(roots: Iterable<protobuf.Root>) {
    for (const root of roots) {
      for (const file of buildFiles(root)) {
        if (this.files.has(file.name)) continue;
        this.files.set(file.name, { dependencies: file.dependencies, descriptor: file.descriptor });
        for (const symbol of file.symbols) if (!this.symbols.has(symbol)) this.symbols.set(symbol, file.name);
        for (const message of file.messages) this.messages.add(message);
        for (const { extendee, number } of file.extensions) {
          let byNumber = this.extensions.get(extendee);
          if (!byNumber) this.extensions.set(extendee, (byNumber = new Map()));
          if (!byNumber.has(number)) byNumber.set(number, file.name);
        }
      }
    }
  }

  hasFile(name: string): boolean {
    return this.files.has(name);
  }

  fileOfSymbol(symbol: string): string | undefined {
    return this.symbols.get(symbol.replace(/^\./, ''));
  }

  fileOfExtension(extendee: string, number: number): string | undefined {
    return this.extensions.get(extendee.replace(/^\./, ''))?.get(number);
  }

  /** The extension numbers known for a message, or undefined if there is no such message. */
  extensionNumbers(message: string): number[] | undefined {
    const name = message.replace(/^\./, '');
    if (!this.messages.has(name)) return undefined;
    return [...(this.extensions.get(name)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /**
   * The encoded file followed by its transitive dependencies, skipping
   * dependencies listed in `alreadySent` (the requested file always goes out).
   * Names are added to `alreadySent`.
   */
  fileWithDependencies(name: string, alreadySent: Set<string>): Uint8Array[] {
    const out: Uint8Array[] = [];
    const queue = [name];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (seen.has(next)) continue;
      seen.add(next);
      const file = this.files.get(next);
      if (!file) continue; // a dependency we cannot describe: the client reports it by name
      if (next === name || !alreadySent.has(next)) {
        out.push((file.bytes ??= encodeFileDescriptor(file.descriptor)));
        alreadySent.add(next);
      }
      queue.push(...file.dependencies);
    }
    return out;
  }
}
