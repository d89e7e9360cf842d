import { decodeFileDescriptor, type EnumObject, type FileDescriptorObject, type MessageObject } from '../protobuf/descriptor-proto.js';

interface PoolFile {
  dependencies: string[];
  bytes: Uint8Array;
}

/**
 * Every file behind the registered services (serialized FileDescriptorProtos), indexed the ways
 * reflection asks: by file name, by symbol, and by extension. The first file to declare a file
 * name or symbol wins, so a file given twice is served once, as the bytes it was given as.
 */
export class DescriptorPool {
  private readonly files = new Map<string, PoolFile>();
  private readonly symbols = new Map<string, string>();
  private readonly messages = new Set<string>();
  private readonly extensions = new Map<string, Map<number, string>>();

  constructor(files: Iterable<Uint8Array>) {
    for (const bytes of files) {
      const file = decodeFileDescriptor(bytes);
      const name = file.name ?? '';
      if (this.files.has(name)) continue;
      this.files.set(name, { dependencies: file.dependency, bytes });
      this.index(file, name);
    }
  }

  private index(file: FileDescriptorObject, fileName: string): void {
    const declare = (symbol: string) => {
      if (!this.symbols.has(symbol)) this.symbols.set(symbol, fileName);
    };
    const extensions = (scope: string, fields: MessageObject['extension']) => {
      for (const field of fields) {
        declare(`${scope}${field.name}`);
        const extendee = (field.extendee ?? '').replace(/^\./, '');
        let byNumber = this.extensions.get(extendee);
        if (!byNumber) this.extensions.set(extendee, (byNumber = new Map()));
        if (!byNumber.has(field.number ?? 0)) byNumber.set(field.number ?? 0, fileName);
      }
    };
    // Enum values are scoped next to their enum, not inside it.
    const enums = (scope: string, list: EnumObject[]) => {
      for (const e of list) {
        declare(`${scope}${e.name}`);
        for (const value of e.value) declare(`${scope}${value.name}`);
      }
    };
    const messages = (scope: string, list: MessageObject[]) => {
      for (const message of list) {
        const full = `${scope}${message.name}`;
        declare(full);
        this.messages.add(full);
        for (const part of [...message.field, ...message.oneof_decl]) declare(`${full}.${part.name}`);
        messages(`${full}.`, message.nested_type);
        enums(`${full}.`, message.enum_type);
        extensions(`${full}.`, message.extension);
      }
    };
    const scope = file.package ? `${file.package}.` : '';
    messages(scope, file.message_type);
    enums(scope, file.enum_type);
    extensions(scope, file.extension);
    for (const service of file.service) {
      declare(`${scope}${service.name}`);
      for (const method of service.method) declare(`${scope}${service.name}.${method.name}`);
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
        out.push(file.bytes);
        alreadySent.add(next);
      }
      queue.push(...file.dependencies);
    }
    return out;
  }
}
