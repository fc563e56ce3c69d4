/** The error → gRPC status table: every code has one, and evidence failures never read as INTERNAL. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorDocs, KeywardError } from "@keyward/attest/errors";
import { fromConnectError, isKnownErrorCode, toConnectError } from "../../src/errors/connect.ts";
import { ALL_ERROR_DOCS } from "../../src/errors/docs.ts";
import { STATUS } from "../../src/errors/status.ts";

describe("error statuses", () => {
  it("gives every code of both catalogues exactly one status", () => {
    assert.deepEqual(Object.keys(STATUS).sort(), Object.keys(ALL_ERROR_DOCS).sort());
    for (const code of Object.keys(errorDocs)) assert.ok(isKnownErrorCode(code));
    assert.ok(isKnownErrorCode("ERR_SERVICE_DENIED"));
    assert.ok(!isKnownErrorCode("ERR_NOT_A_CODE"));
  });

  it("never maps evidence that does not parse or verify to INTERNAL", () => {
    for (const [code, status] of Object.entries(STATUS))
      if (/^ERR_(BYTES|DER|X509|CRL|PCK|DCAP|TPM|CBOR|RATLS|COLLATERAL_MALFORMED)_?/.test(code))
        assert.notEqual(status, Code.Internal, code);
  });

  it("carries the code to the client and back", () => {
    const e = toConnectError(new KeywardError("ERR_SERVICE_DENIED", "no policy accepts the caller"));
    assert.equal(e.code, Code.PermissionDenied);
    assert.equal(fromConnectError(e).code, "ERR_SERVICE_DENIED");
    assert.equal(toConnectError(new Error("boom")).code, Code.Internal);
    assert.equal(toConnectError(new Error("boom")).rawMessage, "ERR_INTERNAL: internal error");
    assert.equal(fromConnectError(new ConnectError("socket hang up", Code.Unavailable)).code, "ERR_IO");
  });
});
