/**
 * The command registry: every command's spec (data, loaded eagerly: help, completion and the tests
 * read it) and its implementation (loaded only when run, so that `keyward quote verify` never loads
 * the server's database code).
 *
 * @module
 */
import type { ExitCode } from "./output.ts";
import * as admin from "./specs/admin.ts";
import * as deploy from "./specs/deploy.ts";
import * as enclave from "./specs/enclave.ts";
import * as licensing from "./specs/licensing.ts";
import * as misc from "./specs/misc.ts";
import * as otp from "./specs/otp.ts";
import * as quote from "./specs/quote.ts";
import * as ratls from "./specs/ratls.ts";
import * as signer from "./specs/signer.ts";
import * as sim from "./specs/sim.ts";
import * as tpm from "./specs/tpm.ts";
import type { CommandSpec, Parsed } from "./specs/types.ts";

/** A command's implementation module. */
export interface CommandModule {
  // biome-ignore lint/suspicious/noExplicitAny: each module narrows it to its own spec
  run(parsed: Parsed<any>): Promise<ExitCode>;
}

/** A registered command. */
export interface RegisteredCommand {
  readonly spec: CommandSpec;
  /** Undefined for `help`, which the dispatcher answers itself. */
  readonly load?: () => Promise<CommandModule>;
}

/** Every command, in the order `keyward help` lists them. */
export const COMMANDS: readonly RegisteredCommand[] = [
  { spec: misc.demo, load: () => import("./commands/demo.ts") },
  { spec: otp.demoOtp, load: () => import("./commands/demo-otp.ts") },
  { spec: quote.quoteInspect, load: () => import("./commands/quote-inspect.ts") },
  { spec: quote.quoteVerify, load: () => import("./commands/quote-verify.ts") },
  { spec: quote.quoteReport, load: () => import("./commands/quote-report.ts") },
  { spec: ratls.ratlsInspect, load: () => import("./commands/ratls-inspect.ts") },
  { spec: ratls.ratlsVerify, load: () => import("./commands/ratls-verify.ts") },
  { spec: tpm.tpmQuote, load: () => import("./commands/tpm-quote.ts") },
  { spec: tpm.tpmVerifyQuote, load: () => import("./commands/tpm-verify-quote.ts") },
  { spec: sim.simInit, load: () => import("./commands/sim-init.ts") },
  { spec: sim.simRefresh, load: () => import("./commands/sim-refresh.ts") },
  { spec: sim.simQuote, load: () => import("./commands/sim-quote.ts") },
  { spec: enclave.enclaveRun, load: () => import("./commands/enclave-run.ts") },
  { spec: enclave.enclaveMeasure, load: () => import("./commands/enclave-measure.ts") },
  { spec: enclave.enclaveVerifyMeasurement, load: () => import("./commands/enclave-verify-measurement.ts") },
  { spec: enclave.enclaveSigstruct, load: () => import("./commands/enclave-sigstruct.ts") },
  { spec: signer.signerKeygen, load: () => import("./commands/signer-keygen.ts") },
  { spec: signer.signerSign, load: () => import("./commands/signer-sign.ts") },
  { spec: signer.signerSignImage, load: () => import("./commands/signer-sign-image.ts") },
  { spec: signer.signerEncrypt, load: () => import("./commands/signer-encrypt.ts") },
  { spec: signer.signerDecrypt, load: () => import("./commands/signer-decrypt.ts") },
  { spec: signer.signerRotate, load: () => import("./commands/signer-rotate.ts") },
  { spec: signer.signerVerifyBundle, load: () => import("./commands/signer-verify-bundle.ts") },
  { spec: signer.signerVerify, load: () => import("./commands/signer-verify.ts") },
  { spec: misc.serve, load: () => import("./commands/serve.ts") },
  { spec: licensing.licensingServe, load: () => import("./commands/licensing-serve.ts") },
  { spec: licensing.licenseSignup, load: () => import("./commands/license-signup.ts") },
  { spec: licensing.licenseLogin, load: () => import("./commands/license-login.ts") },
  { spec: licensing.licenseLaunch, load: () => import("./commands/license-launch.ts") },
  { spec: licensing.licenseConnect, load: () => import("./commands/license-connect.ts") },
  { spec: admin.adminInit, load: () => import("./commands/admin-init.ts") },
  { spec: admin.adminAddClient, load: () => import("./commands/admin-add-client.ts") },
  { spec: admin.adminPutSecret, load: () => import("./commands/admin-put-secret.ts") },
  { spec: admin.adminDeleteSecret, load: () => import("./commands/admin-delete-secret.ts") },
  { spec: admin.adminListSecrets, load: () => import("./commands/admin-list-secrets.ts") },
  { spec: admin.adminCreateKey, load: () => import("./commands/admin-create-key.ts") },
  { spec: admin.adminPutPolicy, load: () => import("./commands/admin-put-policy.ts") },
  { spec: admin.adminDeletePolicy, load: () => import("./commands/admin-delete-policy.ts") },
  { spec: admin.adminListPolicies, load: () => import("./commands/admin-list-policies.ts") },
  { spec: admin.adminExplain, load: () => import("./commands/admin-explain.ts") },
  { spec: admin.adminRotateMasterKey, load: () => import("./commands/admin-rotate-master-key.ts") },
  { spec: admin.adminBackup, load: () => import("./commands/admin-backup.ts") },
  { spec: admin.adminRestore, load: () => import("./commands/admin-restore.ts") },
  { spec: otp.adminOtpCreateAccount, load: () => import("./commands/admin-otp-create-account.ts") },
  { spec: otp.adminOtpListAccounts, load: () => import("./commands/admin-otp-list-accounts.ts") },
  { spec: otp.adminOtpDisableAccount, load: () => import("./commands/admin-otp-disable-account.ts") },
  { spec: otp.adminOtpEnableAccount, load: () => import("./commands/admin-otp-enable-account.ts") },
  { spec: otp.adminOtpReenrollAccount, load: () => import("./commands/admin-otp-reenroll-account.ts") },
  { spec: otp.otpVerify, load: () => import("./commands/otp-verify.ts") },
  { spec: admin.auditRead, load: () => import("./commands/audit-read.ts") },
  { spec: admin.auditVerify, load: () => import("./commands/audit-verify.ts") },
  { spec: deploy.deployKubernetes, load: () => import("./commands/deploy-kubernetes.ts") },
  { spec: misc.explain, load: () => import("./commands/explain.ts") },
  { spec: misc.completion, load: () => import("./commands/completion.ts") },
  { spec: misc.help },
];

/** The command named by the first words of `argv` (three words before two before one), and how many it took. */
export function findCommand(
  argv: readonly string[],
): { command: RegisteredCommand; words: number } | undefined {
  for (const words of [3, 2, 1]) {
    const name = argv.slice(0, words).join(" ");
    if (argv.length < words) continue;
    const command = COMMANDS.find((c) => c.spec.name === name);
    if (command !== undefined) return { command, words };
  }
  return undefined;
}

/** The groups ("quote", "admin", …): the first word of every two-word command. */
export function groups(): string[] {
  return [
    ...new Set(
      COMMANDS.map((c) => c.spec.name.split(" "))
        .filter((w) => w.length === 2)
        .map((w) => w[0] as string),
    ),
  ];
}
