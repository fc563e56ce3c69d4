/**
 * The OTP feature's pure parts: the `otpEnrollment` / `otpRequired` grants (every problem named),
 * which rule applies, `ACCOUNT:CODE` parsing (fuzzed: never anything but ERR_OTP_INVALID), account
 * names and issuers, sealing (a blob moved to another account or generation does not open), and
 * lockout lengths.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { isKeywardError } from "@keyward/attest/errors";
import fc from "fast-check";
import { policyReader } from "../../kernel/grants.ts";
import { parsePresentedCode, presentedCodeOf } from "../../kernel/second-factor.ts";
import { grantEnrollment, OTP_ENROLLMENT, OTP_REQUIRED, requiredAccount } from "./grants.ts";
import { checkAccountName, checkIssuer, checkRoles } from "./names.ts";
import { openOtpSecret, sealOtpSecret } from "./sealing.ts";
import { HARD_FAILURE_LIMIT, lockoutMs, MAX_LOCKOUT_SECONDS } from "./verifier.ts";

const POLICY_READER = policyReader([OTP_ENROLLMENT, OTP_REQUIRED]);
const base = { id: "p", mrEnclave: ["00".repeat(32)], platforms: ["simulated"] };
const problemsOf = (doc: object): string[] => {
  try {
    POLICY_READER.policy({ ...base, ...doc }, "t.json");
  } catch (e) {
    return (e as { detail: { problems: string[] } }).detail.problems;
  }
  return [];
};

describe("OTP grants", () => {
  it("reads otpEnrollment and otpRequired", () => {
    const p = POLICY_READER.policy(
      {
        ...base,
        otpEnrollment: ["ops", "release-signer"],
        otpRequired: [
          { account: "release-signer", actions: ["kms.sign"], names: ["image-key"] },
          { account: "ops", actions: ["secrets.get"] },
          { account: "any" },
        ],
      },
      "t.json",
    );
    assert.deepEqual(grantEnrollment(p, ["ops"]), { names: ["ops"], refused: [] });
    assert.deepEqual(grantEnrollment(p, ["db"]), { names: ["db"], refused: ["db"] });
    assert.equal(requiredAccount(p, "kms.sign", ["image-key"]), "release-signer");
    assert.equal(requiredAccount(p, "kms.sign", ["other"]), "any");
    assert.equal(requiredAccount(p, "secrets.get", []), "ops");
    const none = POLICY_READER.policy(base, "t.json");
    assert.equal(requiredAccount(none, "kms.sign", ["image-key"]), undefined);
  });
  it("names every problem with its path", () => {
    assert.deepEqual(problemsOf({ otpEnrollment: "ops" }), [
      "$.otpEnrollment: a list of at most 1024 OTP account names",
    ]);
    assert.deepEqual(problemsOf({ otpEnrollment: ["ok", "a:b", 3] }), [
      "$.otpEnrollment[1]: an OTP account name (1-64 of [A-Za-z0-9_.@-])",
      "$.otpEnrollment[2]: an OTP account name (1-64 of [A-Za-z0-9_.@-])",
    ]);
    assert.deepEqual(
      problemsOf({ otpRequired: [{ actions: ["kms.sign"] }, { account: "x", actions: [], extra: 1 }, 5] }),
      [
        "$.otpRequired[0].account: an OTP account name",
        "$.otpRequired[1].extra: unknown field",
        "$.otpRequired[1].actions: a list of 1 to 256 strings",
        "$.otpRequired[2]: an object { account, actions?, names? }",
      ],
    );
    assert.deepEqual(problemsOf({ otpRequired: [{ account: "x", actions: ["Sign"] }] }), [
      '$.otpRequired[0].actions[0]: "Sign" is not valid here',
    ]);
  });
});

const FIXED = "a one-time code is given as ACCOUNT:CODE (account name, then 6 to 8 digits)";

describe("ACCOUNT:CODE", () => {
  it("parses the header and the flag form", () => {
    assert.deepEqual(parsePresentedCode("release-signer:123456"), {
      account: "release-signer",
      code: "123456",
    });
    assert.deepEqual(presentedCodeOf(new Headers({ "keyward-otp": "ops:12345678" })), {
      account: "ops",
      code: "12345678",
    });
    assert.equal(presentedCodeOf(new Headers()), undefined);
    for (const bad of [
      "ops",
      "ops:",
      ":123456",
      "ops:12345",
      "ops:123456789",
      "a:b:123456",
      "ops:12 3456",
      "-x:123456",
    ])
      assert.throws(
        () => parsePresentedCode(bad),
        (e) => isKeywardError(e, "ERR_OTP_INVALID") && !e.message.includes(bad),
      );
  });
  it("property: any text parses or fails with ERR_OTP_INVALID, never echoing it", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (s) => {
        try {
          const p = parsePresentedCode(s);
          assert.match(p.code, /^[0-9]{6,8}$/);
        } catch (e) {
          assert.ok(isKeywardError(e, "ERR_OTP_INVALID"));
          // One fixed message, whatever was given: the value is never echoed.
          assert.equal((e as Error).message, FIXED);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("account names, issuers, roles", () => {
  it("refuses colons, control characters, and over-long values", () => {
    for (const ok of ["ops", "release-signer", "a.b@c_d", "x".repeat(64)])
      assert.equal(checkAccountName(ok), ok);
    for (const bad of ["", "a:b", "-x", "x".repeat(65), "a b", "a/b"])
      assert.throws(
        () => checkAccountName(bad),
        (e) => isKeywardError(e, "ERR_OTP_ACCOUNT_INVALID"),
      );
    for (const ok of ["ACME Trust", "A&B Co", "Ünïcode 信頼"]) assert.equal(checkIssuer(ok), ok);
    for (const bad of ["", "A:B", " lead", "trail ", "a\nb", "x".repeat(129)])
      assert.throws(
        () => checkIssuer(bad),
        (e) => isKeywardError(e, "ERR_OTP_ACCOUNT_INVALID"),
      );
    assert.deepEqual(checkRoles(["admin", "admin", "ops"]), ["admin", "ops"]);
    assert.throws(
      () => checkRoles(["Admin"]),
      (e) => isKeywardError(e, "ERR_OTP_ACCOUNT_INVALID"),
    );
  });
});

describe("sealed secrets and lockouts", () => {
  it("a sealed secret opens only as the account and generation it was sealed for", () => {
    const key = new Uint8Array(randomBytes(32));
    const secret = new Uint8Array(randomBytes(20));
    const sealed = sealOtpSecret(key, "ops", 1, secret);
    assert.deepEqual(openOtpSecret(key, "ops", 1, sealed), secret);
    for (const [name, gen] of [
      ["ops2", 1],
      ["ops", 2],
    ] as const)
      assert.throws(
        () => openOtpSecret(key, name, gen, sealed),
        (e) => isKeywardError(e, "ERR_SERVICE_SECRET_INTEGRITY"),
      );
    const ciphertext = new Uint8Array(sealed.ciphertext);
    ciphertext.set([(ciphertext[14] ?? 0) ^ 1], 14);
    const flipped = { ...sealed, ciphertext };
    assert.throws(
      () => openOtpSecret(key, "ops", 1, flipped),
      (e) => isKeywardError(e, "ERR_SERVICE_SECRET_INTEGRITY"),
    );
  });
  it("lockouts start at the threshold, double, and stop at 15 minutes", () => {
    assert.equal(lockoutMs(4, 5, 30), 0);
    assert.deepEqual(
      [5, 6, 7, 8, 9, 10, 99].map((n) => lockoutMs(n, 5, 30) / 1000),
      [30, 60, 120, 240, 480, 900, MAX_LOCKOUT_SECONDS],
    );
    assert.equal(HARD_FAILURE_LIMIT, 100);
  });
});
