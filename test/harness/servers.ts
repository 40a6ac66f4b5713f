// Entry point for tests that run the real servers on rendered output (see DESIGN.md, "Running the
// real servers in tests"). Each launcher lives in its own file; this one only re-exports.
export { startNginx, nginxCheck } from "./nginx.ts";
export { startApache, apacheCheck, readApacheHeaders, DEBIAN_DEFAULT_MODULES } from "./apache.ts";
export { startCaddy, caddyValidate, caddyFmt, caddyFmtUnchanged, caddyListenPorts } from "./caddy.ts";
export { findBinary, requireBinary, openUp, SETUP_HINT } from "./proc.ts";
export { listeningPorts, type Running } from "./launch.ts";
export { freePorts, releasePorts } from "./ports.ts";
export { makeTestPki, type TestPki } from "./certs.ts";
export { startStub, type Stub, type StubRecord } from "./stub.ts";
export { probe, type ProbeRequest, type ProbeResponse } from "./client.ts";
