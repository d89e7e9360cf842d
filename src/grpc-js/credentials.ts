import { CallCredentials as NativeCallCredentials, GrpcError, Metadata as NativeMetadata, Status, type ClientTlsOptions, type ServerTlsOptions } from '../index.js';
import type { PeerCertificate, SecureContext } from 'node:tls';
import { Metadata, toNative } from './metadata.js';

function notYet(what: string): never {
  throw new Error(`tsgrpc/grpc-js: ${what} is not supported yet; keep using @grpc/grpc-js for programs that need it`);
}

function bufferOrNull(value: unknown, name: string): void {
  if (value && !Buffer.isBuffer(value)) throw new TypeError(`${name}, if provided, must be a Buffer.`);
}

/** What a metadata generator is told about the call it makes metadata for. */
export interface CallMetadataOptions {
  /** The method's full path, `/package.Service/Method`. */
  method_name: string;
  /** The service's URL, `https://host/package.Service` (without the port, as in grpc-js). */
  service_url: string;
}
/** Makes a call's metadata: calls back with the metadata, or with an error that fails the call. */
export type CallMetadataGenerator = (options: CallMetadataOptions, callback: (err: Error | null, metadata?: Metadata) => void) => void;

/**
 * grpc-js's per-call credentials, on the native CallCredentials layer: each
 * generator runs before a call starts and its metadata is added to the call.
 * A generator's error fails the call with grpc-js's status (see generatorError).
 */
export class CallCredentials {
  /** @internal: undefined for the empty credentials. */
  readonly _native: NativeCallCredentials | undefined;

  private constructor(native: NativeCallCredentials | undefined) {
    this._native = native;
  }

  /** Call credentials whose generator runs before each call, adding its metadata to the call's. */
  static createFromMetadataGenerator(generator: CallMetadataGenerator): CallCredentials {
    if (typeof generator !== 'function') throw new TypeError('the metadata generator must be a function');
    return new CallCredentials(NativeCallCredentials.fromMetadataGenerator((context) => new Promise((resolve, reject) => {
      // grpc-js's service_url names the host without the port.
      const serviceUrl = context.serviceUrl.replace(/^(https:\/\/(?:\[[^\]]*\]|[^/:]*)):\d+/, '$1');
      generator({ service_url: serviceUrl, method_name: context.method }, (err, metadata) => {
        if (metadata !== undefined && metadata !== null) return resolve(toNative(metadata) ?? new NativeMetadata());
        reject(generatorError(err));
      });
    })));
  }

  /**
   * Headers from a google-auth-library client: getRequestHeaders(url) on current ones,
   * getRequestMetadata(url, callback) on old ones, as grpc-js asks them.
   */
  static createFromGoogleCredential(googleCredentials: GoogleCredentials): CallCredentials {
    const current = typeof googleCredentials?.getRequestHeaders === 'function';
    if (!current && typeof googleCredentials?.getRequestMetadata !== 'function') {
      throw new TypeError('createFromGoogleCredential needs a google-auth-library client (with getRequestHeaders or getRequestMetadata)');
    }
    return CallCredentials.createFromMetadataGenerator((options, callback) => {
      const headers = current
        ? Promise.resolve(googleCredentials.getRequestHeaders!(options.service_url))
        : new Promise<HeaderSource>((resolve, reject) => googleCredentials.getRequestMetadata!(options.service_url, (err, value) => {
          if (err) reject(err);
          else if (!value) reject(new Error('Headers not set by metadata plugin'));
          else resolve(value);
        }));
      headers.then((value) => callback(null, headersToMetadata(value)), (err: Error) => callback(err));
    });
  }

  /** Call credentials that add nothing. */
  static createEmpty(): CallCredentials {
    return new CallCredentials(undefined);
  }

  /** Credentials that run this generator and then `other`'s, adding both one's metadata. */
  compose(other: CallCredentials): CallCredentials {
    const theirs = callCredentialsOf(other);
    if (!theirs) return this;
    return new CallCredentials(this._native ? this._native.compose(theirs) : theirs);
  }
}

/** Request headers as google-auth-library returns them: a plain record or a Headers-like object. */
export type HeaderSource = Record<string, string> | {
  /** Calls `fn` with each header. */
  forEach(fn: (value: string, key: string) => void): void;
};

/** What `createFromGoogleCredential` needs of a google-auth-library client: either way of getting request headers. */
export interface GoogleCredentials {
  /** The newer google-auth-library API. */
  getRequestHeaders?(url?: string): Promise<HeaderSource> | HeaderSource;
  /** The older, callback-style API. */
  getRequestMetadata?(url: string, callback: (err: Error | null, headers?: HeaderSource) => void): void;
}

/** A plain header object (older google-auth-library) or a fetch Headers (v10 and later). */
function headersToMetadata(headers: HeaderSource): Metadata {
  const metadata = new Metadata();
  if (typeof headers.forEach === 'function' && !Array.isArray(headers)) {
    (headers as { forEach(fn: (value: string, key: string) => void): void }).forEach((value, key) => metadata.add(key, value));
  } else {
    for (const [key, value] of Object.entries(headers as Record<string, string>)) metadata.add(key, value);
  }
  return metadata;
}

/**
 * A generator's error as grpc-js reports it: its own numeric code, else
 * UNKNOWN; the native layer then turns codes reserved for applications into
 * INTERNAL (gRFC A54), as grpc-js does.
 */
function generatorError(err: Error | null): GrpcError {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err?.message ?? 'no metadata';
  return new GrpcError(typeof code === 'number' ? code : Status.UNKNOWN, `Getting metadata from plugin failed with error: ${message}`);
}

/** The native credentials of our CallCredentials (any copy of this module), by shape. */
export function callCredentialsOf(credentials: unknown): NativeCallCredentials | undefined {
  if (typeof credentials !== 'object' || credentials === null || !('_native' in credentials)) {
    throw new TypeError('call credentials must be made by tsgrpc/grpc-js (credentials.createFromMetadataGenerator)');
  }
  return (credentials as CallCredentials)._native;
}

/** How a channel connects: plaintext (h2c) or TLS with the given roots and optional client certificate. */
export class ChannelCredentials {
  /** Read by shape (see channelTls), so credentials from another copy of this module work too. */
  readonly _tsgrpcTls: ClientTlsOptions | undefined;
  /** Call credentials composed in, applied to every call on the channel. */
  readonly _tsgrpcCall: NativeCallCredentials | undefined;

  /** Called by the static factories; `tls` undefined means plaintext. */
  protected constructor(tls: ClientTlsOptions | undefined, call?: NativeCallCredentials) {
    this._tsgrpcTls = tls;
    this._tsgrpcCall = call;
  }

  /** Whether these credentials use TLS. */
  _isSecure(): boolean {
    return this._tsgrpcTls !== undefined;
  }

  /** These credentials with call credentials added to every call; throws on insecure credentials, as grpc-js does. */
  compose(callCredentials: CallCredentials): ChannelCredentials {
    if (!this._isSecure()) throw new Error('Cannot compose insecure credentials');
    const added = callCredentialsOf(callCredentials);
    if (!added) return this;
    return new ChannelCredentials(this._tsgrpcTls, this._tsgrpcCall ? this._tsgrpcCall.compose(added) : added);
  }

  /** Plaintext (h2c) credentials, without TLS. */
  static createInsecure(): ChannelCredentials {
    return new ChannelCredentials(undefined);
  }

  /** TLS credentials: root certificates (default: Node's), and optionally a client key and certificate chain. */
  static createSsl(rootCerts?: Buffer | null, privateKey?: Buffer | null, certChain?: Buffer | null, verifyOptions?: VerifyOptions): ChannelCredentials {
    bufferOrNull(rootCerts, 'Root certificate');
    bufferOrNull(privateKey, 'Private key');
    bufferOrNull(certChain, 'Certificate chain');
    if (privateKey && !certChain) throw new Error('Private key must be given with accompanying certificate chain');
    if (!privateKey && certChain) throw new Error('Certificate chain must be given with accompanying private key');
    return new ChannelCredentials({ ca: rootCerts ?? undefined, key: privateKey ?? undefined, cert: certChain ?? undefined, ...verification(verifyOptions) });
  }

  /** TLS with a context from tls.createSecureContext(), used as it is. */
  /** TLS from a ready-made `tls.SecureContext` (for example one shared with an HTTPS server). */
  static createFromSecureContext(secureContext: SecureContext, verifyOptions?: VerifyOptions): ChannelCredentials {
    if (typeof secureContext !== 'object' || secureContext === null) throw new TypeError('secureContext must be the result of tls.createSecureContext()');
    return new ChannelCredentials({ secureContext, ...verification(verifyOptions) });
  }
}

/** grpc-js's VerifyOptions: checkServerIdentity replaces the host name check; rejectUnauthorized false skips verification. */
export interface VerifyOptions {
  /** Replaces the host name check; return an Error to refuse the server. */
  checkServerIdentity?: (hostname: string, cert: PeerCertificate) => Error | undefined;
  /** false skips certificate verification (never in production). */
  rejectUnauthorized?: boolean;
}

function verification(options: VerifyOptions | undefined): Pick<ClientTlsOptions, 'checkServerIdentity' | 'rejectUnauthorized'> {
  const out: Pick<ClientTlsOptions, 'checkServerIdentity' | 'rejectUnauthorized'> = {};
  if (!options) return out;
  if (options.checkServerIdentity !== undefined) {
    if (typeof options.checkServerIdentity !== 'function') throw new TypeError('checkServerIdentity must be a function');
    out.checkServerIdentity = options.checkServerIdentity;
  }
  if (options.rejectUnauthorized !== undefined) out.rejectUnauthorized = Boolean(options.rejectUnauthorized);
  return out;
}

/**
 * The TLS options of any channel credentials: ours (from any copy of this
 * module) by shape, and @grpc/grpc-js's insecure and plain TLS ones (its
 * createSsl and createFromSecureContext keep a SecureContext and verify
 * options, which the native channel takes as they are).
 */
export function channelTls(credentials: unknown): ClientTlsOptions | undefined {
  const creds = credentials as Partial<ChannelCredentials> | null;
  if (typeof creds !== 'object' || creds === null || typeof creds._isSecure !== 'function') {
    throw new TypeError('Channel credentials must be a ChannelCredentials object');
  }
  if ('_tsgrpcTls' in creds) return creds._tsgrpcTls;
  if (!creds._isSecure()) return undefined;
  const foreign = creds as { secureContext?: unknown; verifyOptions?: VerifyOptions };
  if (isSecureContext(foreign.secureContext)) return { secureContext: foreign.secureContext, ...verification(foreign.verifyOptions) };
  return notYet('these TLS credentials from another gRPC library (composed with call credentials, or of an unknown kind); make them with tsgrpc/grpc-js credentials');
}

function isSecureContext(value: unknown): value is SecureContext {
  return typeof value === 'object' && value !== null && 'context' in value;
}

/** The call credentials composed into channel credentials, if any. */
export function channelCallCredentials(credentials: unknown): NativeCallCredentials | undefined {
  return (credentials as Partial<ChannelCredentials>)._tsgrpcCall;
}

/** A server's private key with its certificate chain, both PEM. */
export interface KeyCertPair {
  /** The private key, PEM. */
  private_key: Buffer;
  /** The certificate chain, PEM. */
  cert_chain: Buffer;
}

/** How a server listens: plaintext (h2c) or TLS with the given certificates. */
export class ServerCredentials {
  /** The native TLS options, read by shape so credentials from another copy of this module work too. */
  readonly _tsgrpcTls: ServerTlsOptions | undefined;

  /** Called by the static factories; `tls` undefined means plaintext. */
  protected constructor(tls: ServerTlsOptions | undefined) {
    this._tsgrpcTls = tls;
  }

  /** Whether these credentials use TLS. */
  _isSecure(): boolean {
    return this._tsgrpcTls !== undefined;
  }

  /** Plaintext (h2c) server credentials. */
  static createInsecure(): ServerCredentials {
    return new ServerCredentials(undefined);
  }

  /** TLS server credentials; with `checkClientCertificate`, clients must present a certificate signed by `rootCerts`. */
  static createSsl(rootCerts: Buffer | null, keyCertPairs: KeyCertPair[], checkClientCertificate = false): ServerCredentials {
    if (rootCerts !== null && !Buffer.isBuffer(rootCerts)) throw new TypeError('rootCerts must be null or a Buffer');
    if (!Array.isArray(keyCertPairs)) throw new TypeError('keyCertPairs must be an array');
    if (typeof checkClientCertificate !== 'boolean') throw new TypeError('checkClientCertificate must be a boolean');
    keyCertPairs.forEach((pair, i) => {
      if (pair === null || typeof pair !== 'object') throw new TypeError(`keyCertPair[${i}] must be an object`);
      if (!Buffer.isBuffer(pair.private_key)) throw new TypeError(`keyCertPair[${i}].private_key must be a Buffer`);
      if (!Buffer.isBuffer(pair.cert_chain)) throw new TypeError(`keyCertPair[${i}].cert_chain must be a Buffer`);
    });
    if (checkClientCertificate && rootCerts === null) notYet('checkClientCertificate without rootCerts (system roots for client certificates)');
    return new ServerCredentials({
      key: keyCertPairs.map((pair) => pair.private_key),
      cert: keyCertPairs.map((pair) => pair.cert_chain),
      ca: rootCerts ?? undefined,
      requestClientCert: checkClientCertificate,
    });
  }
}

/**
 * Server TLS options from our ServerCredentials (any copy), or grpc-js's insecure
 * ones and those from its createSsl (which keeps the Node TLS options it builds).
 */
export function serverTls(credentials: unknown): ServerTlsOptions | undefined {
  const creds = credentials as Partial<ServerCredentials> | null;
  if (typeof creds !== 'object' || creds === null || typeof creds._isSecure !== 'function') {
    throw new TypeError('creds must be a ServerCredentials object');
  }
  if ('_tsgrpcTls' in creds) return creds._tsgrpcTls;
  if (!creds._isSecure()) return undefined;
  const options = (creds as { options?: { key?: unknown; cert?: unknown; ca?: unknown; requestCert?: unknown } }).options;
  const buffers = (value: unknown): value is Buffer[] => Array.isArray(value) && value.every((b) => Buffer.isBuffer(b));
  if (options && buffers(options.key) && buffers(options.cert) && typeof options.requestCert === 'boolean') {
    const ca = Buffer.isBuffer(options.ca) ? options.ca : undefined;
    if (options.requestCert && !ca) notYet('checkClientCertificate without rootCerts (system roots for client certificates)');
    return { key: options.key, cert: options.cert, ca, requestClientCert: options.requestCert };
  }
  return notYet('these TLS server credentials from another gRPC library (of a kind it cannot read); make them with tsgrpc/grpc-js ServerCredentials.createSsl');
}

/** grpc-js's `credentials` namespace object. */
export const credentials = {
  /** Plaintext channel credentials; see `ChannelCredentials.createInsecure`. */
  createInsecure: ChannelCredentials.createInsecure,
  /** TLS channel credentials; see `ChannelCredentials.createSsl`. */
  createSsl: ChannelCredentials.createSsl,
  /** TLS channel credentials from a `tls.SecureContext`; see `ChannelCredentials.createFromSecureContext`. */
  createFromSecureContext: ChannelCredentials.createFromSecureContext,
  /** Call credentials from a metadata generator; see `CallCredentials.createFromMetadataGenerator`. */
  createFromMetadataGenerator: CallCredentials.createFromMetadataGenerator,
  /** Call credentials from a google-auth-library client; see `CallCredentials.createFromGoogleCredential`. */
  createFromGoogleCredential: CallCredentials.createFromGoogleCredential,
  /** Channel credentials with each of the call credentials composed in. */
  combineChannelCredentials(channel: ChannelCredentials, ...call: CallCredentials[]): ChannelCredentials {
    return call.reduce((acc, c) => acc.compose(c), channel);
  },
  /** Call credentials that apply each of the given ones in turn. */
  combineCallCredentials(first: CallCredentials, ...rest: CallCredentials[]): CallCredentials {
    return rest.reduce((acc, c) => acc.compose(c), first);
  },
};
