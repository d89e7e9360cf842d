// Imported first by test files that give @grpc/grpc-js a `dns://<server>/name` target: grpc-js
// asks the target's DNS server (rather than the system resolver) only with this variable set,
// and reads it once, when it loads.
process.env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER = 'true';
